"""Wallet background work: credential statuses follow registry and licence events."""

from __future__ import annotations

from typing import Any

from popid.core.outbox import consumer
from popid.core.tasks import background
from popid.wallet import status


@consumer(*status.TOPICS)
def apply_registry_event(event: Any) -> None:
    """A death, a reissued ID number, an identity correction or a licence status change."""
    status.apply_event(event)


@background(every=60, max_attempts=1)
def sync_statuses() -> int:
    """Catch-up over the wallet's cursor (events older than the consumer, replays)."""
    return status.sync_events()


@background(every=60, max_attempts=1)
def prune_compact_presentations() -> int:
    """Compact presentations hold disclosed claims: delete them once their 60 seconds are over."""
    from popid.wallet import compact

    return compact.prune()
