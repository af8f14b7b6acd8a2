"""The engines store: newer ``updated_at`` wins, no state is final, partials re-parse."""

from __future__ import annotations

from infdash.api import Engine, EngineStatus
from infdash.scheduler import FakeClock, engine_store


def engine(status: str, at: str, **extra: object) -> Engine:
    return Engine.from_dict({"id": "eng_1", "status": status, "updated_at": at, **extra})


def test_newer_wins_and_older_is_ignored(clock: FakeClock) -> None:
    store = engine_store(clock)
    assert store.apply(engine("draining", "2026-11-25T10:00:02Z"))
    assert not store.apply(engine("running", "2026-11-25T10:00:01Z"))  # a late poll answer
    got = store.get("eng_1")
    assert got is not None
    assert got.status is EngineStatus.DRAINING


def test_a_stopped_engine_may_run_again(clock: FakeClock) -> None:
    store = engine_store(clock)
    store.apply(engine("stopped", "2026-11-25T10:00:01Z"))
    assert store.apply(engine("running", "2026-11-25T10:00:05Z"))  # restarted
    got = store.get("eng_1")
    assert got is not None
    assert got.status is EngineStatus.RUNNING


def test_a_partial_keeps_the_rest_of_the_engine(clock: FakeClock) -> None:
    store = engine_store(clock)
    store.apply(engine("running", "2026-11-25T10:00:01Z", name="rig-a"))
    assert store.apply_partial(
        "eng_1", {"status": "draining", "updated_at": "2026-11-25T10:00:03Z"}
    )
    got = store.get("eng_1")
    assert got is not None
    assert got.status is EngineStatus.DRAINING
    assert got.name == "rig-a"
    assert not store.apply_partial("eng_2", {"status": "stopped"})  # unknown: fetch it whole
