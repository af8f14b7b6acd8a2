"""The task list's filter-bar language: ``status:failed app:flux since:1h some words``.

The user types one line; :func:`parse_query` turns it into a :class:`TaskQuery` or raises a
:class:`QueryError` that says where the mistake is (so the bar can underline it). A query is
used twice: as server list filters (:meth:`TaskQuery.server_filters`, so 50k tasks are never
loaded to be filtered here) and as a local predicate (:meth:`TaskQuery.matches`) for rows that
arrive live, and for whatever the server could not filter.

Grammar (tokens are separated by whitespace; double quotes group, ``"two words"``):

* ``key:value`` with keys ``status``/``s``, ``app``/``a``, ``engine``/``e`` and ``since``
  (keys are case-insensitive); values may be comma lists (``status:failed,cancelled``).
* ``status:!failed`` or ``-status:failed`` excludes; a leading ``!`` negates the whole list,
  ``!`` before a later item excludes just that item. Only ``status`` can be excluded.
* status aliases: ``active`` (every non-final status), ``done``/``finished`` (final ones),
  ``error`` = failed, ``canceled`` = cancelled, ``setting-up`` = setting_up.
* ``since:`` takes a positive count and a unit: ``45s 30m 1h 2d 1w``.
* any other word is free text; a ``"quoted phrase"`` is one term. A word whose part before
  the first colon is purely letters is read as a filter, so an unknown one (``foo:x``, also
  ``http://x``) is an error; quote it (``"http://x"``) to search for it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from infdash.api.models.status import TaskStatus
from infdash.api.query import Filter
from infdash.ui.tasklist.row import TaskRow

KEYS = ("status", "app", "engine", "since", "text")
"""Query keys, as named by ``server_filters(skip=...)`` and ``PagedTaskList.local_keys``
(``text`` is the free-text search)."""

_KEY_ALIASES = {
    "status": "status",
    "s": "status",
    "app": "app",
    "a": "app",
    "engine": "engine",
    "e": "engine",
    "since": "since",
}
_UNKNOWN_KEY = "unknown filter '{key}:' — use status:, app:, engine:, since:"
_FINAL = frozenset(s for s in TaskStatus if s.is_terminal)
_ACTIVE = frozenset(s for s in TaskStatus if not s.is_terminal and s is not TaskStatus.UNKNOWN)
_STATUS_WORDS: dict[str, frozenset[TaskStatus]] = {
    **{s.label: frozenset({s}) for s in TaskStatus if s is not TaskStatus.UNKNOWN},
    "setting-up": frozenset({TaskStatus.SETTING_UP}),
    "canceled": frozenset({TaskStatus.CANCELLED}),
    "error": frozenset({TaskStatus.FAILED}),
    "active": _ACTIVE,
    "done": _FINAL,
    "finished": _FINAL,
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([a-z])")
_KEY = re.compile(r"-?([A-Za-z]+):")


class QueryError(ValueError):
    """A query that does not parse: ``message``, and where to underline it in the text."""

    def __init__(self, message: str, position: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.position = max(0, position)
        self.length = max(1, length)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TaskQuery:
    """A parsed filter-bar query; the empty query matches every task."""

    text: str = ""
    statuses: frozenset[TaskStatus] = frozenset()
    exclude_statuses: frozenset[TaskStatus] = frozenset()
    apps: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    since: timedelta | None = None
    terms: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.statuses
            or self.exclude_statuses
            or self.apps
            or self.engines
            or self.since is not None
            or self.terms
        )

    def keys(self) -> frozenset[str]:
        """The query keys this query uses (of :data:`KEYS`)."""
        used = {
            "status": bool(self.statuses or self.exclude_statuses),
            "app": bool(self.apps),
            "engine": bool(self.engines),
            "since": self.since is not None,
            "text": bool(self.terms),
        }
        return frozenset(key for key, on in used.items() if on)

    def local_only_keys(self, engine_ids: Mapping[str, str] | None = None) -> frozenset[str]:
        """Keys :meth:`server_filters` cannot express (several apps, unresolved engines)."""
        local: set[str] = set()
        if len(self.apps) > 1:
            local.add("app")
        if self.engines and _engine_ids(self.engines, engine_ids) is None:
            local.add("engine")
        if len(self.terms) > 1:
            local.add("text")
        return frozenset(local)

    def server_filters(
        self,
        now: datetime,
        engine_ids: Mapping[str, str] | None = None,
        skip: Collection[str] = (),
    ) -> list[Filter]:
        """List filters for the keys the server can apply; the rest is left to :meth:`matches`.

        ``engine_ids`` maps engine names to ids (engines filter server-side only when every
        name resolves); keys in ``skip`` are left out (the server rejected them).
        """
        filters: list[Filter] = []
        if "status" not in skip:
            if self.statuses:
                filters.append(Filter("status", "in", _labels(self.statuses)))
            if self.exclude_statuses:
                filters.append(Filter("status", "not_in", _labels(self.exclude_statuses)))
        if "app" not in skip and len(self.apps) == 1:
            filters.append(Filter("app", "contains", self.apps[0]))
        if "since" not in skip and self.since is not None:
            filters.append(Filter("created_at", "gte", rfc3339(now - self.since)))
        ids = _engine_ids(self.engines, engine_ids) if "engine" not in skip else None
        if self.engines and ids is not None:
            filters.append(Filter("engine_id", "in", ids))
        return filters

    def server_search(self) -> str | None:
        """The one free-text term, or None without any or with several.

        A server's search matches one substring; several words (each to be found somewhere)
        are therefore checked here, against every loaded row, instead of sent as one phrase.
        """
        return self.terms[0] if len(self.terms) == 1 else None

    def matches(self, row: TaskRow, now: datetime, keys: Collection[str] | None = None) -> bool:
        """Whether ``row`` satisfies the whole query (or only ``keys`` of it)."""
        checks = {
            "status": self._status_ok,
            "app": self._app_ok,
            "engine": self._engine_ok,
            "text": self._terms_ok,
        }
        for key, check in checks.items():
            if (keys is None or key in keys) and not check(row):
                return False
        if (keys is None or "since" in keys) and self.since is not None:
            return row.created_at is not None and row.created_at >= now - self.since
        return True

    def _status_ok(self, row: TaskRow) -> bool:
        if self.statuses and row.status not in self.statuses:
            return False
        return row.status not in self.exclude_statuses

    def _app_ok(self, row: TaskRow) -> bool:
        if not self.apps:
            return True
        app = row.app.lower()
        return any(wanted in app for wanted in self.apps)

    def _engine_ok(self, row: TaskRow) -> bool:
        if not self.engines:
            return True
        names = {row.engine.casefold(), row.worker.rpartition("/")[0].casefold()} - {""}
        return any(wanted.casefold() in names for wanted in self.engines)

    def _terms_ok(self, row: TaskRow) -> bool:
        if not self.terms:
            return True
        fields = (row.id, row.short_id, row.app, row.engine, row.worker, row.status_text)
        haystack = "\n".join(fields).casefold()
        return all(term.casefold() in haystack for term in self.terms)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC text with milliseconds (``2026-11-25T12:00:00.000Z``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _labels(statuses: frozenset[TaskStatus]) -> list[str]:
    return [s.label for s in sorted(statuses)]


def _engine_ids(engines: tuple[str, ...], engine_ids: Mapping[str, str] | None) -> list[str] | None:
    """Every engine name/id as an id, or None when one does not resolve."""
    if not engines or not engine_ids:
        return None
    by_name = {name.casefold(): eid for name, eid in engine_ids.items()}
    known_ids = set(engine_ids.values())
    ids: list[str] = []
    for wanted in engines:
        eid = wanted if wanted in known_ids else by_name.get(wanted.casefold())
        if eid is None:
            return None
        if eid not in ids:
            ids.append(eid)
    return ids


# --- parsing -------------------------------------------------------------------------------


@dataclass
class _Token:
    """One whitespace-separated token: its text without quotes, and each char's offset."""

    text: str = ""
    offsets: list[int] = field(default_factory=list)
    quoted: bool = False
    """The token started with a quote (a phrase, never a filter)."""

    def at(self, index: int) -> int:
        """Offset in the typed text of the token's ``index``-th character."""
        if not self.offsets:
            return 0
        return self.offsets[min(index, len(self.offsets) - 1)]


def _tokens(text: str) -> Iterator[_Token]:
    """Split ``text`` on whitespace outside double quotes; raise on an unterminated quote."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        token = _Token(quoted=text[i] == '"')
        while i < n and not text[i].isspace():
            if text[i] == '"':
                close = text.find('"', i + 1)
                if close < 0:
                    raise QueryError("unterminated quote", i, n - i)
                token.text += text[i + 1 : close]
                token.offsets.extend(range(i + 1, close))
                i = close + 1
            else:
                token.text += text[i]
                token.offsets.append(i)
                i += 1
        yield token


@dataclass
class _Builder:
    """Accumulates the parts of a query while tokens are read."""

    statuses: set[TaskStatus] = field(default_factory=set)
    excluded: set[TaskStatus] = field(default_factory=set)
    apps: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)
    since: timedelta | None = None
    terms: list[str] = field(default_factory=list)

    def build(self, text: str) -> TaskQuery:
        return TaskQuery(
            text=text,
            statuses=frozenset(self.statuses),
            exclude_statuses=frozenset(self.excluded),
            apps=tuple(self.apps),
            engines=tuple(self.engines),
            since=self.since,
            terms=tuple(self.terms),
        )


def parse_query(text: str) -> TaskQuery:
    """Parse the filter bar's text; raises :class:`QueryError` with the mistake's position."""
    builder = _Builder()
    for token in _tokens(text):
        match = None if token.quoted else _KEY.match(token.text)
        if match is None:
            if token.text:
                builder.terms.append(token.text)
            continue
        _read_filter(builder, token, match)
    return builder.build(text)


def _read_filter(builder: _Builder, token: _Token, match: re.Match[str]) -> None:
    """One ``[-]key:value`` token into ``builder``."""
    negated = token.text.startswith("-")
    key_start = 1 if negated else 0
    raw_key = match.group(1)
    key = _KEY_ALIASES.get(raw_key.lower())
    if key is None:
        message = _UNKNOWN_KEY.format(key=raw_key)
        raise QueryError(message, token.at(key_start), len(raw_key) + 1)
    value_start = match.end()
    value = token.text[value_start:]
    if not value:
        raise QueryError(f"empty value for {raw_key}:", token.at(key_start), len(raw_key) + 1)
    if negated and key != "status":
        raise QueryError("only status: can be excluded", token.at(0), len(token.text))
    if key == "status":
        _read_statuses(builder, token, value_start, negated)
    elif key == "since":
        builder.since = _duration(value, token.at(value_start))
    else:
        items = [item for item, _ in _items(token, value_start)]
        target = builder.apps if key == "app" else builder.engines
        for item in items:
            wanted = item.lower() if key == "app" else item
            if wanted not in target:
                target.append(wanted)


def _items(token: _Token, start: int) -> Iterator[tuple[str, int]]:
    """The comma-separated items of a value, each with its offset in the typed text."""
    index = start
    for item in token.text[start:].split(","):
        if not item:
            raise QueryError("empty item in a comma list", token.at(index), 1)
        yield item, token.at(index)
        index += len(item) + 1


def _read_statuses(builder: _Builder, token: _Token, start: int, negated: bool) -> None:
    """Status names and aliases into the wanted or the excluded set."""
    if token.text[start:].startswith("!"):
        negated = True
        start += 1
        if start >= len(token.text):
            raise QueryError("empty value after !", token.at(start - 1), 1)
    for item, position in _items(token, start):
        exclude = negated or item.startswith("!")
        word = item.lstrip("!")
        offset = len(item) - len(word)
        if not word:
            raise QueryError("empty value after !", position, len(item))
        statuses = _STATUS_WORDS.get(word.lower())
        if statuses is None:
            raise QueryError(_unknown_status(word), position + offset, len(word))
        (builder.excluded if exclude else builder.statuses).update(statuses)


def _unknown_status(word: str) -> str:
    close = difflib.get_close_matches(word.lower(), list(_STATUS_WORDS), n=1)
    if close:
        return f"unknown status '{word}' (did you mean {close[0]}?)"
    return f"unknown status '{word}' (try running, failed, active or done)"


def _duration(value: str, position: int) -> timedelta:
    """``30m`` → 30 minutes; anything else raises at ``position``."""
    match = _DURATION.fullmatch(value.lower())
    if match is None or match.group(2) not in _UNITS:
        message = f"bad duration '{value}': use a number and a unit, e.g. 45s, 30m, 1h, 2d, 1w"
        raise QueryError(message, position, len(value))
    count = int(match.group(1))
    if count <= 0:
        raise QueryError(f"duration '{value}' must be more than zero", position, len(value))
    return timedelta(seconds=count * _UNITS[match.group(2)])
