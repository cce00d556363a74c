"""Template helpers of the citizen portal: unread inbox count for the nav, VND amounts, state labels."""

from __future__ import annotations

from typing import Any

from django import template

from popid.core import formatting
from popid.services.models import DossierState, Notification

register = template.Library()


@register.simple_tag
def unread_notifications(account: Any) -> int:
    if account is None or not getattr(account, "pk", None):
        return 0
    return Notification.objects.filter(account=account, read_at__isnull=True).count()


@register.filter
def vnd(amount: Any) -> str:
    """7000 → "7.000 ₫": the one money format (``core.formatting.money``)."""
    try:
        return formatting.money(amount)
    except (TypeError, ValueError, ArithmeticError):
        return ""


@register.filter
def state_label(code: str) -> str:
    try:
        return str(DossierState(code).label)
    except ValueError:
        return code or "—"
