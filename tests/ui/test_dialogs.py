"""Pilot tests of the run dialog, the confirm dialog and the first-run screen.

Each test runs a tiny harness app that pushes one screen and records what it dismisses with;
the run dialog's ``submit`` is a fake that records requests and returns or raises as told.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Collapsible, Input, Label, Select, Static, TextArea

from infdash.api import NotFoundError, OutcomeUnknownError, RateLimitedError, Task
from infdash.ui.screens import ConfirmDialog, FirstRunScreen, RunDialog, RunRequest

SIZE = (100, 32)
APPS = ("infsh/flux-schnell@1.0.0", "infsh/echo@1.1.0", "acme/whisper@2.0.0")
CONFIG = Path("/home/user/.config/infdash/config.toml")


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


class Harness(App[None]):
    """Pushes one screen on mount and records every dismiss result."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._make(), self.results.append)


class FakeSubmit:
    """A ``submit`` that records requests; returns a task or raises ``error``."""

    def __init__(self, error: Exception | None = None) -> None:
        self.requests: list[RunRequest] = []
        self.error = error

    async def __call__(self, request: RunRequest) -> Task:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return Task.from_dict({"id": "tsk_1", "status": 1, "app": {"name": "flux"}})


def run_app(submit: FakeSubmit, **kwargs: object) -> Harness:
    return Harness(lambda: RunDialog(submit, APPS, **kwargs))  # type: ignore[arg-type]


def dialog(pilot: Pilot[None]) -> Screen[Any]:
    return pilot.app.screen


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(dialog(pilot).query_one(selector, Static).content)


async def fill(pilot: Pilot[None], app: str, input_text: str) -> None:
    screen = dialog(pilot)
    screen.query_one("#run-app", Input).value = app
    screen.query_one("#run-input", TextArea).text = input_text
    await pilot.pause()


async def submit_and_settle(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


# -- RunDialog -----------------------------------------------------------------------------


async def test_good_json_submits_and_dismisses_with_the_task() -> None:
    submit = FakeSubmit()
    app = run_app(submit)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/flux-schnell@1.0.0", '{\n  "prompt": "a cat",\n  "n": 2\n}')
        await submit_and_settle(pilot)
        assert submit.requests == [
            RunRequest(
                app="infsh/flux-schnell@1.0.0",
                input={"prompt": "a cat", "n": 2},
                setup=None,
                infra=None,
            )
        ]
        assert len(app.results) == 1
        task = app.results[0]
        assert isinstance(task, Task)
        assert task.id == "tsk_1"
        assert not isinstance(app.screen, RunDialog)


async def test_run_button_submits_too() -> None:
    submit = FakeSubmit()
    app = run_app(submit, app="infsh/echo@1.1.0", input_text='{"text": "hi"}')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#run-submit")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert [r.input for r in submit.requests] == [{"text": "hi"}]
        assert isinstance(app.results[0], Task)


async def test_bad_json_shows_line_and_column_and_moves_the_cursor() -> None:
    submit = FakeSubmit()
    app = run_app(submit)
    bad = '{\n  "prompt": "a cat"\n  "n": 2\n}'
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/flux-schnell@1.0.0", bad)
        await submit_and_settle(pilot)
        assert submit.requests == []
        assert app.results == []
        screen = dialog(pilot)
        error = screen.query_one("#run-input-error", Label)
        assert str(error.content) == "input: line 3, column 3: expected ',' or '}'"
        assert error.display
        area = screen.query_one("#run-input", TextArea)
        assert area.cursor_location == (2, 2)
        assert area.has_focus
        assert area.text == bad


async def test_fixing_the_json_clears_the_error() -> None:
    app = run_app(FakeSubmit())
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/echo", "[1]")
        await submit_and_settle(pilot)
        error = dialog(pilot).query_one("#run-input-error", Label)
        assert str(error.content) == "input must be a JSON object {...}, not an array"
        await pilot.press("x")
        assert not error.display


async def test_empty_app_is_rejected() -> None:
    submit = FakeSubmit()
    app = run_app(submit)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "", '{"a": 1}')
        await submit_and_settle(pilot)
        assert submit.requests == []
        screen = dialog(pilot)
        assert str(screen.query_one("#run-app-error", Label).content) == (
            "app: expected namespace/name[@version]"
        )
        assert screen.query_one("#run-app", Input).has_focus


@pytest.mark.parametrize("ref", ["flux", "infsh/", "/flux", "infsh/flux@", "a b/c"])
async def test_malformed_app_is_rejected(ref: str) -> None:
    submit = FakeSubmit()
    async with run_app(submit).run_test(size=SIZE) as pilot:
        await fill(pilot, ref, "{}")
        await submit_and_settle(pilot)
        assert submit.requests == []


async def test_function_suffix_is_accepted() -> None:
    submit = FakeSubmit()
    async with run_app(submit).run_test(size=SIZE) as pilot:
        await fill(pilot, "  acme/whisper@2.0.0:transcribe ", "")
        await submit_and_settle(pilot)
        assert submit.requests[0].app == "acme/whisper@2.0.0:transcribe"
        assert submit.requests[0].input == {}


async def test_not_found_is_shown_inline_and_the_text_is_kept() -> None:
    submit = FakeSubmit(NotFoundError("app not found", status=404, code="not_found"))
    app = run_app(submit)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/nope", '{"a": 1}')
        await submit_and_settle(pilot)
        assert len(submit.requests) == 1
        assert app.results == []
        assert text_of(pilot, "#run-status") == "infsh/nope: not found — check the app name"
        screen = dialog(pilot)
        assert screen.query_one("#run-status").has_class("-error")
        assert screen.query_one("#run-app", Input).value == "infsh/nope"
        assert screen.query_one("#run-input", TextArea).text == '{"a": 1}'
        assert not screen.query_one("#run-submit", Button).disabled


async def test_outcome_unknown_says_check_the_task_list() -> None:
    submit = FakeSubmit(OutcomeUnknownError("read timed out"))
    async with run_app(submit).run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/echo", "{}")
        await submit_and_settle(pilot)
        assert text_of(pilot, "#run-status") == (
            "the request was sent but no answer came: the task may exist"
            " — check the task list before running again"
        )


async def test_rate_limited_says_when_to_retry() -> None:
    submit = FakeSubmit(RateLimitedError("slow down", status=429, retry_after=11.2))
    async with run_app(submit).run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/echo", "{}")
        await submit_and_settle(pilot)
        assert text_of(pilot, "#run-status") == "rate limited: try again in 12 s"


async def test_unexpected_exception_is_one_line_not_a_crash() -> None:
    submit = FakeSubmit(RuntimeError("boom\nwith a second line"))
    async with run_app(submit).run_test(size=SIZE) as pilot:
        await fill(pilot, "infsh/echo", "{}")
        await submit_and_settle(pilot)
        assert text_of(pilot, "#run-status") == "RuntimeError: boom with a second line"
        assert isinstance(pilot.app.screen, RunDialog)


async def test_submit_is_disabled_while_sending() -> None:
    import asyncio

    release = asyncio.Event()
    requests: list[RunRequest] = []

    async def slow(request: RunRequest) -> Task:
        requests.append(request)
        await release.wait()
        return Task(id="tsk_2")

    app = Harness(lambda: RunDialog(slow, app="infsh/echo"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = dialog(pilot)
        assert screen.query_one("#run-submit", Button).disabled
        assert text_of(pilot, "#run-status").startswith("Running…")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(requests) == 1
        # Escape while in flight warns first: closing would lose the new task's id.
        await pilot.press("escape")
        assert "esc again" in text_of(pilot, "#run-status")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [t.id for t in app.results if isinstance(t, Task)] == ["tsk_2"]


async def test_escape_dismisses_with_none() -> None:
    submit = FakeSubmit()
    app = run_app(submit)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
        assert submit.requests == []


async def test_setup_and_infra_are_passed_through() -> None:
    submit = FakeSubmit()
    app = run_app(submit, app="infsh/echo@1.1.0", setup_text='{"model": "large"}')
    async with app.run_test(size=SIZE) as pilot:
        screen = dialog(pilot)
        assert not screen.query_one("#run-more", Collapsible).collapsed
        screen.query_one("#run-infra", Select).value = "private_first"
        await submit_and_settle(pilot)
        assert submit.requests == [
            RunRequest(
                app="infsh/echo@1.1.0",
                input={},
                setup={"model": "large"},
                infra="private_first",
            )
        ]


async def test_bad_setup_opens_the_section_and_points_at_the_error() -> None:
    submit = FakeSubmit()
    app = run_app(submit, app="infsh/echo")
    async with app.run_test(size=SIZE) as pilot:
        screen = dialog(pilot)
        more = screen.query_one("#run-more", Collapsible)
        assert more.collapsed
        screen.query_one("#run-setup", TextArea).text = '{"a": 1,}'
        await submit_and_settle(pilot)
        assert submit.requests == []
        assert not more.collapsed
        assert str(screen.query_one("#run-setup-error", Label).content).startswith(
            "setup: line 1, column 9: "
        )
        area = screen.query_one("#run-setup", TextArea)
        assert area.has_focus
        assert area.cursor_location == (0, 8)


async def test_prefilled_infra_is_selected() -> None:
    app = run_app(FakeSubmit(), app="infsh/echo", input_text='{"a": 1}', infra="private")
    async with app.run_test(size=SIZE) as pilot:
        screen = dialog(pilot)
        assert screen.query_one("#run-infra", Select).value == "private"
        assert screen.query_one("#run-input", TextArea).has_focus  # app given: input next


async def test_known_app_suggestion_completes() -> None:
    app = run_app(FakeSubmit())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"infsh/fl")
        await pilot.pause()
        await pilot.press("right")
        app_input = dialog(pilot).query_one("#run-app", Input)
        assert app_input.value == "infsh/flux-schnell@1.0.0"
        assert "infsh/flux-schnell@1.0.0" in text_of(pilot, "#run-apps-hint")


async def test_tab_moves_from_app_to_input() -> None:
    async with run_app(FakeSubmit()).run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert dialog(pilot).query_one("#run-input", TextArea).has_focus
        await pilot.press("tab")
        assert not dialog(pilot).query_one("#run-input", TextArea).has_focus


async def test_network_text_is_not_markup() -> None:
    submit = FakeSubmit()
    app = Harness(lambda: RunDialog(submit, ["[red]evil[/red]/x\x1b[2J"]))
    async with app.run_test(size=SIZE) as pilot:
        assert text_of(pilot, "#run-apps-hint") == "known: [red]evil[/red]/x"


# -- ConfirmDialog -------------------------------------------------------------------------


def confirm_app(items: list[str] | None = None, **kwargs: object) -> Harness:
    rows = items if items is not None else ["tsk_1  infsh/echo", "tsk_2  infsh/flux"]
    return Harness(lambda: ConfirmDialog("Cancel 2 tasks?", rows, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "expected"), [("y", True), ("enter", True), ("n", False), ("escape", False)]
)
async def test_confirm_keys(key: str, expected: bool) -> None:
    app = confirm_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert app.results == [expected]


async def test_enter_on_cancel_button_cancels() -> None:
    app = confirm_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert app.results == [False]


@pytest.mark.parametrize(("button", "expected"), [("#confirm", True), ("#cancel", False)])
async def test_confirm_buttons_are_clickable(button: str, expected: bool) -> None:
    app = confirm_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click(button)
        await pilot.pause()
        assert app.results == [expected]


async def test_long_lists_are_cut_with_and_n_more() -> None:
    items = [f"tsk_{i}  infsh/echo" for i in range(15)]
    async with confirm_app(items, max_items=12).run_test(size=SIZE) as pilot:
        shown = text_of(pilot, "#confirm-items").splitlines()
        assert shown == items[:12]
        assert text_of(pilot, "#confirm-more") == "… and 3 more"


async def test_danger_styles_the_confirm_button() -> None:
    async with confirm_app(confirm_label="Cancel tasks").run_test(size=SIZE) as pilot:
        button = dialog(pilot).query_one("#confirm", Button)
        assert button.variant == "error"
        assert str(button.label) == "Cancel tasks"
    async with confirm_app(danger=False).run_test(size=SIZE) as pilot:
        assert dialog(pilot).query_one("#confirm", Button).variant == "primary"


# -- FirstRunScreen ------------------------------------------------------------------------


def all_text(pilot: Pilot[None]) -> str:
    return "\n".join(str(s.content) for s in dialog(pilot).query(Static))


async def test_first_run_explains_where_the_key_goes() -> None:
    app = Harness(lambda: FirstRunScreen(CONFIG))
    async with app.run_test(size=SIZE) as pilot:
        text = all_text(pilot)
        assert str(CONFIG) in text
        assert "export INFERENCE_API_KEY=inf_..." in text
        assert '[profiles.default]\napi_key = "inf_..."' in text
        assert 'api_key_env = "MY_INFERENCE_KEY"' in text
        assert "infdash --api-key" in text
        assert "Press d to open the demo" in text


async def test_first_run_d_calls_on_demo() -> None:
    calls: list[str] = []
    app = Harness(lambda: FirstRunScreen(CONFIG, on_demo=lambda: calls.append("demo")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await pilot.pause()
        assert calls == ["demo"]


async def test_first_run_d_without_callback_exits_with_demo() -> None:
    app = Harness(lambda: FirstRunScreen(CONFIG))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await pilot.pause()
    assert app.return_value == "demo"


async def test_first_run_q_exits_with_code_2() -> None:
    app = Harness(lambda: FirstRunScreen(CONFIG))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2
