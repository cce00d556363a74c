"""Public-service background work: payment reconciliation (pending orders every 5 minutes; the
whole previous day against the gateway's settlement report every night) and deadline reminders."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from django.utils import timezone

from popid.core.tasks import background
from popid.services import reminders
from popid.services.submissions import reconcile


@background(every=300, max_attempts=1)
def reconcile_payments() -> dict[str, Any]:
    """Ask the gateway about payments pending for more than 15 minutes; submit the paid ones."""
    return dataclasses.asdict(reconcile(older_than=timedelta(minutes=15)))


SETTLEMENT_AT_UTC = 20 * 3600  # 03:00 in Hanoi (UTC+7): the bank's report of the previous day is out


@background(every=24 * 3600, offset=SETTLEMENT_AT_UTC, window=3 * 3600, max_attempts=3)
def reconcile_settlement() -> dict[str, Any]:
    """Yesterday (local time) against the gateway's settlement report; the run is kept for the
    console page and mismatches are logged as warnings."""
    import logging

    from popid.core.access import Actor
    from popid.services.payments.reconciliation import reconcile_day

    run = reconcile_day(actor=Actor.system("task:reconcile_settlement"), day=timezone.localdate() - timedelta(days=1))
    if run.mismatched:
        logging.getLogger(__name__).warning("settlement %s: %d mismatches", run.day, run.mismatched)
    return {"day": run.day.isoformat(), "matched": run.matched, "mismatched": run.mismatched}


@background(every=3600, max_attempts=3)
def remind_deadlines() -> dict[str, int]:
    """Hourly: one reminder per open dossier and threshold (due soon, due today, overdue)."""
    return reminders.remind_deadlines().sent
