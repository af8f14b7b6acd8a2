"""Status facets edit the query text; error episodes notify once."""

from __future__ import annotations

import pytest

from infdash.ui.episodes import Episodes
from infdash.ui.tasklist.facets import FACETS, active_facet, with_facet

BY_NAME = {f.name: f for f in FACETS}


@pytest.mark.parametrize(
    ("text", "facet", "expected"),
    [
        ("", "failed", "status:failed"),
        ("app:flux", "running", "status:running app:flux"),
        ("status:failed app:flux words", "running", "status:running app:flux words"),
        ("s:queued -status:failed app:x", "all", "app:x"),
        ("app:x status:running", "done", "status:completed app:x"),
    ],
)
def test_with_facet_replaces_the_status_terms(text: str, facet: str, expected: str) -> None:
    assert with_facet(text, BY_NAME[facet]) == expected


def test_active_facet_reads_the_text() -> None:
    assert active_facet("") == BY_NAME["all"]
    assert active_facet("app:x status:failed") == BY_NAME["failed"]
    assert active_facet("status:completed") == BY_NAME["done"]
    assert active_facet("status:failed status:running") is None
    assert active_facet("status:uploading") is None


def test_facet_keys_are_unique() -> None:
    assert len({f.key for f in FACETS}) == len(FACETS)


def test_an_episode_notifies_once_until_a_success() -> None:
    episodes = Episodes()
    assert episodes.failed("list", "boom")
    assert not episodes.failed("list", "boom again")
    assert episodes.message("list") == "boom again"
    episodes.succeeded("list")
    assert episodes.message("list") is None
    assert episodes.failed("list", "boom")
