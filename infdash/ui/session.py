"""Build the client and scheduler one dashboard session works through.

The client never retries by itself (the scheduler's budget and breaker own every wait, see
``infdash.scheduler.scheduler``); the account's task feed is on, so new tasks arrive without a
poll where the server offers ``/tasks/stream``, and the task list's head poll covers the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.config import RefreshSettings
from infdash.scheduler import Scheduler, WatchPolicy
from infdash.scheduler.policy import SCHEDULER_POLICY
from infdash.ui.services import Services


def open_services(
    base_url: str,
    api_key: str,
    *,
    profile: str = "default",
    read_only: bool = False,
    production: bool = False,
    known_apps: Sequence[str] = (),
    refresh: RefreshSettings | None = None,
) -> Services:
    """A client and a (not yet started) scheduler for one profile."""
    client = InferenceClient(base_url, api_key, retry=NO_RETRY)
    policy = SCHEDULER_POLICY
    if refresh is not None:
        policy = replace(
            policy, visible=refresh.visible_seconds, background=refresh.background_seconds
        )
    scheduler = Scheduler(client, policy=policy, watch=WatchPolicy(enabled=True))
    return Services(
        client=client,
        scheduler=scheduler,
        profile=profile,
        read_only=read_only,
        production=production,
        known_apps=tuple(known_apps),
    )
