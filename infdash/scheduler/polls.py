"""One poll, performed: what to fetch per resource kind, and what its failure means.

Kept apart from the loop so the request and the reading of its result are one small function:
which error means what for the planner (breaker, backoff, stop) is decided here, once for
every kind, and what the scheduler must do about it besides (stop on 401, close a class on
503) is reported back.  Each kind only says how it fetches and merges: tasks cheap status
first and the full record on change; engines the full ``GET /engines/{id}`` every time (there
is no status-only route); chats the full ``GET /chats/{id}``, final once ``completed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from infdash.api import (
    ApiError,
    InferenceClient,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from infdash.scheduler.planner import Outcome
from infdash.scheduler.stores import CHAT_FINAL, Stores
from infdash.scheduler.subscriptions import Action, ResourceKey


@dataclass(frozen=True, slots=True)
class PollResult:
    outcome: Outcome
    changed: bool = False
    """The status differs from the store's: fetch the full record next."""
    terminal: bool = False
    error: ApiError | None = None
    unanswered: bool = False
    """No response at all (network): the budget's probe, if it was one, is free again."""


Fetch = Callable[[InferenceClient, Stores, str, Action], Awaitable[PollResult]]


async def _poll_task(
    client: InferenceClient, stores: Stores, task_id: str, action: Action
) -> PollResult:
    """Cheap status first; the full task only when the planner asks (new or changed)."""
    if action is Action.STATUS:
        status = await client.tasks.status(task_id)
        known = stores.tasks.get(task_id)
        changed = known is None or known.status != status.status
        if not changed:
            stores.tasks.mark_refreshed(task_id)
        return PollResult(Outcome.OK, changed=changed, terminal=status.status.is_terminal)
    task = await client.tasks.get(task_id)
    stores.tasks.apply(task)
    return PollResult(Outcome.OK, terminal=task.is_terminal)


async def _poll_engine(
    client: InferenceClient, stores: Stores, engine_id: str, _action: Action
) -> PollResult:
    """Always the whole engine (no status route); an engine is never final, so never terminal."""
    stores.engines.apply(await client.engines.get(engine_id))
    return PollResult(Outcome.OK)


async def _poll_chat(
    client: InferenceClient, stores: Stores, chat_id: str, _action: Action
) -> PollResult:
    """Always the whole chat (no status route); ``completed`` ends its polls."""
    chat = await client.chats.get(chat_id)
    stores.chats.apply(chat)
    return PollResult(Outcome.OK, terminal=chat.status == CHAT_FINAL)


FETCHERS: dict[str, Fetch] = {"task": _poll_task, "engine": _poll_engine, "chat": _poll_chat}


async def perform_poll(
    client: InferenceClient, stores: Stores, key: ResourceKey, action: Action
) -> PollResult:
    """Send one poll of ``key`` and merge what it returned into its kind's store."""
    fetch = FETCHERS.get(key.kind)
    if fetch is None:
        return PollResult(Outcome.CLIENT_ERROR)
    try:
        return await fetch(client, stores, key.id, action)
    except UnauthorizedError as exc:
        return PollResult(Outcome.CLIENT_ERROR, error=exc)
    except RateLimitedError as exc:
        return PollResult(Outcome.RATE_LIMITED, error=exc)  # the tracker told the budget
    except NotFoundError as exc:
        return PollResult(Outcome.GONE, error=exc)
    except ServerError as exc:
        return PollResult(Outcome.SERVER_ERROR, error=exc)
    except TransportError as exc:
        return PollResult(Outcome.SERVER_ERROR, error=exc, unanswered=True)
    except ApiError as exc:
        return PollResult(Outcome.CLIENT_ERROR, error=exc)
    except ValueError:  # a body that does not parse as the resource
        return PollResult(Outcome.CLIENT_ERROR)
