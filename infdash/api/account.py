"""Account-level reads as ``client.account``: queue stats, entitlement usage and ``/me``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infdash.api.models.usage import Me, QueueStats, Usage

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient


class AccountAPI:
    """Why is my task queued? — queue depth, the plan's concurrency and who this key is."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    async def queue_stats(self) -> QueueStats:
        """``GET /tasks/queue-stats``."""
        envelope = await self._client.request("GET", "/tasks/queue-stats")
        return QueueStats.from_dict(envelope.data)

    async def usage(self) -> Usage:
        """``GET /entitlements/usage`` (includes the ``concurrency`` entry)."""
        envelope = await self._client.request("GET", "/entitlements/usage")
        return Usage.from_dict(envelope.data)

    async def me(self) -> Me:
        """``GET /me``."""
        envelope = await self._client.request("GET", "/me")
        return Me.from_dict(envelope.data)
