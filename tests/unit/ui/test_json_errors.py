"""parse_json_object: objects pass, everything else fails with a position and a plain reason."""

from __future__ import annotations

import pytest

from infdash.ui.json_errors import JsonInputError, parse_json_object


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"prompt": "a cat", "n": 2}', {"prompt": "a cat", "n": 2}),
        ('\n  {"nested": {"a": [1, 2.5, null, true]}}\n', {"nested": {"a": [1, 2.5, None, True]}}),
        ("{}", {}),
        ("", {}),
        ("  \n\t", {}),
    ],
)
def test_objects_and_blank_text_parse(text: str, expected: dict[str, object]) -> None:
    assert parse_json_object(text, "input") == expected


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        (
            '{\n  "prompt": "a cat"\n  "n": 2\n}',
            "input: line 3, column 3: expected ',' or '}'",
            3,
            3,
        ),
        ('{"a": [1, 2 3]}', "input: line 1, column 13: expected ',' or ']'", 1, 13),
        (
            '{"a": 1,}',
            "input: line 1, column 9: expected a property name after ',' "
            "(trailing commas are not allowed)",
            1,
            9,
        ),
        (
            '{"a": [1,]}',
            "input: line 1, column 10: expected a value after ',' "
            "(trailing commas are not allowed)",
            1,
            10,
        ),
        (
            "{'a': 1}",
            "input: line 1, column 2: property names need double quotes, not single quotes",
            1,
            2,
        ),
        ('{"a": }', "input: line 1, column 7: expected a value", 1, 7),
        (
            '{"a": True}',
            "input: line 1, column 7: unknown word 'True' (JSON has only true, false and null)",
            1,
            7,
        ),
        ('{"a"  1}', "input: line 1, column 7: expected ':' after the property name", 1, 7),
        (
            '{"a": 1',
            "input: line 1, column 8: unexpected end of text "
            "(is a closing bracket or quote missing?)",
            1,
            8,
        ),
        ('{"a": 1} x', "input: line 1, column 10: unexpected text after the JSON value", 1, 10),
        (
            '{"a": NaN}',
            "input: line 1, column 7: NaN is not valid JSON (use a number or null)",
            1,
            7,
        ),
        ('{"a": "\\q"}', "input: line 1, column 8: invalid escape in a string", 1, 8),
    ],
)
def test_syntax_errors_name_line_column_and_reason(
    text: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(JsonInputError) as caught:
        parse_json_object(text, "input")
    error = caught.value
    assert str(error) == error.message == message
    assert (error.line, error.column) == (line, column)
    lines = text.splitlines(keepends=True)
    assert error.offset == sum(len(x) for x in lines[: line - 1]) + column - 1


def test_brackets_inside_strings_do_not_confuse_the_closer() -> None:
    with pytest.raises(JsonInputError, match=r"expected ',' or '\}'$"):
        parse_json_object('{"a": "[", "b": 1 "c": 2}', "setup")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("[1, 2]", "an array"),
        ('"text"', "a string"),
        ("3", "a number"),
        ("null", "null"),
        ("true", "true/false"),
    ],
)
def test_non_objects_are_refused(text: str, kind: str) -> None:
    with pytest.raises(JsonInputError) as caught:
        parse_json_object(f"  {text}", "setup")
    assert caught.value.message == f"setup must be a JSON object {{...}}, not {kind}"
    assert (caught.value.line, caught.value.column, caught.value.offset) == (1, 3, 2)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^input: line 1, column 2: "):
        parse_json_object("{", "input")
