"""R22: escape sequences and control characters never reach the screen."""

from __future__ import annotations

import pytest

from infdash.ui.sanitize import clean, clean_line


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("clear\x1b[2Jscreen", "clearscreen"),
        ("title\x1b]0;pwned\x07here", "titlehere"),
        ("title\x1b]2;pwned\x1b\\here", "titlehere"),
        ("clip\x1b]52;c;ZXZpbA==\x07board", "clipboard"),
        ("link\x1b]8;;http://x\x1b\\text\x1b]8;;\x1b\\", "linktext"),
        ("colour\x1b[1;31mred\x1b[0m", "colourred"),
        ("eight-bit\x9b31mcsi", "eight-bitcsi"),
        ("eight-bit\x9d0;t\x07osc", "eight-bitosc"),
        ("dcs\x1bPq#0;2;0;0;0\x1b\\end", "dcsend"),
        ("bell\x07null\x00del\x7f", "bellnulldel"),
        ("keypad\x1b=mode", "keypadmode"),
        ("cr\r\nlf", "cr\nlf"),
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("unterminated\x1b]0;title", "unterminated"),
        ("ünïcödé ✓ 日本", "ünïcödé ✓ 日本"),
        ("line\u2028sep\u2029para", "line\nsep\npara"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("iso\u2066late\u2069d", "isolated"),
    ],
)
def test_clean_removes_every_escape_and_control(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_clean_line_flattens_whitespace_for_a_cell() -> None:
    assert clean_line("a\tb\nc\rd\x1b[2Je") == "a b c de"
    assert clean_line("a\u2028b\u2029c\u202ed") == "a b cd"


def test_markup_looking_text_is_left_as_text() -> None:
    assert clean("[bold red]x[/]") == "[bold red]x[/]"
