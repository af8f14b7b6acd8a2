"""When long-lived objects are frozen out of the garbage collector, and that nothing else is."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from infdash.ui.gc_freeze import BULK_ROWS, freeze_bulk_load


class Node:
    """An object that can sit in a reference cycle (as a page's response does)."""

    def __init__(self) -> None:
        self.other: Node | None = None


def old_cycle() -> weakref.ref[Node]:
    """A two-node cycle aged into the oldest generation, then dropped: cyclic garbage."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect()  # survivors of a full collection sit in the oldest generation
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_short_list_freezes_nothing() -> None:
    kept = [Node() for _ in range(10)]
    freeze_bulk_load(BULK_ROWS - 1)
    assert gc.get_freeze_count() == 0
    assert kept


def test_a_bulk_load_freezes_what_is_alive_but_not_old_cyclic_garbage() -> None:
    kept = [Node() for _ in range(10)]
    garbage = old_cycle()
    freeze_bulk_load(BULK_ROWS)
    assert gc.get_freeze_count() > len(kept)
    assert garbage() is None  # collected first, not frozen for the rest of the session
