"""When the app hides long-lived objects from Python's cyclic garbage collector.

A full collection walks every tracked object; objects that live as long as the app (Textual's
DOM and styles, tens of thousands of loaded task rows) made each one a 20-70 ms stall, the tail
of key latency under a log flood (B7) and of loop lag while a big list pages in (B2).
``gc.freeze()`` moves every object alive now out of the collector's reach: later collections
skip them.  Reference counting still frees a frozen object once nothing refers to it; only
cyclic garbage caught in a freeze waits for :func:`unfreeze_objects` (performance.md §1.2 and
§1.6 item 4: freeze after bulk loads).
"""

from __future__ import annotations

import gc

BULK_ROWS = 5_000
"""Below this many loaded rows a full collection costs a few milliseconds: no freeze."""


def freeze_startup_objects() -> None:
    """Once the first screen has painted: collect once, then freeze what is alive (~60k
    startup objects of Textual's, which live as long as the app)."""
    gc.collect()
    gc.freeze()


def freeze_bulk_load(rows: int) -> None:
    """After a page of rows landed in a list now holding ``rows`` rows: freeze them too.

    The full collection first is cheap (what was frozen before is skipped: ~0.3 ms, 5 ms at
    most, over a 50k walk) and needed: a page's response lives in reference cycles and has
    aged into the oldest generation by the time it is garbage, so freezing without it kept
    every page's body (150 MiB for 50k tasks instead of 24).  An object frozen while alive
    that later ends up in a cycle is only freed when the app ends, hence the ``BULK_ROWS``
    threshold: a short list is cheap to walk and is never frozen."""
    if rows >= BULK_ROWS:
        gc.collect()
        gc.freeze()


def unfreeze_objects() -> None:
    """Hand frozen objects back to the collector (when the app ends: tests run many apps)."""
    gc.unfreeze()
