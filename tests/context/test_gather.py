"""Running the context sources under time budgets, with failures and slow sources left out."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from context_budgets import ROOMY, roomy

from housecoder.config import ContextConfig
from housecoder.context import ContextRequest, ContextSnippet, OpenDocument, gather, plan


class FakeRetriever:
    def __init__(self, hold: threading.Event | None = None, fail: bool = False) -> None:
        self.hold, self.fail = hold, fail  # `hold`: search waits until it is set
        self.asked: list[tuple[str, ...]] = []

    def definitions(self, names: Sequence[str], exclude_path: str, max_lines: int) -> list[ContextSnippet]:
        self.asked.append(tuple(names))
        if self.fail:
            raise RuntimeError("index is broken\nsecond line")
        return [
            ContextSnippet(
                "lib/geo.py",
                3,
                4,
                "def scale_point(p, k):\n    return p * k",
                "definition",
                "definition of scale_point",
            )
        ]

    def search(self, query: str, exclude_path: str, k: int, max_lines: int) -> list[ContextSnippet]:
        if self.hold is not None:
            self.hold.wait(60)
        return [ContextSnippet("lib/other.py", 1, 1, "HELPER = 1", "retrieval", "hybrid search #1")]

    def similar(
        self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
    ) -> list[ContextSnippet]:
        self.asked.append(("similar", query, str(follow)))
        return [
            ContextSnippet(
                "lib/shapes.py",
                7,
                8,
                "def shrink(p):\n    return scale_point(p, 0.5)",
                "retrieval",
                "similar window 0.40",
            )
        ]


REQUEST = ContextRequest("app/main.py", "python", "def enlarge(p):\n    return scale_point(", ")\n")


def words(text: str) -> int:
    return len(text.split())


def test_all_sources_contribute_and_are_timed() -> None:
    retriever = FakeRetriever()
    docs = [
        OpenDocument("app/util.py", "def enlarge_twice(p):\n    return enlarge(enlarge(p))\n"),
        OpenDocument("app/main.py", "def enlarge(p): pass"),
    ]
    result = gather(
        ContextRequest(REQUEST.path, "python", REQUEST.prefix, REQUEST.suffix, docs),
        # in the sources' order (by default the look-alike util.py is first)
        ContextConfig(**roomy(strong_window=1.0)),
        words,
        retriever,
    )
    assert [s.path for s in result.snippets] == ["lib/geo.py", "lib/shapes.py", "lib/other.py", "app/util.py"]
    assert all(s.path != "app/main.py" for s in result.snippets)
    assert set(result.timings) == {"definitions", "similar", "retrieval", "open_documents", "assemble"}
    assert ("similar", "def enlarge(p):", "5") in retriever.asked  # settled lines only
    assert retriever.asked[0] == ("scale_point", "enlarge")  # one-letter names are not looked up


def test_a_slow_source_is_left_out_within_its_budget() -> None:
    config = ContextConfig(**roomy(retrieval_ms=50))
    hold = threading.Event()
    retriever = FakeRetriever(hold)
    try:
        result = gather(REQUEST, config, words, retriever)
        # the search cannot answer before `hold` is set: gather answering at all means it did not wait for it
    finally:
        hold.set()
    assert "retrieval" in result.skipped and [s.path for s in result.snippets] == [
        "lib/geo.py",
        "lib/shapes.py",
    ]


def test_a_failing_source_is_reported_in_one_line() -> None:
    result = gather(REQUEST, ContextConfig(**ROOMY), words, FakeRetriever(fail=True))
    assert result.skipped["definitions"] == "failed: index is broken"
    assert [s.path for s in result.snippets] == ["lib/shapes.py", "lib/other.py"]


def test_disabled_or_zero_budget_gives_nothing() -> None:
    assert gather(REQUEST, ContextConfig(enabled=False), words, FakeRetriever()).snippets == []
    assert gather(REQUEST, ContextConfig(max_tokens=0), words, FakeRetriever()).snippets == []


def test_the_plan_reads_settled_text_only() -> None:
    config = ContextConfig()
    typing = [
        ContextRequest("a.py", "python", "import os\n\ndef f(path):\n    x = os.pa"[: -n or None], "\n")
        for n in (0, 1, 2)
    ]
    plans = [plan(request, config) for request in typing]
    assert plans[0] == plans[1]  # "os.pa" and "os.p": the word at the cursor is not a name yet
    assert plans[0].query == "import os\n\ndef f(path):"  # the cursor line is still being typed
    assert "pa" not in plans[0].names and "os" in plans[0].names
    first_line = plan(ContextRequest("a.py", "python", "load_conf", ""), config)
    assert first_line.query == "load_conf"  # nothing above: the cursor line is all there is


def test_the_partial_word_is_cut_as_an_identifier_starts() -> None:
    from housecoder.context.gather import without_partial_word

    assert without_partial_word("self.conv") == "self."
    assert without_partial_word("x = 12ab") == "x = 12"  # a word starts at a letter, not a digit
    assert without_partial_word("f(a_$1") == "f("
    assert without_partial_word("done ") == "done " and without_partial_word("") == ""


def test_every_window_source_shows_its_windows_moved_on_by_window_follow() -> None:
    retriever = FakeRetriever()
    far = "\n".join(f"step_{i} = run_step({i})" for i in range(30))
    prefix = far + "\npad = 0\nstep_1 = run_step(1)\n"
    doc = OpenDocument("app/steps.py", "step_1 = run_step(1)\nstep_2 = run_step(2)\nfinal = finish()\n")
    request = ContextRequest("app/main.py", "python", prefix, "", (doc,), hidden=((1, far),))
    config = ContextConfig(**roomy(window_follow=2, window_lines=2), definitions=False, retrieval=False)
    result = gather(request, config, words, retriever)
    assert [asked[2] for asked in retriever.asked if asked[0] == "similar"] == ["2"]
    in_file = [s for s in result.snippets if s.source == "in-file"]
    assert in_file[0].start_line == 3  # the best match (lines 1-2, the first of a tie) is shown from line 3
    opened = next(s for s in result.snippets if s.path == "app/steps.py")
    assert opened.text.split("\n")[-1] == "final = finish()"


def _window(path: str, score: float) -> ContextSnippet:
    return ContextSnippet(
        path, 1, 20, f"{path} = {score}", "retrieval", f"similar window {score}", score, True
    )


def test_strong_look_alike_windows_go_first_and_leave_their_source() -> None:
    from housecoder.context.gather import promote_strong

    imports = ContextSnippet("app/main.py", 1, 3, "import os", "in-file", "imports of this file", 1.0)
    definition = ContextSnippet("lib/a.py", 1, 2, "def a(): ...", "definition", "definition of a", 1.0)
    weak, strong, in_file = (
        _window("w/weak.py", 0.2),
        _window("w/strong.py", 0.5),
        _window("app/main.py", 0.4),
    )
    sources = [[imports, in_file], [definition], [strong, weak]]
    assert promote_strong(sources, 0.3) == [[strong, in_file], [imports], [definition], [weak]]
    assert promote_strong(sources, 1.0) == [[], *sources]  # 1: the sources' order as it was
    twin = _window("w/twin.py", 1.0)  # exactly the query's names: still in its place at 1
    assert promote_strong([[imports], [twin]], 1.0) == [[], [imports], [twin]]
    assert promote_strong([[imports], [twin]], 0.99)[0] == [twin]
    assert promote_strong(sources, 0.0)[0] == [strong, in_file, weak]  # never a definition or import block


def test_a_strong_window_is_not_crowded_out_by_definitions_within_a_small_budget() -> None:
    class Crowded(FakeRetriever):
        def definitions(
            self, names: Sequence[str], exclude_path: str, max_lines: int
        ) -> list[ContextSnippet]:
            return [ContextSnippet(f"lib/d{i}.py", 1, 1, "d = 1 " * 5, "definition", "d") for i in range(4)]

        def similar(
            self, query: str, exclude_path: str, k: int, max_lines: int, follow: int = 0
        ) -> list[ContextSnippet]:
            return [ContextSnippet("lib/twin.py", 1, 2, "twin " * 20, "retrieval", "w 0.6", 0.6, True)]

    in_place = ContextConfig(**roomy(strong_window=1.0), max_tokens=30, retrieval=False)
    assert "lib/twin.py" not in [s.path for s in gather(REQUEST, in_place, words, Crowded()).snippets]
    promoted = gather(REQUEST, ContextConfig(**ROOMY, max_tokens=30, retrieval=False), words, Crowded())
    assert promoted.snippets[0].path == "lib/twin.py"
