"""Why a completion request showed what it showed, or nothing: the last one is in `housecoder.status`, each
document's in its `housecoder.lastCompletion` trace, for the editors' "why no suggestion"."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from housecoder.completion import CompletionOutput

SNIPPET_CHARS = 60  # of a removed text, in the reason


@dataclass(frozen=True)
class Decision:
    """The answer to one request: shown or not, and why in one line (`at`: when, ISO 8601 UTC)."""

    uri: str
    line: int
    character: int
    shown: bool
    reason: str
    at: str

    @classmethod
    def now(cls, uri: str, line: int, character: int, shown: bool, reason: str) -> Decision:
        return cls(uri, line, character, shown, reason, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def explain(output: CompletionOutput) -> tuple[bool, str]:
    """Whether a finished completion shows anything, and why (or why not) in one line."""
    if not output.trigger.complete:
        return False, f"not triggered: {output.trigger.reason}"
    stopped = f"stopped by {output.stopped_by}" if output.stopped_by else "no stop reason"
    if output.stopped_by == "unlikely":
        return False, "hidden: the keep-probability could no longer reach completion.min_keep (stopped early)"
    if output.hidden:
        return False, f"hidden: keep-probability {output.p_keep or 0.0:.2f} under completion.min_keep"
    if output.text:
        source = f", from the cache ({output.cached})" if output.cached else ""
        return True, f"shown: {len(output.text)} characters ({output.trigger.reason}{source})"
    if output.raw.strip():
        text = output.raw.strip()
        cut = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"
        return False, f"post-processing removed what the model wrote ({stopped}): {cut!r}"
    return False, f"the model wrote nothing ({stopped})"
