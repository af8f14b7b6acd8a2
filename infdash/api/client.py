"""The API client: one ``httpx.AsyncClient``, envelopes, errors, rate limits and safe retries.

Resource methods live in namespaces (``client.tasks``, ``client.engines``, ``client.chats``,
``client.files``, ``client.account``; ``client.events()`` for workspace events) built on
:meth:`InferenceClient.request` and :meth:`InferenceClient.open_stream`. Time is injectable
(``sleep``, ``clock``, ``rand``) so retry and reconnect behaviour is tested without waiting.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Generator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Literal, TypeVar, Unpack

import httpx
from httpx_sse import aconnect_sse

from infdash import __version__
from infdash.api.account import AccountAPI
from infdash.api.chats import ChatsAPI
from infdash.api.engines import EnginesAPI
from infdash.api.envelope import Envelope, ResponseMessage, parse_error, parse_success
from infdash.api.errors import (
    ApiError,
    OutcomeUnknownError,
    TransportError,
)
from infdash.api.events import WorkspaceEventStream
from infdash.api.files import FilesAPI
from infdash.api.models.common import CursorPage
from infdash.api.query import ListArgs, list_body, page_params
from infdash.api.ratelimit import LimitClass, RateLimitTracker
from infdash.api.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after, retry_delay
from infdash.api.streams import DEFAULT_IDLE_TIMEOUT
from infdash.api.tasks import TasksAPI

StreamFormat = Literal["sse", "ndjson"]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_BASE_URL = "https://api.inference.sh"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=20)
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Errors raised before any request byte left: always safe to retry, even for POST /run.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Secret:
    """Holds the API key; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` per request, keeping the key out of client headers."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


T = TypeVar("T")


class InferenceClient:
    """Async client for the inference.sh API (and the embedded simulator).

    Use as ``async with InferenceClient(url, key) as client:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        stream_format: StreamFormat = "ndjson",
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        api_version: int | None = None,
        on_message: Callable[[ResponseMessage], None] | None = None,
    ) -> None:
        if stream_format not in ("sse", "ndjson"):
            raise ValueError(f"stream_format must be 'sse' or 'ndjson', not {stream_format!r}")
        self.base_url = base_url.rstrip("/")
        self.stream_format: StreamFormat = stream_format
        self.idle_timeout = idle_timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.monotonic = monotonic
        self.rand = rand
        self.on_message = on_message
        self.rate_limits = RateLimitTracker(clock)
        self._key = Secret(api_key)
        headers = {"User-Agent": f"infdash/{__version__}", "Accept": "application/json"}
        if api_version is not None:
            headers["X-API-Version"] = str(api_version)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=BearerAuth(self._key),
            headers=headers,
            timeout=timeout,
            limits=limits,
            transport=transport,
        )
        self._stream_timeout = httpx.Timeout(
            connect=timeout.connect,
            read=idle_timeout + 15.0,
            write=timeout.write,
            pool=timeout.pool,
        )
        self.tasks = TasksAPI(self)
        self.engines = EnginesAPI(self)
        self.chats = ChatsAPI(self)
        self.files = FilesAPI(self)
        self.account = AccountAPI(self)

    def __repr__(self) -> str:
        return f"InferenceClient(base_url={self.base_url!r}, stream_format={self.stream_format!r})"

    def events(
        self,
        *,
        tables: Collection[str] | None = None,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
    ) -> WorkspaceEventStream:
        """``GET /events``: workspace table changes (``engines``…) until closed; re-list what
        you show after each ``StreamReconnecting`` (there is no resume)."""
        return WorkspaceEventStream(self, tables=tables, fmt=fmt, idle_timeout=idle_timeout)

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying pooled httpx client (for inspection in tests)."""
        return self._http

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> InferenceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Envelope:
        """Send one API call, retrying only when that is safe; returns the unwrapped envelope.

        Retries: idempotent calls on 429/502/503/504 and transport errors; every call on
        errors raised before the request was sent. ``Retry-After`` above the policy cap is
        not waited for: the error is raised with ``retry_after`` set.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = await self._http.request(method, path, json=json, params=params)
            except _NOT_SENT as exc:
                error: ApiError = _transport_error(exc, method, path, sent=False)
                retryable = True
            except httpx.TransportError as exc:
                error = _transport_error(exc, method, path, sent=True, idempotent=idempotent)
                retryable = idempotent
            else:
                retry_after = parse_retry_after(response.headers, self.clock())
                self.rate_limits.observe(
                    method, path, response.status_code, response.headers, retry_after
                )
                if response.is_success:
                    envelope = parse_success(response, method, path)
                    self._deliver(envelope.messages)
                    return envelope
                error = parse_error(response, method, path, retry_after)
                retryable = idempotent and response.status_code in RETRY_STATUSES
            if not retryable or attempt >= self.retry.max_retries:
                raise error
            delay = retry_delay(attempt, retry_after, self.retry, self.rand)
            if delay is None:
                raise error
            attempt += 1
            await self.sleep(delay)

    async def list_page(
        self,
        path: str,
        parse: Callable[[Any], T],
        **args: Unpack[ListArgs],
    ) -> CursorPage[T]:
        """One page of a ``POST …/list`` endpoint (a read, so retried when that is safe); its
        items are read a few hundred at a time, the event loop running in between."""
        envelope = await self.request("POST", path, json=list_body(**args), idempotent=True)
        return await CursorPage.from_dict_in_steps(envelope.data, parse)

    async def query_page(
        self,
        path: str,
        parse: Callable[[Any], T],
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> CursorPage[T]:
        """One page of the ``GET`` flavour of a list (limit and cursor in the query)."""
        envelope = await self.request("GET", path, params=page_params(limit, cursor))
        return CursorPage.from_dict(envelope.data, parse)

    def _deliver(self, messages: tuple[ResponseMessage, ...]) -> None:
        if self.on_message is not None:
            for message in messages:
                self.on_message(message)

    @asynccontextmanager
    async def open_stream(
        self,
        path: str,
        *,
        fmt: StreamFormat | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Open ``GET path`` as a stream; the response is closed on exit, however it exits.

        SSE goes through ``httpx_sse.aconnect_sse`` (which sets ``Accept`` and
        ``Cache-Control``); NDJSON asks for ``application/x-ndjson`` as the SDKs do. The status
        is *not* checked here: see :func:`check_stream_response`.
        """
        fmt = fmt or self.stream_format
        extra = dict(headers or {})
        extra["Accept-Encoding"] = "identity"
        if fmt == "sse":
            async with aconnect_sse(
                self._http,
                "GET",
                path,
                params=params,
                headers=extra,
                timeout=self._stream_timeout,
            ) as source:
                yield source.response
        else:
            extra["Accept"] = "application/x-ndjson"
            extra["Cache-Control"] = "no-cache"
            async with self._http.stream(
                "GET", path, params=params, headers=extra, timeout=self._stream_timeout
            ) as response:
                yield response

    def observe_stream_response(self, path: str, response: httpx.Response) -> float | None:
        """Record rate-limit headers of a stream response; returns its ``Retry-After``."""
        retry_after = parse_retry_after(response.headers, self.clock())
        if response.status_code == 429 or "x-ratelimit-remaining" in response.headers:
            self.rate_limits.observe(
                "GET",
                path,
                response.status_code,
                response.headers,
                retry_after,
                limit_class=LimitClass.OTHER,
            )
        return retry_after


def _transport_error(
    exc: httpx.TransportError, method: str, path: str, *, sent: bool, idempotent: bool = True
) -> TransportError:
    kind = type(exc).__name__
    reason = str(exc) or kind
    if sent and not idempotent:
        return OutcomeUnknownError(
            f"no response ({kind}: {reason}); the request may have been processed",
            method=method,
            path=path,
        )
    return TransportError(f"{kind}: {reason}", method=method, path=path)
