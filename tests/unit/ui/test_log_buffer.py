"""The Textual-free log parts: the buffer (cap, phase filter, search, match-only view), layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.style import Style

from infdash.ui.logs import Appended, LogBuffer, LogLine
from infdash.ui.logs.layout import (
    WrapIndex,
    phase_column,
    plain,
    prefix_width,
    slice_segments,
    stamp,
    wrapped_height,
)

AT = datetime(2026, 11, 25, 12, 0, 0, 500_000, tzinfo=UTC)


def lines(count: int, start: int = 0) -> list[LogLine]:
    phases = ("build", "run")
    return [
        LogLine(f"L{i} {'Err' if i % 4 == 0 else 'ok'}", phases[i % 2], AT, i)
        for i in range(start, start + count)
    ]


def test_cap_drops_oldest_and_counts() -> None:
    buffer = LogBuffer(10)
    assert buffer.extend(lines(8)) == Appended(8, 0)
    assert buffer.extend(lines(5, 8)) == Appended(5, 3)
    assert len(buffer) == 10
    assert buffer.dropped == 3
    assert buffer.total == 13
    assert buffer.shown(0) == 3
    assert buffer.text(3) == "L3 ok"
    assert buffer.line(12) == LogLine("L12 Err", "build", AT.astimezone(), 12)


def test_batch_larger_than_the_cap() -> None:
    buffer = LogBuffer(4)
    assert buffer.extend(lines(10)) == Appended(10, 6)
    assert [buffer.text(i) for i in buffer.iter_shown()] == ["L6 ok", "L7 ok", "L8 Err", "L9 ok"]


def test_phase_filter_follows_appends_and_drops() -> None:
    buffer = LogBuffer(6)
    buffer.extend(lines(4))
    buffer.set_phase("run")
    assert list(buffer.iter_shown()) == [1, 3]
    assert buffer.extend(lines(4, 4)) == Appended(2, 1)
    assert list(buffer.iter_shown()) == [3, 5, 7]
    assert buffer.shown_row(5) == 1
    assert buffer.shown_row(4) is None
    assert buffer.first_shown_at_or_after(4) == 1
    buffer.set_phase(None)
    assert buffer.shown_count == 6


def test_search_is_plain_case_insensitive_text() -> None:
    buffer = LogBuffer()
    buffer.extend([LogLine("a.b (x) ERR err", "run", None, 0), LogLine("axb", "run", None, 1)])
    buffer.set_search("a.b")
    assert list(buffer.matches) == [0]
    buffer.set_search("err")
    assert buffer.spans("a.b (x) ERR err") == [(8, 11), (12, 15)]
    buffer.set_search("(x")
    assert list(buffer.matches) == [0]
    assert buffer.timestamp(0) is None


def test_matches_respect_the_phase_and_the_cap() -> None:
    buffer = LogBuffer(8)
    buffer.extend(lines(8))
    buffer.set_search("err")
    assert list(buffer.matches) == [0, 4]
    buffer.set_phase("run")
    assert list(buffer.matches) == []
    buffer.set_phase("build")
    assert list(buffer.matches) == [0, 4]
    buffer.extend(lines(4, 8))
    assert list(buffer.matches) == [4, 8]


def test_only_matches_view() -> None:
    buffer = LogBuffer(8)
    buffer.extend(lines(8))
    buffer.set_only_matches(True)
    assert not buffer.only_matches  # no search yet
    buffer.set_search("ERR")
    buffer.set_only_matches(True)
    assert list(buffer.iter_shown()) == [0, 4]
    assert buffer.extend(lines(4, 8)) == Appended(1, 1)
    assert list(buffer.iter_shown()) == [4, 8]
    buffer.set_search("")
    assert not buffer.only_matches
    assert buffer.shown_count == 8


def test_unknown_phase_and_clear() -> None:
    buffer = LogBuffer()
    buffer.extend([LogLine("x", "weird", None, 0)])
    assert buffer.phase_of(0) == "weird"
    buffer.set_phase("weird")
    assert buffer.shown_count == 1
    buffer.clear()
    assert len(buffer) == 0
    assert buffer.dropped == 0
    assert buffer.shown_count == 0


def test_max_lines_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        LogBuffer(0)


def test_chunked_store_across_chunks() -> None:
    buffer = LogBuffer(5000)
    for start in range(0, 12_000, 1000):
        buffer.extend([LogLine(f"t{i}", "run", None, i) for i in range(start, start + 1000)])
    assert len(buffer) == 5000
    assert buffer.dropped == 7000
    assert [buffer.text(i) for i in (7000, 8191, 8192, 11_999)] == [
        "t7000",
        "t8191",
        "t8192",
        "t11999",
    ]
    assert [buffer.seq(i) for i in buffer.iter_shown()] == list(range(7000, 12_000))
    buffer.set_search("t1199")
    assert list(buffer.matches) == [1199 * 10 + k for k in range(10)]


# -- layout (infdash.ui.logs.layout) -----------------------------------------------------------


def test_wrap_index_locates_rows_and_drops_from_the_top() -> None:
    index = WrapIndex([1, 3, 2])
    assert (index.lines, index.rows) == (3, 6)
    assert [index.locate(row) for row in range(6)] == [
        (0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1),
    ]  # fmt: skip
    assert index.locate(6) == (3, 0)
    assert index.drop(1) == 1
    assert index.row_of(1) == 3
    index.extend([4])
    assert index.rows == 9
    assert index.drop(10) == 9
    assert index.lines == 0


def test_wrapped_height_counts_cells() -> None:
    assert wrapped_height("", 10) == 1
    assert wrapped_height("x" * 10, 10) == 1
    assert wrapped_height("x" * 11, 10) == 2
    assert wrapped_height("日本語", 4) == 2  # six cells


def test_slice_segments_clips_highlights() -> None:
    base, hit = Style(), Style(bold=True)
    text = "abc needle def needle"
    segments = slice_segments(text, [(4, 10), (15, 21)], 6, 17, base, hit)
    assert [(s.text, s.style is hit) for s in segments] == [
        ("edle", True), (" def ", False), ("ne", True),
    ]  # fmt: skip
    assert slice_segments(text, [], 30, 40, base, hit) == []


def test_prefix_and_plain_text() -> None:
    buffer = LogBuffer()
    buffer.extend([LogLine("hello", "setup", AT, 0), LogLine("x", "serve", None, 1)])
    assert phase_column("run") == "run   │ "
    assert prefix_width(False) == 8
    assert prefix_width(True) == 21
    assert plain(buffer, 0, False) == "setup │ hello"
    assert plain(buffer, 1, True) == " " * 12 + " serve │ x"
    assert stamp(None) == " " * 12
    assert plain(buffer, 0, True).endswith(".500 setup │ hello")
