"""A remote engine behind the OpenAI-compatible `/v1/completions` API (vLLM, TGI, llama.cpp server, ...).

The raw FIM prompt is sent as `prompt` with `stream: true`; the stop conditions
are checked on the streamed text as it arrives and the connection is closed as
soon as one holds (or the request is cancelled), which makes vLLM and the
llama.cpp server abort the generation. The adapter is passed as the model name:
vLLM serves many LoRA adapters on one base (`--lora-modules NAME=PATH`), so
`set_adapter(path)` selects the adapter served under `path.name`.

Token budgets are still counted locally with the model's own tokenizer (the
engine must serve the same model). Only the standard library is used.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from housecoder.config import InferenceConfig
from housecoder.errors import first_line
from housecoder.inference.base import Cancellation, Generation, GenerationRequest
from housecoder.inference.stopping import Decoding
from housecoder.models.errors import ModelError
from housecoder.prompt.fim import strip_controls


def _events(response: Any) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent event stream, up to `[DONE]`."""
    for raw in response:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except json.JSONDecodeError as err:
            raise ModelError(f"the engine sent a malformed event: {data[:80]!r}") from err


class OpenAIBackend:
    """Completions from an OpenAI-compatible HTTP engine."""

    runtime = "openai"
    # the completions API has no way to constrain the first tokens: the engine sends today's layout
    heals = False

    def __init__(
        self,
        config: InferenceConfig,
        count_tokens: Callable[[str], int],
        *,
        model_name: str,
        api_key: str | None = None,
    ) -> None:
        if not config.url:
            raise ModelError("inference.runtime is 'openai' but inference.url is not set")
        self.config = config
        self.url = config.url.rstrip("/").removesuffix("/v1") + "/v1/completions"
        self._count = count_tokens
        self.base_model = config.remote_model or model_name
        self.api_key = api_key
        self._adapter: Path | None = None

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    @property
    def adapter(self) -> Path | None:
        return self._adapter

    @property
    def model_name(self) -> str:
        """What goes in the request's `model` field: the adapter's served name, else the base model."""
        return self._adapter.name if self._adapter else self.base_model

    def set_adapter(self, adapter: Path | None) -> None:
        self._adapter = adapter

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "model_path": self.url,
            "device": "remote",
            "adapter": self.model_name if self._adapter else None,
        }

    def _post(self, request: GenerationRequest) -> Any:
        body = {
            "model": self.model_name,
            "prompt": request.prompt,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "stream": True,
            "cache_prompt": True,  # llama.cpp server: reuse the KV of the previous prompt (others ignore it)
            "logprobs": 2,  # each token's log-probability and the runner-up's, where the engine gives them
        }
        if request.stop_strings:
            body["stop"] = list(request.stop_strings)[:4]
        if not request.end_of_text:
            body["ignore_eos"] = True  # vLLM and the llama.cpp server; others ignore it
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        http = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            return urllib.request.urlopen(http, timeout=self.config.timeout_s)
        except urllib.error.HTTPError as err:
            detail = err.read(2000).decode("utf-8", "replace")
            try:
                message = json.loads(detail).get("error", detail)
                detail = message.get("message", str(message)) if isinstance(message, dict) else str(message)
            except (json.JSONDecodeError, AttributeError):
                pass
            detail = (detail.strip().splitlines() or [err.reason])[0][:200]
            raise ModelError(f"{self.url}: the engine answered {err.code}: {detail}") from err
        except (urllib.error.URLError, OSError) as err:
            reason = (
                err.reason
                if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException)
                else err
            )
            raise ModelError(f"{self.url}: cannot reach the engine: {first_line(reason)}") from err

    def generate(self, request: GenerationRequest, cancel: Cancellation | None = None) -> Generation:
        decoding, pieces = Decoding(request, cancel), 0
        if decoding.cancelled():
            pass  # before the call: nothing is sent
        elif request.max_new_tokens == 0:
            pass  # a prefill-only request (idle warming): the remote engine manages its own cache
        else:
            with self._post(request) as response:
                try:
                    for event in _events(response):
                        choices = event.get("choices") or [{}]
                        piece = choices[0].get("text") or ""
                        finish = choices[0].get("finish_reason")
                        for logprob, margin in _scores(choices[0].get("logprobs")):
                            decoding.scored(logprob, margin)
                        if piece:
                            pieces += 1
                            decoding.token()
                            decoding.show(decoding.text + piece)
                        if decoding.cancelled() or decoding.stopped(piece):
                            break
                        if finish:
                            decoding.stopped_by = "length" if finish == "length" else "eos"
                            break
                except TimeoutError as err:
                    raise ModelError(
                        f"{self.url}: the engine stopped answering ({self.config.timeout_s:.0f} s)"
                    ) from err
        decoding.text = strip_controls(decoding.text)  # an engine may send control tokens as text
        return decoding.result(prompt_tokens=self.count_tokens(request.prompt), new_tokens=pieces)


def _scores(logprobs: Any) -> list[tuple[float, float]]:
    """(log-probability, lead over the runner-up) of each token in a streamed event's `logprobs` (the completions
    API's `token_logprobs` and `top_logprobs`); nothing where the engine sent none or another shape."""
    if not isinstance(logprobs, dict):
        return []
    chosen, tops = logprobs.get("token_logprobs") or [], logprobs.get("top_logprobs") or []
    tokens = logprobs.get("tokens") or []
    scores = []
    for index, logprob in enumerate(chosen):
        if not isinstance(logprob, (int, float)):
            continue
        top = tops[index] if index < len(tops) and isinstance(tops[index], dict) else {}
        token = tokens[index] if index < len(tokens) else None
        others = [value for key, value in top.items() if key != token and isinstance(value, (int, float))]
        scores.append((float(logprob), float(logprob) - max(others) if others else 0.0))
    return scores
