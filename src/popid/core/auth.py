"""API authentication for staff: a console session (CSRF-checked) or a bearer token.
Either way the request leaves with ``request.actor`` set, so handlers never look at users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.security.session import SessionAuth

from popid.core import hotcache
from popid.core.access import Actor
from popid.core.errors import PermissionDenied
from popid.core.models import StaffApiToken

TOKEN_PREFIX = "pst_"
STAFF_TOKEN_CACHE = "core.staff_tokens"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_staff_token(*, user: AbstractBaseUser, name: str, expires_at: datetime | None = None) -> str:
    """Create a token and return the raw value; it is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    StaffApiToken.objects.create(user_id=user.pk, name=name, key_hash=hash_token(raw), expires_at=expires_at)
    return raw


def _attach_actor(request: HttpRequest, user: AbstractBaseUser) -> Actor | None:
    try:
        actor = Actor.for_user(user)
    except PermissionDenied:
        return None
    request.actor = actor  # type: ignore[attr-defined]
    return actor


class StaffBearer(HttpBearer):
    """``Authorization: Bearer pst_…``. What a token resolves to (its row with the user and staff
    role, hence the actor) is kept per process for at most ``POPID_HOT_CACHE_SECONDS``
    (``core.hotcache``): deleting the token, deactivating the user or changing the role takes
    effect within those seconds in every process; the expiry is checked on every call."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        key = hash_token(token)
        tokens = hotcache.cache(STAFF_TOKEN_CACHE)
        row = tokens.get(key)
        if row is None:
            row = StaffApiToken.objects.select_related("user", "user__staff_role").filter(key_hash=key).first()
            if row is not None:
                tokens.put(key, row)
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        if row.expires_at and row.expires_at <= now:
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
            row.last_used_at = now
            StaffApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        return _attach_actor(request, row.user)


class StaffSession(SessionAuth):
    """The console's session cookie; ninja enforces CSRF on unsafe methods for cookie auth."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return _attach_actor(request, user)


assert issubclass(StaffSession, APIKeyCookie)
STAFF_AUTH = [StaffBearer(), StaffSession()]
