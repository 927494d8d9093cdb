"""Sliding windows over open documents, ranked by identifier Jaccard."""

from __future__ import annotations

from housecoder.context.windows import best_windows, windows


def test_windows_overlap_by_half_and_cover_the_end() -> None:
    text = "\n".join(f"l{i}" for i in range(1, 11))
    found = windows(text, 4)
    assert [first for first, _ in found] == [1, 3, 5, 7]
    assert found[-1][1].endswith("l10")


def test_best_windows_picks_the_similar_window_and_skips_overlaps() -> None:
    other = "\n".join(
        ["unrelated = 1"] * 10
        + ["def parse_header(raw_bytes, offset):", "    return raw_bytes[offset:]"]
        + ["zzz = 2"] * 10
    )
    found = best_windows(
        "header = parse_header(raw_bytes, offset", [("b.py", other)], size=4, k=3, min_similarity=0.1
    )
    assert found and "parse_header" in found[0].text and found[0].source == "open-document"
    assert not any(a.overlaps(b) for i, a in enumerate(found) for b in found[i + 1 :])


def test_best_windows_respects_the_similarity_floor() -> None:
    assert best_windows("alpha beta", [("b.py", "gamma delta\n")], size=4, k=3, min_similarity=0.1) == []


def test_window_index_ranks_by_jaccard_and_leaves_out_the_current_file() -> None:
    from housecoder.context.windows import WindowIndex

    files = [
        ("a.py", "total = price * quantity\ntax = total * rate", 1),
        ("b.py", "total = price * quantity", 1),
        ("c.py", "unrelated = other_name", 1),
    ]
    index = WindowIndex(files, 4)
    found = index.search("total = price * quantity", exclude_path="b.py", k=3, max_lines=4)
    assert [(s.path, round(s.score, 2)) for s in found] == [("a.py", 0.6)]  # 3 shared of 5 names
    assert index.search("total = price * quantity", exclude_path=None, k=3, max_lines=4)[0].path == "b.py"
    assert index.search("nothing_shared", exclude_path=None, k=3, max_lines=4) == []
    assert (
        index.search("total tax", exclude_path=None, k=3, max_lines=1)[0].text == "total = price * quantity"
    )


def test_a_window_shown_further_on_holds_the_line_after_the_look_alike_stretch() -> None:
    from housecoder.context.windows import WindowIndex

    filler = [f"unrelated_{i} = {i}" for i in range(7)]
    body = ["rows = load_rows(path)", "rows = clean_rows(rows)", "report = build_report(rows)"]
    tail = ["save_report(report, target)", "notify_owner(report)", "done_marker = True", "last_line = 1"]
    index = WindowIndex([("lib/other.py", "\n".join(filler + body + tail), 1)], 3)
    query = "rows = load_rows(path)\nrows = clean_rows(rows)\nreport = build_report(rows)"
    unmoved = index.search(query, exclude_path=None, k=1, max_lines=3)[0]
    moved = index.search(query, exclude_path=None, k=1, max_lines=3, follow=2)[0]
    assert unmoved.text == query and unmoved.score == moved.score == 1.0
    assert moved.text.split("\n") == ["report = build_report(rows)", *tail[:2]]
    assert (moved.start_line, moved.end_line) == (unmoved.start_line + 2, unmoved.end_line + 2)


def test_a_window_at_the_end_of_its_text_moves_only_as_far_as_the_text_goes() -> None:
    from housecoder.context.windows import WindowIndex

    lines = [f"name_{i} = other_{i}" for i in range(6)] + ["shared_name = shared_value(x)"]
    index = WindowIndex([("a.py", "\n".join(lines), 10)], 4)
    found = index.search("shared_name = shared_value(x)", exclude_path=None, k=1, max_lines=4, follow=3)
    assert found[0].text.split("\n") == lines[4:]  # the last window (3 lines) stays where it is
    assert (found[0].start_line, found[0].end_line) == (14, 16)  # the text starts at line 10
