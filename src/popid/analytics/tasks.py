"""Periodic analytics work (refresh the store, forecast, raise alerts: daily) and the consumer
that tells supervisors about a new alert."""

from __future__ import annotations

from typing import Any

from popid.analytics import services
from popid.core.access import Actor
from popid.core.outbox import consumer
from popid.core.tasks import background


@background(every=24 * 3600, offset=2 * 3600, max_attempts=2)
def refresh_and_forecast() -> str:
    actor = Actor.system("analytics scheduler")
    report = services.refresh(actor=actor)
    run = services.run_forecasts(actor=actor)
    return f"store v{report.version}, {run.series} series, {run.alerts} new alert(s)"


@consumer("analytics.alert_raised")
def notify_supervisors(event: Any) -> int:
    """A notice for each supervisor whose unit covers the alert's commune (idempotent)."""
    return services.notify_supervisors(alert_id=int(event.aggregate_id))
