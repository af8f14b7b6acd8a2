"""The chats store: newer ``updated_at`` wins, ``completed`` sticks, ties go by turn rank."""

from __future__ import annotations

import pytest

from infdash.api import Chat
from infdash.scheduler import FakeClock, chat_status_rank, chat_store

AT = "2026-11-25T10:00:01Z"


def chat(status: str, at: str = AT, **extra: object) -> Chat:
    return Chat.from_dict({"id": "chat_1", "status": status, "updated_at": at, **extra})


def status_of(store_chat: Chat | None) -> str:
    assert store_chat is not None
    return store_chat.status


def test_an_older_record_is_ignored(clock: FakeClock) -> None:
    store = chat_store(clock)
    assert store.apply(chat("idle", "2026-11-25T10:00:05Z"))
    assert not store.apply(chat("busy", "2026-11-25T10:00:02Z"))  # a late poll answer
    assert status_of(store.get("chat_1")) == "idle"
    assert store.apply(chat("busy", "2026-11-25T10:00:09Z"))  # the next turn gets through
    assert status_of(store.get("chat_1")) == "busy"


def test_completed_is_sticky(clock: FakeClock) -> None:
    store = chat_store(clock)
    assert store.apply(chat("completed", "2026-11-25T10:00:05Z"))
    assert not store.apply(chat("busy", "2026-11-25T10:00:09Z"))  # even a newer one
    assert not store.apply(chat("idle", "2026-11-25T10:00:09Z"))
    assert status_of(store.get("chat_1")) == "completed"


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("busy", "waiting"),
        ("waiting", "awaiting_input"),
        ("awaiting_input", "idle"),
        ("busy", "idle"),
        ("idle", "completed"),
        ("mystery", "busy"),
    ],
)
def test_equal_updated_at_never_goes_back(clock: FakeClock, earlier: str, later: str) -> None:
    assert chat_status_rank(earlier) < chat_status_rank(later)
    store = chat_store(clock)
    assert store.apply(chat(earlier))
    assert store.apply(chat(later))
    assert not store.apply(chat(earlier))  # a replay stamped alike
    assert status_of(store.get("chat_1")) == later


def test_a_tie_at_the_same_rank_takes_the_newcomer(clock: FakeClock) -> None:
    store = chat_store(clock)
    store.apply(chat("busy", name="old"))
    assert store.apply(chat("busy", name="renamed"))
    got = store.get("chat_1")
    assert got is not None
    assert got.name == "renamed"
