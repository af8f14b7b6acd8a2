"""The engine lifecycle: drain, update, stop and restart on the simulated clock, and the
``engines`` events every change publishes (to ``/events`` and ``/engines/{id}/stream``).

In-flight tasks always finish: the engine waits until no worker runs a task, then completes
the action after a short delay. Errors carry the HTTP status and code the routes answer with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from infdash.sim.clock import Timer
from infdash.sim.engines import CANARY_VERSION, OFFLINE, STABLE_VERSION, Engine
from infdash.sim.tasks import StreamEvent

if TYPE_CHECKING:
    from infdash.sim.world import World

SHUTDOWN_DELAY = 1.0
"""Seconds between the last in-flight task ending and ``stopped`` (drain, stop)."""
RESTART_DELAY = 3.0
"""Seconds between the last in-flight task ending and the restarted engine coming back."""
PENDING_DELAY = 1.0
"""Seconds a restarted cloud instance stays ``pending`` before ``running``."""
_VERSION = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$")


class EngineActionError(Exception):
    """An action the engine's state does not allow; carries the HTTP answer."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def resolve_version(raw: object) -> tuple[str, str]:
    """(engine_version, engine_pin) for an update request's ``version``."""
    if raw is None or raw == "" or raw == "stable":
        return STABLE_VERSION, ""
    if raw == "canary":
        return CANARY_VERSION, "canary"
    if isinstance(raw, str) and _VERSION.match(raw):
        return raw, raw
    raise EngineActionError(
        400, "invalid_request", f"version must be stable, canary or vX.Y.Z, not {raw!r}"
    )


class EngineLifecycle:
    """Runs engine actions and publishes every engine change."""

    def __init__(self, world: World) -> None:
        self.w = world
        self._timers: dict[str, Timer] = {}
        world.engines.on_change = self.changed
        world.engines.on_release = self.released

    # publishing ------------------------------------------------------------------------
    def changed(self, engine: Engine, fields: list[str]) -> None:
        """Publish a change: a partial ``engines`` event and a full engine ``update``."""
        engine.updated_at = self.w.now()
        dto = engine.dto()
        data = {"id": engine.id, **{f: dto[f] for f in fields}, "updated_at": dto["updated_at"]}
        self.w.publish("events", StreamEvent(0, "engines", data, [*fields, "updated_at"]))
        self.w.publish(f"engine:{engine.id}", StreamEvent(0, "update", dto, None))

    def _set_status(self, engine: Engine, status: str) -> None:
        engine.status = status
        for worker in engine.workers:
            if worker.task_id is None:
                worker.status = "inactive" if status in OFFLINE else "idle"
        self.changed(engine, ["status", "engine_version", "engine_pin", "workers"])

    # actions ---------------------------------------------------------------------------
    def drain(self, engine: Engine) -> None:
        """running → draining → (in-flight tasks end) → stopped."""
        self._require_online(engine, "drain")
        self._require(engine, "drain", ("running",))
        self._set_status(engine, "draining")
        self.released(engine)

    def update(self, engine: Engine, version: object) -> None:
        """running → restarting → (in-flight tasks end) → running with the new version."""
        target = resolve_version(version)
        self._require_online(engine, "update")
        self._require(engine, "update", ("running",))
        engine.pending_version = target
        engine.after_restart = "running"
        self._set_status(engine, "restarting")
        self.released(engine)

    def stop(self, engine: Engine) -> None:
        """Connected: → stopping → (in-flight tasks end) → stopped. Offline: → stopped now."""
        if engine.status in ("stopping", "stopped"):
            raise EngineActionError(
                409, "invalid_transition", f"engine {engine.name} is already {engine.status}"
            )
        self._cancel_timer(engine)
        engine.pending_version = None
        if engine.status == "disconnected":
            self._set_status(engine, "stopped")
            return
        self._set_status(engine, "stopping")
        self.released(engine)

    def restart(self, engine: Engine) -> None:
        """Cloud only: → restarting → (in-flight tasks end) → pending → running."""
        if not engine.profile.cloud:
            raise EngineActionError(
                400, "invalid_request", f"engine {engine.name} has no cloud instance to restart"
            )
        self._require(engine, "restart", ("running", "draining", "restarting", "pending",
                                          "disconnected", "stopped"))  # fmt: skip
        self._cancel_timer(engine)
        engine.after_restart = "pending"
        self._set_status(engine, "restarting")
        self.released(engine)

    # settling --------------------------------------------------------------------------
    def released(self, engine: Engine) -> None:
        """A worker went free: finish a pending action once no task runs any more."""
        if engine.busy() or engine.id in self._timers:
            return
        if engine.status in ("draining", "stopping"):
            self._later(engine, SHUTDOWN_DELAY, lambda: self._set_status(engine, "stopped"))
        elif engine.status == "restarting":
            self._later(engine, RESTART_DELAY, lambda: self._restarted(engine))

    def _restarted(self, engine: Engine) -> None:
        if engine.pending_version is not None:
            engine.engine_version, engine.engine_pin = engine.pending_version
            engine.pending_version = None
        if engine.after_restart == "pending":
            engine.after_restart = "running"
            self._set_status(engine, "pending")
            self._later(engine, PENDING_DELAY, lambda: self._back_online(engine))
        else:
            self._back_online(engine)

    def _back_online(self, engine: Engine) -> None:
        self._set_status(engine, "running")
        self.w.walker.dispatch()

    def _later(self, engine: Engine, delay: float, fn: Callable[[], None]) -> None:
        def fire() -> None:
            self._timers.pop(engine.id, None)
            fn()

        self._timers[engine.id] = self.w.sched.call_later(delay, fire)

    def _cancel_timer(self, engine: Engine) -> None:
        timer = self._timers.pop(engine.id, None)
        if timer is not None:
            timer.cancel()

    @staticmethod
    def _require_online(engine: Engine, action: str) -> None:
        if engine.status in OFFLINE:
            raise EngineActionError(
                409, "engine_offline", f"cannot {action} engine {engine.name}: it is "
                f"{engine.status}, not connected"
            )  # fmt: skip

    @staticmethod
    def _require(engine: Engine, action: str, allowed: tuple[str, ...]) -> None:
        if engine.status not in allowed:
            raise EngineActionError(
                409, "invalid_transition",
                f"cannot {action} engine {engine.name} while it is {engine.status}",
            )  # fmt: skip
