"""Where a streaming reply is cut into finished Markdown blocks (``BlockSplitter``)."""

from __future__ import annotations

import pytest

from infdash.api.models.chats import ToolInvocation
from infdash.ui.widgets.chat_message import BlockSplitter, tool_line

REPLY = (
    "# Title\n\nFirst paragraph.\n\n```python\nx = 1\n\ny = 2\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nLast line"
)


def cuts(text: str, step: int) -> list[int]:
    """The cut after each growth of ``step`` characters, as a stream would feed it."""
    splitter = BlockSplitter()
    return [splitter.feed(text[:end]) for end in range(step, len(text) + step, step)]


def test_cuts_fall_after_blank_lines_outside_fences() -> None:
    splitter = BlockSplitter()
    cut = splitter.feed(REPLY)
    assert REPLY[:cut].endswith("| 1 | 2 |\n\n")  # the last finished block: the table
    assert REPLY[cut:] == "Last line"
    fence = REPLY.index("```python")
    blank_in_fence = REPLY.index("x = 1\n\n") + len("x = 1\n\n")
    assert cut > blank_in_fence
    inside = BlockSplitter().feed(REPLY[: blank_in_fence + 2])
    assert inside <= fence  # never inside the fence, though it has a blank line


@pytest.mark.parametrize("step", [1, 3, 7, 50])
def test_fed_in_any_steps_the_cuts_only_grow_and_match_a_whole_feed(step: int) -> None:
    seen = cuts(REPLY, step)
    assert seen == sorted(seen)
    assert seen[-1] == BlockSplitter().feed(REPLY)
    for cut in seen:
        assert cut == 0 or REPLY[:cut].endswith("\n\n")


def test_no_blank_line_no_cut() -> None:
    assert BlockSplitter().feed("one line, still growing") == 0
    assert BlockSplitter().feed("```\ncode\n\nmore code") == 0


def test_tool_line_cuts_long_arguments_and_cleans() -> None:
    invocation = ToolInvocation(
        "ti_1",
        display_name="infsh/echo\x1b[2J",
        arguments={"text": "x" * 300},
        status="awaiting_approval",
    )
    line = tool_line(invocation)
    assert line.startswith('⚙ infsh/echo {"text": "xxx')
    assert line.endswith("… · awaiting approval")
    assert "\x1b" not in line
