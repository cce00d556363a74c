"""Periodic analytics work: refresh the store, forecast, raise alerts (daily)."""

from __future__ import annotations

from popid.analytics import services
from popid.core.access import Actor
from popid.core.tasks import background


@background(every=24 * 3600, offset=2 * 3600, max_attempts=2)
def refresh_and_forecast() -> str:
    actor = Actor.system("analytics scheduler")
    report = services.refresh(actor=actor)
    run = services.run_forecasts(actor=actor)
    return f"store v{report.version}, {run.series} series, {run.alerts} new alert(s)"
