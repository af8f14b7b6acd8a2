"""The rules of engine actions without a screen: who may take them, what the dialog lists,
when an action has settled and what the progress line says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infdash.api import Engine
from infdash.ui.screens.engine_actions import (
    DRAIN,
    RESTART,
    STOP,
    UPDATE,
    VERSION,
    Pending,
    confirm_lines,
)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def engine(
    status: str = "running", version: str = "v1.9.3", busy: int = 1, at: datetime | None = None
) -> Engine:
    workers: list[dict[str, Any]] = [
        {"index": i, "status": "busy", "task_id": f"task_{i}"} for i in range(busy)
    ]
    workers += [{"index": busy + i, "status": "idle"} for i in range(2 - busy)]
    return Engine.from_dict(
        {"id": "eng_1", "name": "rig\x1b[2J-a", "status": status, "engine_version": version,
         "workers": workers, "updated_at": at.isoformat() if at else None}
    )  # fmt: skip


def test_who_may_take_each_action() -> None:
    assert DRAIN.refusal(engine()) is None
    assert UPDATE.refusal(engine()) is None
    assert DRAIN.refusal(engine("disconnected")) == (
        "cannot drain rig-a: it is disconnected (drain needs a connected engine)"
    )
    assert DRAIN.refusal(engine("draining")) == "cannot drain rig-a while it is draining"
    assert STOP.refusal(engine("disconnected")) is None  # an offline engine stops at once
    assert STOP.refusal(engine("draining")) is None
    assert STOP.refusal(engine("stopping")) == "cannot stop rig-a while it is stopping"


def test_the_dialog_names_the_engine_its_busy_workers_and_the_consequence() -> None:
    assert confirm_lines(DRAIN, engine(busy=1)) == [
        "rig-a  (running, v1.9.3)",
        "1 of 2 workers busy",
        "  #0 task task_0",
        "",
        DRAIN.warning,
    ]
    assert confirm_lines(STOP, engine(version="", busy=0))[:2] == [
        "rig-a  (running, version unknown)",
        "0 of 2 workers busy",
    ]


@pytest.mark.parametrize("version", ["stable", "canary", "v1.10.15", "v2.0.0-rc.1"])
def test_versions_the_update_takes(version: str) -> None:
    assert VERSION.match(version)


@pytest.mark.parametrize("version", ["", "latest", "1.10.15", "v1.10", "stable ", "v1.2.3;rm"])
def test_versions_the_update_refuses(version: str) -> None:
    assert not VERSION.match(version)


def test_drain_and_stop_settle_when_stopped() -> None:
    for action in (DRAIN, STOP):
        pending = Pending(action, "eng_1", "rig-a", T0, "v1.9.3")
        assert not pending.observe(engine("running"))
        assert not pending.observe(engine("draining"))
        assert pending.observe(engine("stopped", busy=0))


def test_an_update_settles_when_back_running_not_before_it_left() -> None:
    pending = Pending(UPDATE, "eng_1", "rig-a", T0, "v1.9.3", "canary")
    assert not pending.observe(engine("running"))  # the request not taken up yet
    assert not pending.observe(engine("restarting"))
    assert pending.observe(engine("running", version="v1.11.0-canary"))
    quick = Pending(UPDATE, "eng_1", "rig-a", T0, "v1.9.3", "canary")
    assert quick.observe(engine("running", version="v1.11.0-canary"))  # restart unseen


def test_an_update_to_the_same_version_settles_on_a_newer_record_only() -> None:
    """A poll answered before the restart (as old as it, or older) reads ``running`` on the
    old version: that is not the update done."""
    pending = Pending(UPDATE, "eng_1", "rig-a", T0, "v1.9.3", "stable")
    assert not pending.observe(engine("restarting", at=T0))
    assert not pending.observe(engine("running", at=T0))  # stale: as old as the restart
    assert pending.observe(engine("running", at=T0 + timedelta(seconds=3)))


def test_progress_and_settled_texts() -> None:
    now = T0 + timedelta(seconds=75)
    drain = Pending(DRAIN, "eng_1", "rig-a", T0, "v1.9.3")
    assert drain.progress(engine("draining", busy=1), now) == (
        "draining rig-a: waiting for 1 of 2 workers to finish their tasks · 1m 15s"
    )
    assert drain.progress(engine("draining", busy=0), now) == "draining rig-a: draining · 1m 15s"
    assert drain.progress(None, now) == "draining rig-a · 1m 15s"
    assert drain.settled_text(engine("stopped", busy=0), now) == (
        "rig-a drained: stopped (took 1m 15s)"
    )
    update = Pending(UPDATE, "eng_1", "rig-a", T0, "v1.9.3", "canary")
    assert update.progress(engine("restarting", busy=0), now) == (
        "updating rig-a to canary: restarting · 1m 15s"
    )
    assert update.settled_text(engine(version="v1.11.0"), now) == (
        "rig-a updated: running v1.11.0 (took 1m 15s)"
    )


def test_only_a_cloud_engine_restarts_and_it_settles_back_running() -> None:
    assert RESTART.refusal(engine()) == (
        "cannot restart rig-a: it has no cloud instance (restart is for cloud engines)"
    )
    cloud = Engine.from_dict(
        {"id": "eng_2", "name": "rig-b", "status": "disconnected", "instance": {"cloud": "aws"}}
    )
    assert RESTART.refusal(cloud) is None  # a restart is how a stuck instance comes back
    pending = Pending(RESTART, "eng_2", "rig-b", T0, "v1.9.3")
    assert not pending.observe(engine("restarting", at=T0))
    assert not pending.observe(engine("pending", at=T0 + timedelta(seconds=3)))
    assert pending.observe(engine("running", at=T0 + timedelta(seconds=4)))
    now = T0 + timedelta(seconds=4)
    assert pending.settled_text(engine("running"), now) == "rig-b restarted: running (took 4.0 s)"
