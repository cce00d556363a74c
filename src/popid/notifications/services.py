"""Commands of the notifications app: write a notification for the accounts an event concerns
(idempotent), and mark a citizen's own notifications read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from popid.identity.models import CitizenAccount
from popid.notifications.models import Kind, Notification


@transaction.atomic
def notify(*, account_ids: Iterable[int], kind: Kind, event_id: int, subject: str, data: dict[str, Any],
           at: datetime) -> int:
    """One notification per account for this event; a second run for the same event adds nothing.
    Returns how many accounts were told this time."""
    wanted = sorted({int(pk) for pk in account_ids if pk})
    if not wanted:
        return 0
    done = set(Notification.objects.filter(event_id=event_id, account_id__in=wanted)
               .values_list("account_id", flat=True))
    existing = set(CitizenAccount.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    rows = [Notification(account_id=pk, kind=kind, event_id=event_id, subject=subject[:64], data=data, created_at=at)
            for pk in wanted if pk in existing and pk not in done]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)  # a concurrent run of the same event
    return len(rows)


def mark_read(*, account: CitizenAccount, pk: int | None = None) -> int:
    """Mark one (``pk``) or every unread notification of this account read; another account's
    notification is never touched (it is simply not found). Returns how many changed."""
    rows = Notification.objects.filter(account=account, read_at__isnull=True)
    if pk is not None:
        rows = rows.filter(pk=pk)
    return rows.update(read_at=timezone.now())


def mark_read_about(*, account: CitizenAccount, kind: Kind, subject: str | None = None) -> int:
    """The page a notification points to was opened (the dossier, the fines, the consent requests):
    its notifications are read, as the services inbox's dossier notices always were."""
    rows = Notification.objects.filter(account=account, kind=kind, read_at__isnull=True)
    if subject is not None:
        rows = rows.filter(subject=subject)
    return rows.update(read_at=timezone.now())
