"""Immigration background work: watch-list screening of declared guests through the matcher."""

from __future__ import annotations

from typing import Any

from popid.core.access import Actor
from popid.core.outbox import consumer
from popid.core.tasks import background
from popid.immigration import screening
from popid.immigration.models import WatchListEntry
from popid.immigration.services import TOPIC_WATCH_ENTRY


@background(every=60, max_attempts=1)
def screen_new_stays() -> int:
    """The guests declared since the last run against the watch list; returns the new hits."""
    return screening.screen_new_stays().hits


@consumer(TOPIC_WATCH_ENTRY)
def screen_new_entry(event: Any) -> None:
    """A new watch-list entry against the guests present now."""
    entry = WatchListEntry.objects.filter(pk=int(event.aggregate_id), is_active=True).first()
    if entry is not None:
        screening.screen_present_against(entry, actor=Actor.system("watch-list-screening"))
