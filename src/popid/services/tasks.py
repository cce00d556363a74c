"""Public-service background work: payment reconciliation, deadline reminders."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from popid.core.tasks import background
from popid.services import reminders
from popid.services.submissions import reconcile


@background(every=300, max_attempts=1)
def reconcile_payments() -> dict[str, Any]:
    """Ask the gateway about payments pending for more than 15 minutes; submit the paid ones."""
    return dataclasses.asdict(reconcile(older_than=timedelta(minutes=15)))


@background(every=3600, max_attempts=3)
def remind_deadlines() -> dict[str, int]:
    """Hourly: one reminder per open dossier and threshold (due soon, due today, overdue)."""
    return reminders.remind_deadlines().sent
