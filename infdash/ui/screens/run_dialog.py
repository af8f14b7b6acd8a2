"""The run dialog: pick an app, type its input as JSON, start a task.

Everything is checked before anything is sent: the app reference must look like
``namespace/name[@version][:function]`` and the input (and optional setup) must be JSON objects.
A mistake is shown under its field and the cursor is put on it; nothing typed is ever lost, not
on a validation error and not when the server refuses the request.  The request itself is
delegated to a ``submit`` callable the caller provides (the scheduler in the app, a fake in
tests), run in a worker; the dialog dismisses with the new :class:`Task`, or ``None`` when
cancelled.  Prefilling through the constructor makes it the "re-run with edited input" dialog
too.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Collapsible, Input, Label, Select, Static, TextArea

from infdash.api import (
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    Task,
    ValidationError,
)
from infdash.ui.errors import describe
from infdash.ui.json_errors import JsonInputError, parse_json_object
from infdash.ui.sanitize import clean_line

APP_PATTERN = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(@[\w.+-]+)?(:[\w.-]+)?")
"""What an app reference looks like: ``namespace/name[@version][:function]``."""
APP_FORMAT_ERROR = "app: expected namespace/name[@version]"
INFRA_CHOICES = ("cloud", "private", "private_first")
"""Where the task may run; no choice means the server default (cloud)."""
OUTCOME_UNKNOWN = (
    "the request was sent but no answer came: the task may exist"
    " — check the task list before running again"
)
_HINT_APPS = 5
"""How many known apps the hint line names before "+N more"."""


@dataclass(frozen=True)
class RunRequest:
    """A validated request to start one task."""

    app: str
    """``namespace/name[@version][:function]``, as typed (trimmed)."""
    input: dict[str, Any]
    setup: dict[str, Any] | None
    """``None`` when the setup field was left blank (nothing is sent)."""
    infra: str | None
    """One of :data:`INFRA_CHOICES`, or ``None`` for the server default."""


Submit = Callable[[RunRequest], Awaitable[Task]]
"""Starts the task; raises an ``ApiError`` (or ``TransportError``) when it cannot."""


def run_error_message(app: str, error: BaseException) -> str:
    """One display-safe line saying why ``app`` could not be started and what to do."""
    if isinstance(error, NotFoundError):
        return f"{clean_line(app)}: not found — check the app name"
    if isinstance(error, RateLimitedError):
        wait = error.retry_after
        return (
            f"rate limited: try again in {math.ceil(wait)} s"
            if wait
            else "rate limited: try again shortly"
        )
    if isinstance(error, OutcomeUnknownError):
        return OUTCOME_UNKNOWN
    if isinstance(error, ValidationError):
        return f"refused by the server: {clean_line(error.message)}"
    return describe(error)


def _json_language() -> str | None:
    """``"json"`` when tree-sitter can highlight it, else plain text (no warning in the log)."""
    found = importlib.util.find_spec("tree_sitter") and importlib.util.find_spec("tree_sitter_json")
    return "json" if found else None


class RunDialog(ModalScreen[Task | None]):
    """Start a task: app, input JSON, optional setup JSON and infra."""

    BINDING_GROUP_TITLE = "Run a task"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "submit",
            "Run",
            id="run.submit",
            tooltip="Check the fields and start the task",
            priority=True,
        ),
        Binding("escape", "cancel", "Cancel", id="run.cancel", tooltip="Close without running"),
    ]
    DEFAULT_CSS = """
    RunDialog {
        align: center middle;
        #run-dialog {
            width: 72;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $primary;
            border-title-color: $text;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
        #run-form { height: auto; scrollbar-size-vertical: 1; }
        #run-bottom { height: auto; }
        .field-label { color: $text-muted; margin-top: 1; }
        #run-app-label { margin-top: 0; }
        #run-apps-hint { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
        .field-error { color: $error; display: none; }
        .field-error.-shown { display: block; }
        #run-input { height: 9; }
        #run-setup { height: 5; }
        Collapsible { padding: 0; margin-top: 1; border-top: none; background: $surface; }
        Collapsible > Contents { padding: 0 0 0 2; }
        #run-status { height: auto; margin-top: 1; color: $text-muted; display: none; }
        #run-status.-shown { display: block; }
        #run-status.-error { color: $error; }
        #run-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #run-buttons Button { margin-left: 2; }
        #run-keys { color: $text-muted; margin-top: 0; }
    }
    """

    @dataclass
    class Started(Message):
        """The worker's result: the task exists."""

        task: Task

    @dataclass
    class Failed(Message):
        """The worker's result: the server refused, or the answer never came."""

        message: str

    def __init__(
        self,
        submit: Submit,
        known_apps: Sequence[str] = (),
        *,
        app: str = "",
        input_text: str = "{}",
        setup_text: str = "",
        infra: str | None = None,
    ) -> None:
        """
        Args:
            submit: Starts the task; awaited in a worker.
            known_apps: App references offered as completions (network text: cleaned here).
            app: Prefilled app reference; when given, the input field gets the focus.
            input_text: Prefilled input JSON, kept exactly as given.
            setup_text: Prefilled setup JSON; non-blank opens the "Setup and infra" section.
            infra: Prefilled infra; a value outside :data:`INFRA_CHOICES` means the default.
        """
        super().__init__()
        self._submit = submit
        self._known_apps = [clean_line(a) for a in known_apps if a]
        self._app = app
        self._input_text = input_text
        self._setup_text = setup_text
        self._infra = infra if infra in INFRA_CHOICES else None
        self._sending = False
        self._close_anyway = False
        self._errored: dict[str, str] = {}
        """Fields showing an error, with the text that was checked."""

    def compose(self) -> ComposeResult:
        with Vertical(id="run-dialog") as dialog:
            dialog.border_title = "Run a task"
            with VerticalScroll(id="run-form"):
                yield Label("App", id="run-app-label", classes="field-label")
                yield Input(
                    self._app,
                    placeholder="namespace/name@version[:function]",
                    suggester=SuggestFromList(self._known_apps, case_sensitive=False),
                    id="run-app",
                )
                yield Static(self._apps_hint(), id="run-apps-hint", markup=False)
                yield Label("", id="run-app-error", classes="field-error", markup=False)
                yield Label("Input (a JSON object)", classes="field-label")
                yield self._editor(self._input_text, "run-input")
                yield Label("", id="run-input-error", classes="field-error", markup=False)
                collapsed = not (self._setup_text.strip() or self._infra)
                with Collapsible(title="Setup and infra", collapsed=collapsed, id="run-more"):
                    yield Label("Setup (a JSON object; blank sends none)", classes="field-label")
                    yield self._editor(self._setup_text, "run-setup")
                    yield Label("", id="run-setup-error", classes="field-error", markup=False)
                    yield Label("Infra", classes="field-label")
                    yield Select[str](
                        [(name, name) for name in INFRA_CHOICES],
                        prompt="default (cloud)",
                        value=self._infra if self._infra else Select.NULL,
                        id="run-infra",
                    )
            with Vertical(id="run-bottom"):
                yield Static("", id="run-status", markup=False)
                with Horizontal(id="run-buttons"):
                    yield Button(Content("Run"), variant="primary", id="run-submit")
                    yield Button(Content("Cancel"), id="run-cancel")
                yield Static(
                    "ctrl+s run · esc cancel · tab next field", id="run-keys", markup=False
                )

    def on_mount(self) -> None:
        self.query_one("#run-input" if self._app else "#run-app").focus()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_form)

    def _fit_form(self) -> None:
        """Cap the form's height so the buttons always show; the form scrolls when it must."""
        bottom = self.query_one("#run-bottom").outer_size.height
        form = self.query_one("#run-form")
        form.styles.max_height = max(4, self.size.height - bottom - 2)

    def _editor(self, text: str, widget_id: str) -> TextArea:
        return TextArea(
            text,
            language=_json_language(),
            show_line_numbers=True,
            tab_behavior="focus",
            id=widget_id,
        )

    def _apps_hint(self) -> str:
        apps = self._known_apps
        if not apps:
            return "no known apps yet: type one, e.g. infsh/flux-schnell"
        shown = ", ".join(apps[:_HINT_APPS])
        more = (
            f" (+{len(apps) - _HINT_APPS} more, type to complete)" if len(apps) > _HINT_APPS else ""
        )
        return f"known: {shown}{more}"

    # -- validation ----------------------------------------------------------------------

    def _show_error(self, field: str, message: str, text: str = "") -> None:
        if message:
            self._errored[field] = text
        label = self.query_one(f"#run-{field}-error", Label)
        label.update(Content(message))
        label.set_class(bool(message), "-shown")

    def _set_status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#run-status", Static)
        status.update(Content(message))
        status.set_class(error, "-error")
        status.set_class(bool(message), "-shown")
        self.call_after_refresh(self._fit_form)

    def _validate(self) -> RunRequest | None:
        """The request, or ``None`` after showing every problem and focusing the first."""
        app_input = self.query_one("#run-app", Input)
        input_area = self.query_one("#run-input", TextArea)
        setup_area = self.query_one("#run-setup", TextArea)
        first: Input | TextArea | None = None

        app = app_input.value.strip()
        if not APP_PATTERN.fullmatch(app):
            self._show_error("app", APP_FORMAT_ERROR, app_input.value)
            first = app_input

        payload: dict[str, Any] = {}
        try:
            payload = parse_json_object(input_area.text, "input")
        except JsonInputError as error:
            self._show_error("input", error.message, input_area.text)
            input_area.cursor_location = (error.line - 1, error.column - 1)
            first = first or input_area

        setup: dict[str, Any] | None = None
        if setup_area.text.strip():
            try:
                setup = parse_json_object(setup_area.text, "setup")
            except JsonInputError as error:
                self._show_error("setup", error.message, setup_area.text)
                self.query_one("#run-more", Collapsible).collapsed = False
                setup_area.cursor_location = (error.line - 1, error.column - 1)
                first = first or setup_area

        if first is not None:
            first.focus()
            return None
        value = self.query_one("#run-infra", Select).value
        infra = value if isinstance(value, str) else None
        return RunRequest(app=app, input=payload, setup=setup, infra=infra)

    @on(Input.Changed, "#run-app")
    def _app_changed(self, event: Input.Changed) -> None:
        self._clear_error_if_edited("app", event.value)

    @on(TextArea.Changed, "#run-input")
    @on(TextArea.Changed, "#run-setup")
    def _json_changed(self, event: TextArea.Changed) -> None:
        field = "input" if event.text_area.id == "run-input" else "setup"
        self._clear_error_if_edited(field, event.text_area.text)

    def _clear_error_if_edited(self, field: str, text: str) -> None:
        # A change event can arrive after the check that set the error; only an edit clears it.
        if field in self._errored and self._errored[field] != text:
            del self._errored[field]
            self._show_error(field, "")

    @on(Input.Submitted, "#run-app")
    def _app_submitted(self) -> None:
        self.focus_next()

    # -- sending -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit" and self._sending:
            return None  # shown disabled while a request is in flight
        return True

    def action_submit(self) -> None:
        if self._sending:
            return
        request = self._validate()
        if request is None:
            self._set_status("")
            return
        self._set_sending(True)
        self._set_status(f"Running… sending {request.app}")
        self._send(request)

    def action_cancel(self) -> None:
        if self._sending and not self._close_anyway:
            # Closing now would lose the answer, and with it the new task's id.
            self._close_anyway = True
            self._set_status("still waiting for the answer — press esc again to close anyway")
            return
        self.dismiss(None)

    @on(Button.Pressed, "#run-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#run-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _set_sending(self, sending: bool) -> None:
        self._sending = sending
        self._close_anyway = False
        self.query_one("#run-submit", Button).disabled = sending
        self.refresh_bindings()

    @work(exclusive=True, exit_on_error=False, group="run")
    async def _send(self, request: RunRequest) -> None:
        """Await ``submit`` and post the outcome; never raises."""
        try:
            task = await self._submit(request)
        except Exception as error:  # any failure becomes one line, never a traceback
            self.post_message(self.Failed(run_error_message(request.app, error)))
        else:
            self.post_message(self.Started(task))

    @on(Started)
    def _started(self, message: Started) -> None:
        self._set_sending(False)
        self.dismiss(message.task)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._set_sending(False)
        self._set_status(message.message, error=True)
