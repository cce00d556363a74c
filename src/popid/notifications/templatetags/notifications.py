"""The unread count of the citizen's notifications, for the portal's navigation bars."""

from __future__ import annotations

from typing import Any

from django import template

from popid.notifications import selectors

register = template.Library()


@register.simple_tag
def unread_count(account: Any) -> int:
    return selectors.unread_count(account)
