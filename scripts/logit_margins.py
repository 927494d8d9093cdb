"""How far each real-model test's asserted text is from a near tie, on this machine's llama.cpp build.

llama.cpp's AVX2 and AVX-512 kernels do not give bit-identical logits (nor do different batch shapes:
up to ~0.6 in a logit here), so a greedy step whose top two logits are close can go either way on
another CPU. For every real-model test that asserts text, this runs the test's own prompt through the
default model, greedy, and at each step that decides what the test asserts (the tokens that write the
text, and the step that ends it where the test asserts the end) takes the decisive margin: the chosen
token's logit minus that of the best token that would have changed the asserted outcome. Tokens that
write the same text another way (`)` then a newline, or `)\n` at once) are no tie. It prints the smallest
per test: a margin of a few logits is safe on any CPU; below ~1 the test asserts a near tie.

    .venv/bin/python scripts/logit_margins.py            # prints one line per asserted text
    .venv/bin/python scripts/logit_margins.py --json out.json

The llama.cpp build it measures is whichever `llama_cpp` imports first (PYTHONPATH puts another build
first; docs/guide/development.md says how to build one for AVX2 only). The shop case indexes the
fixture repository into a temporary directory (the real embedder), as tests/e2e/test_real_model.py does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "inference"))  # the test module's own prompts

import test_llamacpp_backend as cases  # noqa: E402

from housecoder.config import InferenceConfig, InferenceTuning, Settings  # noqa: E402
from housecoder.inference.base import GenerationRequest  # noqa: E402
from housecoder.inference.llamacpp_backend import LlamaCppBackend  # noqa: E402
from housecoder.prompt import build_fim_prompt  # noqa: E402

TOP = 64  # the runner-ups looked at per step; a step none of whose top 64 changes the outcome is decided by more


@dataclass
class Step:
    chosen: int
    ids: np.ndarray  # the TOP best token ids among those the step chose from, best first
    logits: np.ndarray  # their logits


@dataclass
class Recorder:
    """Wraps the backend's token choices: at each step the chosen token and the best TOP candidates among the
    tokens it was chosen from (all, the healing set, or all but the stop tokens)."""

    backend: LlamaCppBackend
    steps: list[Step] = field(default_factory=list)
    dropped: bytes = b""  # what token healing dropped from the last prompt (its first steps write it)

    def _step(self, chosen: int, logits: np.ndarray, ids: np.ndarray | None = None) -> Step:
        top = np.argsort(logits)[::-1][:TOP]
        return Step(chosen, ids[top] if ids is not None else top, logits[top])

    def install(self) -> None:
        from housecoder.inference import llamacpp_backend

        backend, llm, plan = self.backend, self.backend.llm, llamacpp_backend.plan_healing

        def recorded_plan(*args: Any, **kwargs: Any) -> Any:
            ids, healing = plan(*args, **kwargs)
            self.dropped = healing.dropped if healing is not None else b""
            return ids, healing

        llamacpp_backend.plan_healing = recorded_plan  # type: ignore[assignment]
        sample, among, other = llm.sample, backend._among, backend._other_than_stops

        def recorded_sample(*args: Any, **kwargs: Any) -> int:
            logits = backend.last_logits()
            token = int(sample(*args, **kwargs))
            self.steps.append(self._step(token, logits))
            return token

        def recorded_among(allowed: np.ndarray, temperature: float) -> int:
            token = among(allowed, temperature)
            self.steps.append(self._step(token, backend.last_logits()[allowed], allowed))
            return token

        def recorded_other(temperature: float) -> int:
            logits = backend.last_logits()
            logits[backend.stop_ids] = -np.inf
            token = other(temperature)
            self.steps[-1] = self._step(token, logits)  # replaces the stop token sample chose
            return token

        llm.sample = recorded_sample  # type: ignore[method-assign]
        backend._among = recorded_among  # type: ignore[method-assign]
        backend._other_than_stops = recorded_other  # type: ignore[method-assign]


@dataclass
class Case:
    name: str
    test: str
    expected: str
    run: Callable[[LlamaCppBackend], str]
    # what the test asserts of the text: "prefix" it starts with `expected`; "line" it is `expected` and the
    # line ends there; "eos" it starts with `expected` and end-of-text follows; "no-space" its first
    # character is not a space (`expected` unused)
    mode: str = "line"


def _keeps(case: Case, dropped: bytes, written: bytes, piece: bytes | None) -> bool:
    """Whether writing `piece` (None: end-of-text) after `written` still gives the asserted outcome."""
    target = dropped + case.expected.encode()
    if piece is None:
        return written == target if case.mode in ("line", "eos") else len(written) > len(dropped)
    text = written + piece
    if case.mode == "no-space":
        return dropped.startswith(text) or (
            text.startswith(dropped) and text[len(dropped) : len(dropped) + 1] != b" "
        )
    if target.startswith(text):
        return True
    if not text.startswith(target):
        return False
    return case.mode == "prefix" or (case.mode == "line" and text[len(target) : len(target) + 1] == b"\n")


def decisive_margins(recorder: Recorder, case: Case) -> list[tuple[float, bytes | None]]:
    """For each step that decides the asserted outcome: the chosen token's logit minus the best logit of a
    token that would have changed the outcome, and that token's bytes (None: end-of-text)."""
    backend = recorder.backend
    written, found = b"", []
    for step in recorder.steps:
        piece_of = lambda token: None if token in backend.stop_ids else backend.vocabulary.piece(int(token))  # noqa: E731
        chosen_logit = (
            step.logits[list(step.ids).index(step.chosen)] if step.chosen in step.ids else step.logits[0]
        )
        worst: tuple[float, bytes | None] = (float(chosen_logit - step.logits[-1]), b"(none in the top 64)")
        for token, logit in zip(step.ids, step.logits, strict=True):
            if token != step.chosen and not _keeps(case, recorder.dropped, written, piece_of(token)):
                worst = (float(chosen_logit - logit), piece_of(token))
                break
        found.append(worst)
        piece = piece_of(step.chosen)
        if piece is None or _decided(case, recorder.dropped, written + piece):
            break
        written += piece
    return found


def _decided(case: Case, dropped: bytes, written: bytes) -> bool:
    """Whether the outcome the test asserts is settled once `written` is (the end needs one more step in "eos")."""
    target = dropped + case.expected.encode()
    if case.mode == "no-space":
        return len(written) > len(dropped)
    if case.mode == "prefix":
        return len(written) >= len(target)
    return len(written) > len(target) if case.mode == "line" else False


def _direct(prompt: str, **request: Any) -> Callable[[LlamaCppBackend], str]:
    def run(backend: LlamaCppBackend) -> str:
        return backend.generate(GenerationRequest(prompt, **request)).text

    return run


def _engine(repo: Path, path: str, line: int, col: int, indexed: bool) -> Callable[[LlamaCppBackend], str]:
    """The completion pipeline at a cursor (line and col 0-based), as the CLI and the server run it."""

    def run(backend: LlamaCppBackend) -> str:
        from housecoder.completion import CompletionEngine, CompletionInput

        with tempfile.TemporaryDirectory() as index:
            settings = Settings.model_validate(
                {"index": {"location": index}, "completion": {"max_ms": 0}, "models": {"offline": True}}
            )
            retriever = None
            if indexed:
                from housecoder.indexer.service import index_repository, open_retriever
                from housecoder.models.store import store_for

                index_repository(repo, settings, store_for(settings))
                retriever = open_retriever(repo, settings)
            text = (repo / path).read_text()
            offset = sum(len(item) + 1 for item in text.split("\n")[:line]) + col
            engine = CompletionEngine(backend, settings, repo_name=repo.name, retriever=retriever)
            return engine.complete(CompletionInput(path, text, offset, "python")).text

    return run


def all_cases() -> list[Case]:
    opening = build_fim_prompt(
        prefix=cases.OPEN_BEFORE, suffix=cases.OPEN_AFTER, path="cfg.py", repo_name="r"
    )
    typed_space = "def greet(name: str, greeting: "
    found = [
        Case(
            "first line after reuse",
            "test_reuse_computes_the_same_distribution_as_a_cold_run",
            "return json.load(f)",
            _direct(cases._typing(cases.CONFIG, "", "cfg.py")[0], max_new_tokens=10),
            mode="prefix",
        ),
        Case(
            "ends with end-of-text",
            "test_without_end_of_text_the_model_writes_on_past_where_it_would_stop",
            "path, 'r'",
            _direct(opening, max_new_tokens=24),
            mode="eos",
        ),
        Case(
            "writes on without end-of-text",
            "test_without_end_of_text_the_model_writes_on_past_where_it_would_stop",
            "path, 'r'",
            _direct(opening, max_new_tokens=24, end_of_text=False),
            mode="prefix",
        ),
    ]
    for before, typed, after, expected in cases.HEALING:
        prompt = build_fim_prompt(prefix=before, suffix=after, middle=typed)
        found.append(
            Case(
                f"healing {typed.strip()!r}",
                "test_line_start_layout_with_healing_continues_the_typed_text",
                expected,
                _direct(prompt, max_new_tokens=16, single_line=True, typed=typed, heal_tokens=4),
            )
        )
    found.append(
        Case(
            "no second space",
            "test_after_a_typed_space_the_model_does_not_write_another",
            "",
            _direct(
                build_fim_prompt(prefix="", suffix=cases.GREET_SUFFIX, middle=typed_space),
                max_new_tokens=12,
                single_line=True,
                typed=typed_space,
                heal_tokens=4,
            ),
            mode="no-space",
        )
    )
    examples = ROOT / "examples"
    found.append(
        Case(
            "the demo (CLI)",
            "tests/test_real_model.py",
            "return json.load(f)",
            _engine(examples, "config_loader.py", 9, 8, indexed=False),
        )
    )
    shop = ROOT / "tests" / "fixtures" / "shop"
    found.append(
        Case(
            "cross-file call (server, Neovim, VS Code)",
            "tests/e2e/test_real_model.py",
            "price_with_vat(order.net_cents, order.country_code)",
            _engine(shop, "shop/checkout.py", 8, 11, indexed=True),
        )
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the margins to this file")
    args = parser.parse_args()
    import llama_cpp

    from housecoder.models.store import store_for

    system = llama_cpp.llama_print_system_info().decode()
    print(f"llama.cpp {llama_cpp.__version__} from {Path(llama_cpp.__file__).parent}: {system}")
    store = store_for(Settings())
    model = store.resolve("qwen2.5-coder-1.5b-instruct", "code", pull=False).path
    from housecoder.completion.loading import gguf_of

    gguf = gguf_of(model)
    assert gguf is not None
    backend = LlamaCppBackend(
        gguf,
        InferenceConfig(
            tuning=InferenceTuning(kv_cache_entries=3, prefill_chunk_tokens=16, context_tokens=1024)
        ),
    )
    recorder = Recorder(backend)
    recorder.install()
    rows = []
    for case in all_cases():
        recorder.steps.clear()
        recorder.dropped = b""
        text = case.run(backend)
        backend._forget()
        decisive = decisive_margins(recorder, case)
        worst = min(range(len(decisive)), key=lambda i: decisive[i][0])
        margin, other = decisive[worst]
        target = case.expected
        ok = {
            "prefix": text.startswith(target),
            "line": text == target,
            "eos": text.startswith(target),
            "no-space": bool(text) and not text.startswith(" "),
        }[case.mode]
        rows.append(
            {
                "case": case.name,
                "test": case.test,
                "asserts": case.mode,
                "text": text,
                "as_asserted": ok,
                "steps": len(decisive),
                "min_margin": round(margin, 2),
                "at_step": worst,
                "instead": "<end-of-text>" if other is None else other.decode("utf-8", "replace"),
            }
        )
        print(
            f"{case.name:42} {case.mode:8} margin {margin:6.2f} at step {worst:>2} of {len(decisive):>2} "
            f"(instead {rows[-1]['instead']!r})  {'as asserted' if ok else 'DIFFERS'}: {text!r}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"system": system, "cases": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
