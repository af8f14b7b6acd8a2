"""The Store merges monotonically (R26) and notifies once per batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from infdash.scheduler import (
    Change,
    FakeClock,
    Store,
    TaskStatus,
    is_terminal_status,
    task_status_rank,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Task:
    id: str
    status: int
    updated_at: datetime | None
    app: str = "infsh/echo"
    logs: tuple[str, ...] = field(default=())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_store(clock: FakeClock) -> Store[Task]:
    return Store(
        rank=lambda t: task_status_rank(t.status),
        is_terminal=lambda t: is_terminal_status(t.status),
        clock=clock,
    )


@pytest.fixture
def store(clock: FakeClock) -> Store[Task]:
    return make_store(clock)


@pytest.fixture
def changes(store: Store[Task]) -> list[Change]:
    seen: list[Change] = []
    store.listen(seen.append)
    return seen


def test_newer_replaces_and_older_is_ignored(store: Store[Task], changes: list[Change]) -> None:
    assert store.apply(Task("t1", TaskStatus.QUEUED, at(1)))
    assert store.apply(Task("t1", TaskStatus.RUNNING, at(5)))
    assert not store.apply(Task("t1", TaskStatus.QUEUED, at(3)))  # a late stream replay
    got = store.get("t1")
    assert got is not None
    assert got.status == TaskStatus.RUNNING
    assert [c.updated for c in changes] == [frozenset({"t1"})] * 2


def test_equal_updated_at_is_settled_by_status_rank(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.RUNNING, at(5)))
    assert not store.apply(Task("t1", TaskStatus.QUEUED, at(5)))
    assert store.apply(Task("t1", TaskStatus.UPLOADING, at(5)))
    got = store.get("t1")
    assert got is not None
    assert got.status == TaskStatus.UPLOADING


def test_without_timestamps_rank_decides(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.RUNNING, None))
    assert not store.apply(Task("t1", TaskStatus.DISPATCHED, None))
    assert store.apply(Task("t1", TaskStatus.UPLOADING, None))


def test_a_naive_timestamp_falls_back_to_rank_instead_of_raising(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.RUNNING, at(5)))
    naive = datetime(2030, 1, 1)
    assert not store.apply(Task("t1", TaskStatus.QUEUED, naive))
    assert store.apply(Task("t1", TaskStatus.UPLOADING, naive))


def test_terminal_states_are_sticky(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.COMPLETED, at(10)))
    # Even a "newer" non-final update cannot take a finished task back.
    assert not store.apply(Task("t1", TaskStatus.RUNNING, at(20)))
    # A newer final record (e.g. with outputs filled in) is still welcome.
    assert store.apply(Task("t1", TaskStatus.COMPLETED, at(11), logs=("done",)))
    got = store.get("t1")
    assert got is not None
    assert (got.status, got.logs) == (TaskStatus.COMPLETED, ("done",))


def test_unknown_status_codes_rank_below_known_ones(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.QUEUED, at(5)))
    assert not store.apply(Task("t1", 99, at(5)))
    assert task_status_rank(99) < task_status_rank(TaskStatus.UNKNOWN)


def test_identical_record_is_not_a_change(store: Store[Task], changes: list[Change]) -> None:
    task = Task("t1", TaskStatus.RUNNING, at(5))
    store.apply(task)
    assert not store.apply(Task("t1", TaskStatus.RUNNING, at(5)))
    assert len(changes) == 1


def test_partial_update_merges_fields(store: Store[Task]) -> None:
    store.apply(Task("t1", TaskStatus.RUNNING, at(5), app="infsh/llm"))
    assert store.apply_partial(
        "t1", {"id": "ignored", "status": TaskStatus.UPLOADING, "updated_at": at(6), "x": 1}
    )
    got = store.get("t1")
    assert got == Task("t1", TaskStatus.UPLOADING, at(6), app="infsh/llm")
    # An older partial is refused like any older update; an unknown id cannot be built.
    assert not store.apply_partial("t1", {"status": TaskStatus.QUEUED, "updated_at": at(2)})
    assert not store.apply_partial("nope", {"status": TaskStatus.RUNNING})


def test_apply_many_notifies_once_with_every_changed_id(
    store: Store[Task], changes: list[Change]
) -> None:
    store.apply(Task("a", TaskStatus.RUNNING, at(5)))
    changes.clear()
    changed = store.apply_many(
        [
            Task("a", TaskStatus.QUEUED, at(1)),  # older: ignored
            Task("b", TaskStatus.QUEUED, at(1)),
            Task("c", TaskStatus.RUNNING, at(2)),
            Task("c", TaskStatus.UPLOADING, at(3)),
        ]
    )
    assert changed == {"b", "c"}
    assert changes == [Change(frozenset({"b", "c"}))]


def test_nested_batches_flush_once_at_the_outermost_end(
    store: Store[Task], changes: list[Change]
) -> None:
    with store.batch():
        store.apply(Task("a", TaskStatus.QUEUED, at(1)))
        with store.batch():
            store.apply(Task("b", TaskStatus.QUEUED, at(1)))
            store.apply_partial("b", {"status": TaskStatus.RUNNING, "updated_at": at(2)})
        assert changes == []
        store.remove("a")
    assert changes == [Change(frozenset({"b"}), frozenset({"a"}))]


def test_a_batch_that_raises_still_notifies(store: Store[Task], changes: list[Change]) -> None:
    def failing_batch() -> None:
        with store.batch():
            store.apply(Task("a", TaskStatus.QUEUED, at(1)))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_batch()
    assert changes == [Change(frozenset({"a"}))]


def test_a_failing_listener_does_not_silence_the_others(store: Store[Task]) -> None:
    seen: list[Change] = []

    def bad(change: Change) -> None:
        raise ValueError("listener bug")

    store.listen(bad)
    unlisten = store.listen(seen.append)
    with pytest.raises(ValueError, match="listener bug"):
        store.apply(Task("a", TaskStatus.QUEUED, at(1)))
    assert len(seen) == 1
    unlisten()
    with pytest.raises(ValueError, match="listener bug"):
        store.apply(Task("b", TaskStatus.QUEUED, at(1)))
    assert len(seen) == 1


def test_refreshed_at_tracks_confirmations_for_stale_since(
    store: Store[Task], clock: FakeClock
) -> None:
    assert store.age("t1") is None
    store.apply(Task("t1", TaskStatus.RUNNING, at(5)))
    clock.advance(12)
    assert store.age("t1") == 12
    store.apply(Task("t1", TaskStatus.RUNNING, at(5)))  # unchanged but confirmed
    assert store.age("t1") == 0
    clock.advance(3)
    store.mark_refreshed("t1")
    assert store.refreshed_at("t1") == clock.now
    store.mark_refreshed("unknown")
    assert store.refreshed_at("unknown") is None


def test_clear_removes_everything_in_one_notification(
    store: Store[Task], changes: list[Change]
) -> None:
    store.apply_many([Task(str(i), TaskStatus.QUEUED, at(i)) for i in range(5)])
    changes.clear()
    store.clear()
    assert len(store) == 0
    assert changes == [Change(frozenset(), frozenset({"0", "1", "2", "3", "4"}))]
    assert not store.remove("0")


def test_task_store_keeps_the_status_history_a_slimmer_update_lacks() -> None:
    """A task rebuilt from a stream partial (events of its first snapshot) must not shorten
    the history a full fetch gave: the newer status wins, the known events stay."""
    from infdash.api import Task as ApiTask
    from infdash.scheduler.stores import task_store

    def event(status: str, second: int) -> dict[str, object]:
        return {"status": status, "event_time": f"2026-11-25T12:00:{second:02d}Z"}

    store = task_store(FakeClock())
    full = ApiTask.from_dict(
        {
            "id": "t1",
            "status": "running",
            "updated_at": "2026-11-25T12:00:05Z",
            "events": [event("received", 0), event("queued", 1), event("running", 5)],
        }
    )
    slim = ApiTask.from_dict(
        {
            "id": "t1",
            "status": "cancelled",
            "updated_at": "2026-11-25T12:00:09Z",
            "events": [event("received", 0), event("cancelled", 9)],
        }
    )
    store.apply(full)
    assert store.apply(slim)
    kept = store.get("t1")
    assert kept is not None
    assert kept.status_label == "cancelled"
    assert [e.status.label for e in kept.events] == ["received", "queued", "running", "cancelled"]
