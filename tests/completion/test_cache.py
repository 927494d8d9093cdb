"""The completion cache: exact prompts, typing through a shown suggestion, bounds."""

from __future__ import annotations

from housecoder.completion.cache import CompletionCache, Remembered


def test_exact_prompt_and_typed_through() -> None:
    cache = CompletionCache(4)
    cache.put("P", "json.load(f)", path="a.py", prefix="return ", suffix="\n")
    assert cache.get("P") == Remembered("json.load(f)")
    assert cache.typed_through("a.py", "return js", "\n") == Remembered("on.load(f)")
    assert cache.typed_through("a.py", "return jx", "\n") is None  # typed something else
    assert cache.typed_through("a.py", "return json.load(f)", "\n") is None  # typed all of it
    assert cache.typed_through("b.py", "return js", "\n") is None  # another file
    assert cache.typed_through("a.py", "return js", ")\n") is None  # the text after the cursor changed


def test_capacity_bounds_both_tables_and_zero_disables() -> None:
    cache = CompletionCache(2)
    for i in range(5):
        cache.put(f"P{i}", f"c{i}", path="a.py", prefix=f"x{i}", suffix="")
    assert cache.get("P0") is None and cache.get("P4") == Remembered("c4")
    assert cache.typed_through("a.py", "x0c", "") is None
    disabled = CompletionCache(0)
    disabled.put("P", "c", path="a.py", prefix="", suffix="")
    assert disabled.get("P") is None


def test_a_hidden_answer_keeps_its_probability_and_is_not_typed_through() -> None:
    cache = CompletionCache(4)
    scored = {"mean_logprob": -0.2}
    cache.put("Q", "json.dump(f)", path="a.py", prefix="return ", suffix="\n", p_keep=0.9, signals=scored)
    cache.put("P", "json.load(f)", path="a.py", prefix="return ", suffix="\n", p_keep=0.1, shown=False)
    assert cache.get("P") == Remembered("json.load(f)", 0.1)
    # the hidden answer also forgets what an older prompt showed at the same cursor
    assert cache.typed_through("a.py", "return js", "\n") is None
    cache.show("a.py", "return ", "\n", Remembered("json.load(f)", 0.1, scored))  # asked for: shown after all
    assert cache.typed_through("a.py", "return js", "\n") == Remembered("on.load(f)", 0.1, scored)
