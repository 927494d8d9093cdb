"""Finding a suggestion's place again, and what is left of it (pure)."""

from __future__ import annotations

from housecoder.feedback.retention import locate, retained

BEFORE = "import json\n\n\ndef load(path):\n    with open(path) as f:\n        return "
AFTER = "\n\n\ndef save(path, data):\n    pass\n"


def test_an_untouched_suggestion_is_all_kept() -> None:
    document = BEFORE + "json.load(f)" + AFTER
    found = retained("json.load(f)", document, BEFORE, AFTER, len(BEFORE))
    assert found is not None and found.now == "json.load(f)" and found.kept_chars == 12 and found.share == 1.0


def test_an_edited_suggestion_keeps_what_is_left_in_order() -> None:
    document = BEFORE + "json.loads(f.read())" + AFTER
    found = retained("json.load(f)", document, BEFORE, AFTER, len(BEFORE))
    assert found is not None and found.now == "json.loads(f.read())"
    assert found.kept_chars == 12  # every character of the suggestion is still there, in order
    shorter = retained("json.load(f)", BEFORE + "{}" + AFTER, BEFORE, AFTER, len(BEFORE))
    assert shorter is not None and shorter.kept_chars == 0 and shorter.now == "{}"


def test_edits_elsewhere_move_the_place() -> None:
    document = (
        "# a header the user added\n"
        + BEFORE.replace("import json", "import json\nimport os")
        + "json.load(f)"
        + AFTER
    )
    found = retained("json.load(f)", document, BEFORE, AFTER, len(BEFORE))
    assert found is not None and found.now == "json.load(f)"


def test_the_nearest_of_repeated_anchors_wins() -> None:
    twice = BEFORE + "json.load(f)" + AFTER + BEFORE + "yaml.safe_load(f)" + AFTER
    second = len(BEFORE + "json.load(f)" + AFTER + BEFORE)
    assert twice[slice(*locate(twice, BEFORE, AFTER, second))] == "yaml.safe_load(f)"  # type: ignore[misc]
    assert twice[slice(*locate(twice, BEFORE, AFTER, len(BEFORE)))] == "json.load(f)"  # type: ignore[misc]


def test_a_place_that_is_gone_is_none() -> None:
    assert retained("json.load(f)", "print('rewritten')\n", BEFORE, AFTER, len(BEFORE)) is None
    assert retained("x", "", BEFORE, AFTER, 0) is None


def test_a_cursor_at_the_end_of_the_file() -> None:
    found = retained("return 1", "def f():\n    return 1", "def f():\n    ", "", 13)
    assert found is not None and found.now == "return 1"
