"""Exchange background work: registry events → signed webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from popid.core.outbox import consumer
from popid.core.tasks import background
from popid.exchange import webhooks
from popid.exchange.models import TOPIC_EVENTS


@consumer(*TOPIC_EVENTS)
def dispatch_event(event: Any) -> int:
    """One delivery per entitled subscription, each with its ``deliver_webhook`` task."""
    return webhooks.dispatch_event(event)


@background(max_attempts=5)
def deliver_webhook(delivery_id: int) -> str:
    """Send one delivery (its own back-off and dead letter live on the ``Delivery`` row)."""
    return webhooks.deliver_task(delivery_id)


def enqueue_delivery(delivery_id: int, run_after: datetime | None) -> None:
    """Queue ``deliver_webhook`` (at ``run_after``, else at once); the sender calls it through
    ``webhooks.set_delivery_enqueuer`` so it does not import this module."""
    (deliver_webhook.using(run_after=run_after) if run_after is not None else deliver_webhook).enqueue(delivery_id)


webhooks.set_delivery_enqueuer(enqueue_delivery)


@background(every=60, max_attempts=1)
def sweep_webhooks() -> dict[str, int]:
    """Catch-up: events older than the consumer task, and due deliveries whose task was lost."""
    return webhooks.run_once(timeout=webhooks.timeout_seconds())
