"""One poll, performed: cheap status first, the full record only when asked (it changed).

Kept apart from the loop so the request and the reading of its result are one small function:
which error means what for the planner (breaker, backoff, stop) is decided here, and what the
scheduler must do about it besides (stop on 401, close a class on 503) is reported back.
Only tasks are polled so far; engines and chats get their own branch when the client has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from infdash.api import (
    ApiError,
    InferenceClient,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Task,
    TransportError,
    UnauthorizedError,
)
from infdash.scheduler.planner import Outcome
from infdash.scheduler.store import Store
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


async def perform_poll(
    client: InferenceClient, store: Store[Task], key: ResourceKey, action: Action
) -> PollResult:
    """Send one poll of ``key`` and merge what it returned into ``store``."""
    if key.kind != "task":
        return PollResult(Outcome.CLIENT_ERROR)
    try:
        if action is Action.STATUS:
            status = await client.tasks.status(key.id)
            known = store.get(key.id)
            changed = known is None or known.status != status.status
            if not changed:
                store.mark_refreshed(key.id)
            return PollResult(Outcome.OK, changed=changed, terminal=status.status.is_terminal)
        task = await client.tasks.get(key.id)
        store.apply(task)
        return PollResult(Outcome.OK, terminal=task.is_terminal)
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
