"""Drain, update, restart and stop an engine: what each asks and sends, and when it settled.

The engines screen asks once (a dialog that names the engine and what is running on it), sends
the action, then follows the engine until the action settles, which can take as long as its
in-flight tasks do: a drain ends ``stopped``, a stop ends ``stopped``, an update ends
``running`` again (on the new version when the engine reports one), and so does a restart of
a cloud engine's instance.  Until then the screen
says what it is waiting for ("draining rig-a: 1 of 2 workers busy · 40 s").  This module is
the plain part: the rules and the texts; the screen does the asking and the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from infdash.api import Engine, InferenceClient
from infdash.api.models.engines import EngineStatus, Worker, WorkerStatus
from infdash.ui.sanitize import clean_line
from infdash.ui.tasklist.format import format_seconds

READ_ONLY = "read-only profile: engine actions are turned off (drop --read-only to act)"
VERSION = re.compile(r"^(stable|canary|v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?)$")
"""What ``POST /engines/{id}/update`` takes: a channel or a version such as ``v1.10.15``."""


@dataclass(frozen=True)
class EngineAction:
    """One kind of action: its words, who may take it, and its end state."""

    name: str
    """The verb in lower case: ``drain``, ``update``, ``stop``."""
    ing: str
    """The progressive, for the progress line: ``draining``."""
    done: str
    """The past, for the notification: ``drained``."""
    allowed: frozenset[EngineStatus]
    """Statuses the platform accepts it in (anything else is refused here, with why)."""
    warning: str
    """The dialog's last line: what happens to running work."""

    def refusal(self, engine: Engine) -> str | None:
        """Why ``engine`` cannot take this action now, or ``None`` when it can."""
        name = engine_name(engine)
        if self.name == "restart" and engine.instance is None:
            return f"cannot restart {name}: it has no cloud instance (restart is for cloud engines)"
        if engine.status in self.allowed:
            return None
        if not engine.status.is_online and self.name != "stop":
            return (
                f"cannot {self.name} {name}: it is {engine.status_label} "
                f"({self.name} needs a connected engine)"
            )
        return f"cannot {self.name} {name} while it is {engine.status_label}"


ONLINE = frozenset({EngineStatus.RUNNING})
DRAIN = EngineAction(
    "drain",
    "draining",
    "drained",
    ONLINE,
    "It takes no new tasks, finishes the running ones, then stops.",
)
UPDATE = EngineAction(
    "update",
    "updating",
    "updated",
    ONLINE,
    "It drains, installs the new version and restarts; running tasks finish first.",
)
RESTART = EngineAction(
    "restart",
    "restarting",
    "restarted",
    frozenset(s for s in EngineStatus if s not in (EngineStatus.STOPPING, EngineStatus.UNKNOWN)),
    "Its cloud instance restarts; running tasks finish first.",
)
STOP = EngineAction(
    "stop",
    "stopping",
    "stopped",
    frozenset(s for s in EngineStatus if s not in (EngineStatus.STOPPING, EngineStatus.STOPPED)),
    "Running tasks finish first when it is connected; an offline engine stops at once.",
)


def engine_name(engine: Engine) -> str:
    return clean_line(engine.name or engine.id)


def _index(worker: Worker) -> int:
    return worker.index


def confirm_lines(action: EngineAction, engine: Engine) -> list[str]:
    """What the dialog lists: the engine, its workers and what runs on them, the consequence."""
    busy = sorted((w for w in engine.workers if w.status is WorkerStatus.BUSY), key=_index)
    lines = [
        f"{engine_name(engine)}  ({engine.status_label}, "
        f"{engine.engine_version or 'version unknown'})",
        f"{len(busy)} of {len(engine.workers)} workers busy",
    ]
    lines.extend(clean_line(f"  #{w.index} task {w.task_id or 'unknown'}") for w in busy)
    lines.extend(("", action.warning))
    return lines


def send(
    client: InferenceClient, action: EngineAction, engine_id: str, version: str | None
) -> Callable[[], Awaitable[Engine | None]]:
    """The request for ``action`` (a thunk for ``scheduler.user_action``)."""
    engines = client.engines
    if action is DRAIN:
        return lambda: engines.drain(engine_id)
    if action is UPDATE:
        return lambda: engines.update(engine_id, version)
    if action is RESTART:
        return lambda: engines.restart(engine_id)
    return lambda: engines.stop(engine_id)


@dataclass
class Pending:
    """An action sent and not settled yet."""

    action: EngineAction
    engine_id: str
    name: str
    started: datetime
    from_version: str
    version: str | None = None
    """The update's target (``stable``, ``canary`` or ``vX.Y.Z``)."""
    left_running: bool = False
    """The engine has been seen out of ``running`` since the action was sent (an update or a
    restart settles when it is back, not while the request is still being taken up)."""
    left_at: datetime | None = None
    """The engine's ``updated_at`` when it was first seen out of ``running``."""

    def observe(self, engine: Engine) -> bool:
        """Take the engine's latest state; True once the action has settled."""
        status = engine.status
        if self.action not in (UPDATE, RESTART):
            return status is EngineStatus.STOPPED
        if status is not EngineStatus.RUNNING:
            if not self.left_running:
                self.left_running, self.left_at = True, engine.updated_at
            return False
        if engine.engine_version and engine.engine_version != self.from_version:
            return True
        # Back to running on the same version (an update to what it ran already): only a
        # record newer than the restart counts; one as old is a poll sent before it.
        at, left = engine.updated_at, self.left_at
        return self.left_running and (at is None or left is None or at > left)

    def progress(self, engine: Engine | None, now: datetime) -> str:
        """One line: what it is waiting for, and for how long."""
        took = format_seconds((now - self.started).total_seconds())
        target = f" to {self.version}" if self.action is UPDATE and self.version else ""
        head = f"{self.action.ing} {self.name}{target}"
        if engine is None:
            return f"{head} · {took}"
        busy = engine.busy_workers()
        if busy:
            wait = f"waiting for {busy} of {len(engine.workers)} workers to finish their tasks"
        else:
            wait = engine.status_label
        return f"{head}: {wait} · {took}"

    def settled_text(self, engine: Engine, now: datetime) -> str:
        took = format_seconds((now - self.started).total_seconds())
        if self.action is UPDATE:
            version = engine.engine_version or "its new version"
            return f"{self.name} updated: running {clean_line(version)} (took {took})"
        if self.action is RESTART:
            return f"{self.name} restarted: {engine.status_label} (took {took})"
        return f"{self.name} {self.action.done}: {engine.status_label} (took {took})"
