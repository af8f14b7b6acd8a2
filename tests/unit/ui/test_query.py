"""The filter-bar query language: parsing, errors with positions, server filters, matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infdash.api.models.status import TaskStatus
from infdash.api.query import Filter
from infdash.ui.tasklist.query import QueryError, TaskQuery, parse_query
from infdash.ui.tasklist.row import TaskRow

S = TaskStatus
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FINAL = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.REJECTED})
ACTIVE = frozenset(s for s in S if s not in FINAL and s is not S.UNKNOWN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", TaskQuery()),
        ("status:failed", TaskQuery(statuses=frozenset({S.FAILED}))),
        ("s:failed,cancelled", TaskQuery(statuses=frozenset({S.FAILED, S.CANCELLED}))),
        ("STATUS:Running", TaskQuery(statuses=frozenset({S.RUNNING}))),
        ("status:error", TaskQuery(statuses=frozenset({S.FAILED}))),
        ("status:canceled", TaskQuery(statuses=frozenset({S.CANCELLED}))),
        ("status:setting-up", TaskQuery(statuses=frozenset({S.SETTING_UP}))),
        ("status:setting_up", TaskQuery(statuses=frozenset({S.SETTING_UP}))),
        ("status:active", TaskQuery(statuses=ACTIVE)),
        ("status:done", TaskQuery(statuses=FINAL)),
        ("status:finished", TaskQuery(statuses=FINAL)),
        ("status:!failed", TaskQuery(exclude_statuses=frozenset({S.FAILED}))),
        ("-status:failed", TaskQuery(exclude_statuses=frozenset({S.FAILED}))),
        ("-s:done", TaskQuery(exclude_statuses=FINAL)),
        (
            "status:!failed,cancelled",
            TaskQuery(exclude_statuses=frozenset({S.FAILED, S.CANCELLED})),
        ),
        (
            "status:active,!queued",
            TaskQuery(statuses=ACTIVE, exclude_statuses=frozenset({S.QUEUED})),
        ),
        ("status:running status:queued", TaskQuery(statuses=frozenset({S.RUNNING, S.QUEUED}))),
        ("app:Flux", TaskQuery(apps=("flux",))),
        ("a:infsh/slow", TaskQuery(apps=("infsh/slow",))),
        ("app:infsh/echo@1.1.0", TaskQuery(apps=("infsh/echo@1.1.0",))),
        ("app:echo,slow app:echo", TaskQuery(apps=("echo", "slow"))),
        ('app:"my app"', TaskQuery(apps=("my app",))),
        ("engine:rig-a", TaskQuery(engines=("rig-a",))),
        ("e:rig-a,eng_123", TaskQuery(engines=("rig-a", "eng_123"))),
        ("since:45s", TaskQuery(since=timedelta(seconds=45))),
        ("since:30m", TaskQuery(since=timedelta(minutes=30))),
        ("since:1H", TaskQuery(since=timedelta(hours=1))),
        ("since:2d", TaskQuery(since=timedelta(days=2))),
        ("since:1w", TaskQuery(since=timedelta(weeks=1))),
        ("since:1h since:2d", TaskQuery(since=timedelta(days=2))),
        ("hello world", TaskQuery(terms=("hello", "world"))),
        ('"two words" x', TaskQuery(terms=("two words", "x"))),
        ('"http://x"', TaskQuery(terms=("http://x",))),
        ('"status:failed"', TaskQuery(terms=("status:failed",))),
        ("12:30 a-b:c -x", TaskQuery(terms=("12:30", "a-b:c", "-x"))),
        ('""', TaskQuery()),
        (
            "  status:failed  app:echo   since:1h  boom  ",
            TaskQuery(
                statuses=frozenset({S.FAILED}),
                apps=("echo",),
                since=timedelta(hours=1),
                terms=("boom",),
            ),
        ),
    ],
)
def test_parse(text: str, expected: TaskQuery) -> None:
    query = parse_query(text)
    assert query.text == text
    assert query == TaskQuery(
        text=text,
        statuses=expected.statuses,
        exclude_statuses=expected.exclude_statuses,
        apps=expected.apps,
        engines=expected.engines,
        since=expected.since,
        terms=expected.terms,
    )
    assert query.is_empty == (expected == TaskQuery())


@pytest.mark.parametrize(
    ("text", "message", "position", "length"),
    [
        ("foo:bar", "unknown filter 'foo:' — use status:, app:, engine:, since:", 0, 4),
        ("x  Foo:bar", "unknown filter 'Foo:' — use status:, app:, engine:, since:", 3, 4),
        ("-foo:bar", "unknown filter 'foo:' — use status:, app:, engine:, since:", 1, 4),
        ("http://x", "unknown filter 'http:' — use status:, app:, engine:, since:", 0, 5),
        ("status:runing", "unknown status 'runing' (did you mean running?)", 7, 6),
        ("a status:failed,runing", "unknown status 'runing' (did you mean running?)", 16, 6),
        ("status:!faild", "unknown status 'faild' (did you mean failed?)", 8, 5),
        ("status:ok,!canceld", "unknown status 'ok' (try running, failed, active or done)", 7, 2),
        ("status:running,!canceld", "unknown status 'canceld' (did you mean canceled?)", 16, 7),
        ("status:zzzz", "unknown status 'zzzz' (try running, failed, active or done)", 7, 4),
        ("status:", "empty value for status:", 0, 7),
        ("x app:", "empty value for app:", 2, 4),
        ("status:failed,", "empty item in a comma list", 13, 1),
        ("status:,failed", "empty item in a comma list", 7, 1),
        ("status:!", "empty value after !", 7, 1),
        ("status:running,!", "empty value after !", 15, 1),
        ("-app:echo", "only status: can be excluded", 0, 9),
        (
            "since:90",
            "bad duration '90': use a number and a unit, e.g. 45s, 30m, 1h, 2d, 1w",
            6,
            2,
        ),
        (
            "x since:1y",
            "bad duration '1y': use a number and a unit, e.g. 45s, 30m, 1h, 2d, 1w",
            8,
            2,
        ),
        (
            "since:1h,2h",
            "bad duration '1h,2h': use a number and a unit, e.g. 45s, 30m, 1h, 2d, 1w",
            6,
            5,
        ),
        ("since:0m", "duration '0m' must be more than zero", 6, 2),
        ('boom "abc', "unterminated quote", 5, 4),
        ('app:"abc', "unterminated quote", 4, 4),
    ],
)
def test_parse_errors(text: str, message: str, position: int, length: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    err = info.value
    assert (str(err), err.message, err.position, err.length) == (message, message, position, length)
    assert isinstance(err, ValueError)
    assert 0 <= err.position < len(text)


def test_server_filters_and_search() -> None:
    query = parse_query("status:active,!queued app:Echo since:1h engine:rig-a,RIG-B two words")
    filters = query.server_filters(NOW, {"rig-a": "eng_a", "rig-b": "eng_b"})
    assert filters == [
        Filter("status", "in", [s.label for s in sorted(ACTIVE)]),
        Filter("status", "not_in", ["queued"]),
        Filter("app", "contains", "echo"),
        Filter("created_at", "gte", "2026-11-25T11:00:00.000Z"),
        Filter("engine_id", "in", ["eng_a", "eng_b"]),
    ]
    assert query.server_search() is None  # several words: each checked here, not as a phrase
    assert query.local_only_keys({"rig-a": "eng_a", "rig-b": "eng_b"}) == frozenset({"text"})
    one_word = parse_query("app:echo hello")
    assert one_word.server_search() == "hello"
    assert one_word.local_only_keys() == frozenset()
    assert query.keys() == frozenset({"status", "app", "since", "engine", "text"})


def test_server_filters_leave_to_local_what_the_server_cannot_do() -> None:
    query = parse_query("app:echo,slow engine:rig-a,rig-z")
    assert query.server_filters(NOW, {"rig-a": "eng_a"}) == []
    assert query.local_only_keys({"rig-a": "eng_a"}) == frozenset({"app", "engine"})
    assert query.local_only_keys(None) == frozenset({"app", "engine"})
    by_id = parse_query("engine:eng_a")
    assert by_id.server_filters(NOW, {"rig-a": "eng_a"}) == [Filter("engine_id", "in", ["eng_a"])]
    skipped = parse_query("status:failed app:echo since:2d")
    assert skipped.server_filters(NOW, skip={"app", "status"}) == [
        Filter("created_at", "gte", "2026-11-23T12:00:00.000Z")
    ]
    assert parse_query("").server_filters(NOW) == []
    assert parse_query("").server_search() is None


def _row(**changes: object) -> TaskRow:
    base: dict[str, object] = {
        "id": "task_0001abcd",
        "short_id": "0001abcd",
        "app": "infsh/echo@1.1.0",
        "status": S.COMPLETED,
        "status_text": "completed",
        "created_at": NOW - timedelta(minutes=10),
        "updated_at": NOW - timedelta(minutes=9),
        "started_at": None,
        "finished_at": None,
        "engine": "rig-a",
        "worker": "rig-a/0",
    }
    base.update(changes)
    return TaskRow(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("", _row(), True),
        ("status:completed", _row(), True),
        ("status:failed", _row(), False),
        ("status:done", _row(), True),
        ("status:active", _row(), False),
        ("-status:completed", _row(), False),
        ("status:done,!completed", _row(), False),
        ("status:done,!failed", _row(), True),
        ("app:ECHO", _row(), True),
        ("app:infsh/echo@1.1.0", _row(), True),
        ("app:infsh/echo@2", _row(), False),
        ("app:flux,echo", _row(), True),
        ("app:flux", _row(), False),
        ("engine:RIG-A", _row(), True),
        ("engine:rig-b", _row(), False),
        ("engine:rig", _row(), False),
        ("engine:rig-c", _row(engine="eng_x", worker="rig-c/1"), True),
        ("engine:rig-a", _row(engine="", worker=""), False),
        ("since:30m", _row(), True),
        ("since:5m", _row(), False),
        ("since:1h", _row(created_at=None), False),
        ("0001ABCD", _row(), True),
        ("echo rig-a/0", _row(), True),
        ("echo nope", _row(), False),
        ('"echo@1.1"', _row(), True),
        ("complete", _row(), True),
        ("status:completed app:echo engine:rig-a since:1h echo", _row(), True),
    ],
)
def test_matches(text: str, row: TaskRow, expected: bool) -> None:
    assert parse_query(text).matches(row, NOW) is expected


def test_matches_only_some_keys() -> None:
    query = parse_query("status:failed app:echo")
    assert not query.matches(_row(), NOW)
    assert query.matches(_row(), NOW, keys={"app"})
    assert not query.matches(_row(), NOW, keys={"status"})
    assert query.matches(_row(), NOW, keys=())
