"""Reads of the notifications app: only ever the asking account's own rows."""

from __future__ import annotations

from django.db.models import QuerySet

from popid.identity.models import CitizenAccount
from popid.notifications.models import Notification


def notifications_of(account: CitizenAccount, *, limit: int = 200) -> QuerySet[Notification]:
    return Notification.objects.filter(account=account)[:limit]


def notification_of(account: CitizenAccount, pk: int) -> Notification | None:
    """The account's own notification ``pk``; another account's looks exactly like a missing one."""
    return Notification.objects.filter(account=account, pk=pk).first()


def unread_count(account: CitizenAccount | None) -> int:
    if account is None or not getattr(account, "pk", None):
        return 0
    return Notification.objects.filter(account=account, read_at__isnull=True).count()
