"""One piece of context: a span of another file, where it came from and why it was picked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContextSnippet:
    """Lines `start_line`..`end_line` (1-based, inclusive) of `path`, with the source that found them."""

    path: str
    start_line: int
    end_line: int
    text: str
    source: str  # "definition", "retrieval" or "open-document"
    reason: str  # for people: "definition of load_config", "hybrid search #2", ...
    score: float = 0.0
    # a window found by its likeness to the lines above the cursor (`score`: identifier Jaccard)
    look_alike: bool = False

    def overlaps(self, other: ContextSnippet) -> bool:
        return (
            self.path == other.path
            and self.start_line <= other.end_line
            and other.start_line <= self.end_line
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "source": self.source,
            "reason": self.reason,
            "score": round(self.score, 4),
            "text": self.text,
        }


def clip_lines(text: str, max_lines: int) -> tuple[str, int]:
    """The first `max_lines` lines of `text` and how many lines were kept."""
    lines = text.rstrip("\n").split("\n")
    kept = lines[:max_lines]
    return "\n".join(kept), len(kept)
