"""The citizen session, as the OIDC provider and the account pages see it (the shared contract).

After ``login_citizen`` the session holds, besides Django's own login:

- ``popid_acr``: "level-1" (password, on a known device or with an OTP on a new one) or
  "level-2" (a level-2 account that also passed a passcode or TOTP in this session);
- ``popid_amr``: the methods used, e.g. ["pwd"], ["pwd", "otp"], ["pwd", "passcode"];
- ``popid_auth_time``: epoch seconds of the last full authentication;
- ``popid_acting_for``: optional pk of a ward's account the guardian is acting for.

The device cookie is signed with ``django.core.signing`` (salted), HttpOnly, Secure and
SameSite=Lax; a cookie that fails the signature is simply an unknown device.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import login
from django.core import signing
from django.http import HttpRequest, HttpResponse

from popid.core import net
from popid.identity.actors import citizen_actor as citizen_actor  # re-exported for existing callers
from popid.identity.models import CitizenAccount, CitizenSession, Device

ACR_LEVEL1 = "level-1"
ACR_LEVEL2 = "level-2"
SESSION_ACR = "popid_acr"
SESSION_AMR = "popid_amr"
SESSION_AUTH_TIME = "popid_auth_time"
SESSION_ACTING_FOR = "popid_acting_for"
SECOND_FACTORS = {"passcode", "totp"}

DEVICE_COOKIE = "popid_device"
DEVICE_SALT = "popid.identity.device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600  # browsers cap cookies at 400 days


def acr_for(account: CitizenAccount, amr: list[str]) -> str:
    """level-2 only for a level-2 account that used a second factor, per the contract."""
    return ACR_LEVEL2 if account.is_level2 and SECOND_FACTORS & set(amr) else ACR_LEVEL1


def login_citizen(request: HttpRequest, *, account: CitizenAccount, amr: list[str],
                  device: Device | None = None) -> None:
    """Django login (new session key, so a fixated session is useless) plus the contract keys,
    and a ``CitizenSession`` row so the citizen can see and end the session later."""
    login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_AMR] = list(dict.fromkeys(amr))
    request.session[SESSION_ACR] = acr_for(account, amr)
    request.session[SESSION_AUTH_TIME] = int(time.time())
    request.session.pop(SESSION_ACTING_FOR, None)
    request.session.save()
    CitizenSession.objects.create(
        account=account, session_key=request.session.session_key or "", device=device,
        ip=net.client_ip(request)[:64], user_agent=request.headers.get("User-Agent", "")[:200])
    request._popid_account = account  # type: ignore[attr-defined]


def add_factor(request: HttpRequest, *, account: CitizenAccount, method: str) -> str:
    """Step-up: record a second factor done in this session and recompute the acr."""
    amr = [*session_amr(request), method]
    request.session[SESSION_AMR] = list(dict.fromkeys(amr))
    request.session[SESSION_ACR] = acr_for(account, amr)
    acr: str = request.session[SESSION_ACR]  # the session store is untyped; set just above
    return acr


def current_account(request: HttpRequest) -> CitizenAccount | None:
    """The logged-in citizen's own account (never the ward's), or None for anonymous users,
    staff sessions and accounts locked since the login."""
    cached = getattr(request, "_popid_account", None)
    if cached is not None:
        return cached if cached.is_active else None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or SESSION_ACR not in request.session:
        return None
    account = CitizenAccount.objects.select_related("user", "person").filter(user=user).first()
    if account is None or not account.is_active:
        return None
    request._popid_account = account  # type: ignore[attr-defined]
    return account


def session_acr(request: HttpRequest) -> str | None:
    return request.session.get(SESSION_ACR) if current_account(request) else None


def session_auth_time(request: HttpRequest) -> int | None:
    return request.session.get(SESSION_AUTH_TIME) if current_account(request) else None


def session_amr(request: HttpRequest) -> list[str]:
    return list(request.session.get(SESSION_AMR, [])) if current_account(request) else []


def acting_for(request: HttpRequest) -> CitizenAccount | None:
    """The ward the guardian is acting for, re-checked on every call: an ended guardianship or
    a child who turned 14 stops the delegation at once."""
    account = current_account(request)
    ward_pk = request.session.get(SESSION_ACTING_FOR)
    if account is None or ward_pk is None:
        return None
    from popid.identity.selectors import active_guardianship  # selectors import this module

    link = active_guardianship(guardian=account, ward_pk=ward_pk)
    if link is None:
        request.session.pop(SESSION_ACTING_FOR, None)
        return None
    return link.ward


# --- device cookie ---------------------------------------------------------------------------
def read_device_id(request: HttpRequest) -> str | None:
    """The device id from a valid signed cookie; forged or tampered cookies give None."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw or len(raw) > 300:
        return None
    try:
        device_id: str = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_COOKIE_AGE)["d"]  # Device.public_id
        return device_id
    except (signing.BadSignature, KeyError, TypeError):
        return None


def set_device_cookie(response: HttpResponse, device: Device) -> None:
    response.set_cookie(
        DEVICE_COOKIE, signing.dumps({"d": device.public_id}, salt=DEVICE_SALT), max_age=DEVICE_COOKIE_AGE,
        httponly=True, secure=settings.SECURE_COOKIES, samesite="Lax", path="/")
