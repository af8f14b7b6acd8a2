"""The reconnect-and-reconcile loop shared by every long-lived stream (tasks, engines, chats).

A subclass says how to read one connection (``_connect_once``), how to fetch the truth over
REST after a connection ended (``_reconcile``) and when it is finished (``done``). This loop
does the rest, as the task stream always did: the status is checked before reading (401/403/404
are final; 429 waits ``Retry-After``; 204 means stop; an HTML page is a clear error); every end
without ``done`` is reconciled and reconnected with full-jitter backoff (the counter resets after
progress; the server's SSE ``retry:`` is used for the first attempt); the connection is always
closed, also when the consumer stops early.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from infdash.api.envelope import parse_error
from infdash.api.errors import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    StreamContentError,
    StreamError,
    StreamOversizedError,
    UnauthorizedError,
)
from infdash.api.retry import retry_delay
from infdash.api.streams import NDJSONParser, SSEParser, StreamFrame, StreamStats, read_frames

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat

# Errors after which reconnecting cannot help.
FINAL_ERRORS = (UnauthorizedError, ForbiddenError, NotFoundError)
DEFAULT_MAX_RECONNECTS = 5

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class StreamReconnecting:
    """The connection ended early; the next attempt starts after ``delay`` seconds."""

    attempt: int
    delay: float
    reason: str
    oversized: bool = False
    """The connection was recycled after an event over the size cap was dropped (R24)."""


class NoContent(Exception):
    """The stream answered 204: the server says not to reconnect (WHATWG SSE)."""


def pick_parser(response: httpx.Response, path: str) -> SSEParser | NDJSONParser:
    """A parser for the response's content type; anything else is a clear StreamError."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "event-stream" in ctype:
        return SSEParser()
    if "ndjson" in ctype or "jsonl" in ctype or ctype == "application/json":
        return NDJSONParser()
    what = "an HTML page (a proxy or captive portal?)" if "html" in ctype else repr(ctype)
    raise StreamContentError(
        f"stream answered with {what} instead of an event stream",
        status=response.status_code,
        method="GET",
        path=path,
    )


async def check_stream_response(
    client: InferenceClient, response: httpx.Response, path: str
) -> SSEParser | NDJSONParser:
    """Check a stream's status before reading it: raise the mapped error, or pick a parser."""
    status = response.status_code
    if status == 204:
        raise NoContent
    if not 200 <= status < 300:
        await response.aread()
        retry_after = client.observe_stream_response(path, response)
        raise parse_error(response, "GET", path, retry_after)
    return pick_parser(response, path)


class ReconnectingStream(Generic[E]):
    """Async iterator of ``E | StreamReconnecting`` over reconnects; use ``async with``.

    ``max_reconnects=None`` never gives up (engine and chat streams have no natural end).
    """

    ended_reason = "stream ended"

    def __init__(
        self,
        client: InferenceClient,
        path: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        max_reconnects: int | None = DEFAULT_MAX_RECONNECTS,
    ) -> None:
        self._client = client
        self.path = path
        self.fmt: StreamFormat = fmt or client.stream_format
        self.idle_timeout = client.idle_timeout if idle_timeout is None else idle_timeout
        self.max_reconnects = max_reconnects
        self.stats = StreamStats()
        self.connections = 0
        self.reconciles = 0
        self.last_event_id: str | None = None
        self.server_retry: float | None = None
        self._progress = False
        self._gen = self._run()

    def __aiter__(self) -> AsyncIterator[E | StreamReconnecting]:
        return self

    async def __anext__(self) -> E | StreamReconnecting:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> ReconnectingStream[E]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def done(self) -> bool:
        """True once the stream has nothing more to say (a terminal task); never, by default."""
        return False

    def _connect_once(self) -> AsyncGenerator[E, None]:
        raise NotImplementedError

    async def _reconcile(self) -> E | None:
        """Fetch the resource over REST after a connection ended; an event if it changed."""
        return None

    def _reconnecting(
        self, attempt: int, delay: float, reason: str, oversized: bool = False
    ) -> E | StreamReconnecting:
        return StreamReconnecting(attempt, delay, reason, oversized)

    async def _run(self) -> AsyncGenerator[E | StreamReconnecting, None]:
        failures = 0
        while True:
            limited: RateLimitedError | None = None
            stop = oversized = False
            self._progress = False
            try:
                async with aclosing(self._connect_once()) as events:
                    async for event in events:
                        yield event
                if self.done:
                    return
                reason = self.ended_reason
            except FINAL_ERRORS:
                raise
            except NoContent:
                stop, reason = True, "server asked not to reconnect (204)"
            except RateLimitedError as exc:
                reason, limited = str(exc), exc
            except StreamOversizedError as exc:
                reason, oversized = exc.message, True
                if exc.resume_id is not None and exc.resume_id != self.last_event_id:
                    self.last_event_id = exc.resume_id  # resume past it, not into it again
                    self._progress = True
            except StreamContentError:
                # A wrong content type will not fix itself: reconcile, then say so.
                update = await self._reconcile()
                if update is not None:
                    yield update
                if self.done:
                    return
                raise
            except ApiError as exc:
                if exc.status is not None and exc.status < 500:
                    raise
                reason = str(exc)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            update = await self._reconcile()
            if update is not None:
                yield update
            if self.done or stop:
                return
            failures = 1 if self._progress else failures + 1
            if self.max_reconnects is not None and failures > self.max_reconnects:
                raise StreamError(
                    f"gave up after {self.max_reconnects} reconnects: {reason}",
                    method="GET",
                    path=self.path,
                )
            retry_after = limited.retry_after if limited is not None else None
            delay = retry_delay(failures - 1, retry_after, self._client.retry, self._client.rand)
            if delay is None:  # only a 429 whose Retry-After is beyond the cap
                raise limited or StreamError(f"not reconnecting: {reason}", path=self.path)
            if retry_after is None and failures == 1 and self.server_retry is not None:
                delay = self.server_retry  # the server's SSE ``retry:`` for the first attempt
            yield self._reconnecting(failures, delay, reason, oversized)
            await self._client.sleep(delay)

    @asynccontextmanager
    async def _frames(
        self, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[AsyncGenerator[StreamFrame, None]]:
        """Open one connection, check it, and hand out its frames (heartbeats included)."""
        async with self._client.open_stream(
            self.path, fmt=self.fmt, params=params, headers=headers
        ) as response:
            self.connections += 1
            parser = await check_stream_response(self._client, response, self.path)
            frames = read_frames(
                response, parser, idle_timeout=self.idle_timeout, clock=self._client.monotonic
            )
            try:
                async with aclosing(frames):
                    yield frames
            finally:
                self._add_stats(parser.stats)

    def _note_retry(self, frame: StreamFrame) -> None:
        if frame.retry is not None:
            self.server_retry = min(frame.retry / 1000, self._client.retry.max_delay)

    def _add_stats(self, stats: StreamStats) -> None:
        self.stats.frames += stats.frames
        self.stats.heartbeats += stats.heartbeats
        self.stats.malformed += stats.malformed
        self.stats.oversized += stats.oversized
        self.stats.bytes += stats.bytes
