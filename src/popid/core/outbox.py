"""The outbox: one way to emit a domain event, one way to consume it.

- ``emit(topic=…, aggregate_id=…, payload=…)`` is called by a command inside its transaction. It
  writes the ``OutboxEvent`` row and, in the same transaction, one task row per consumer of the
  topic. Both commit or neither does, so no event is lost if the web process or the worker dies
  in between, and no consumer ever reads the outbox with a cursor of its own.
- ``@consumer("person.died", …)`` in an app's ``tasks.py`` declares a handler taking the event.
  It runs in ``popid worker`` with the retries of ``core.tasks`` and must be idempotent (a run
  interrupted by ``kill -9`` runs again).
- ``replay(from_id=…, to_id=…)`` enqueues the consumers again for stored events (events written
  before the consumer existed, or after restoring a backup): safe because handlers are idempotent.

The table is ``registry.OutboxEvent`` (where the first events were written); it is reached
through the app registry so ``core`` imports no app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django_tasks.base import Task

from popid.core.tasks import background


@dataclass(frozen=True)
class Consumer:
    topics: frozenset[str]
    task: Task[[int], Any]

    @property
    def name(self) -> str:
        return self.task.module_path


CONSUMERS: list[Consumer] = []


def event_model() -> Any:
    return apps.get_model("registry", "OutboxEvent")


def _json(value: Any) -> Any:
    """Dates, decimals and UUIDs as the JSON strings Django's encoder writes."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return DjangoJSONEncoder().default(value)


def consumers_of(topic: str) -> list[Consumer]:
    return [c for c in CONSUMERS if topic in c.topics]


def emit(*, topic: str, aggregate_id: str, payload: dict[str, Any] | None = None) -> Any:
    """Write the event and enqueue its consumers, atomically with the caller's transaction."""
    if not topic or len(topic) > 50 or not aggregate_id or len(aggregate_id) > 20:
        raise ValueError("an outbox event needs a topic (≤ 50 chars) and an aggregate id (≤ 20 chars)")
    with transaction.atomic(savepoint=False):
        event = event_model().objects.create(topic=topic, aggregate_id=aggregate_id, payload=_json(payload or {}))
        for item in consumers_of(topic):
            item.task.enqueue(event.pk)
    return event


def emit_many(events: Iterable[dict[str, Any]], *, batch_size: int = 1000) -> list[Any]:
    """``emit`` for a batch (``topic``, ``aggregate_id``, ``payload`` per item): one INSERT for the
    events, then their consumers enqueued, atomically with the caller's transaction."""
    rows = []
    for item in events:
        topic, aggregate_id = item["topic"], item["aggregate_id"]
        if not topic or len(topic) > 50 or not aggregate_id or len(aggregate_id) > 20:
            raise ValueError("an outbox event needs a topic (≤ 50 chars) and an aggregate id (≤ 20 chars)")
        rows.append(event_model()(topic=topic, aggregate_id=aggregate_id, payload=_json(item.get("payload") or {})))
    with transaction.atomic(savepoint=False):
        made: list[Any] = event_model().objects.bulk_create(rows, batch_size=batch_size)
        if any(consumers_of(row.topic) for row in made):
            if any(row.pk is None for row in made):  # backends without RETURNING: emit one by one
                raise RuntimeError("emit_many needs primary keys back from bulk_create")
            for row in made:
                for reader in consumers_of(row.topic):
                    reader.task.enqueue(row.pk)
    return made


def consumer(*topics: str, max_attempts: int = 8) -> Callable[[Callable[[Any], Any]], Task[[int], Any]]:
    """Declare ``handler(event)`` as the consumer of ``topics`` (a task taking the event id)."""
    if not topics:
        raise ValueError("a consumer needs at least one topic")

    def decorate(handler: Callable[[Any], Any]) -> Task[[int], Any]:
        @functools.wraps(handler)
        def run(event_id: int) -> Any:
            event = event_model().objects.filter(pk=event_id).first()
            if event is None:  # the event is gone (pruned, or a restore to an older backup)
                return None
            return handler(event)

        made = background(max_attempts=max_attempts)(run)
        CONSUMERS[:] = [c for c in CONSUMERS if c.name != made.module_path]  # re-import (tests, reloader)
        CONSUMERS.append(Consumer(topics=frozenset(topics), task=made))
        return made

    return decorate


def replay(*, from_id: int, to_id: int | None = None, consumers: Iterable[str] | None = None) -> int:
    """Enqueue the consumers again for stored events ``from_id ≤ id ≤ to_id``; returns tasks made."""
    wanted = set(consumers) if consumers is not None else None
    chosen = [c for c in CONSUMERS if wanted is None or c.name in wanted]
    if wanted is not None and (unknown := wanted - {c.name for c in chosen}):
        raise ValueError(f"unknown consumers: {', '.join(sorted(unknown))}")
    events = event_model().objects.filter(pk__gte=from_id).order_by("pk")
    if to_id is not None:
        events = events.filter(pk__lte=to_id)
    made = 0
    for event_id, topic in events.values_list("pk", "topic").iterator(chunk_size=2000):
        with transaction.atomic():
            for item in chosen:
                if topic in item.topics:
                    item.task.enqueue(event_id)
                    made += 1
    return made
