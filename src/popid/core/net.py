"""Who is on the other end of a request: the client IP address, honouring the trusted-proxy
switch (``POPID_TRUSTED_PROXY``, settings ``POPID_TRUSTED_PROXY_HOPS``).

Without the switch (the default) only ``REMOTE_ADDR`` counts: ``X-Forwarded-For`` is written by
whoever sends the request, so trusting it would let an attacker pick a fresh address for every
guess and walk past the per-IP throttles. With N trusted proxies in front, each of them appends
the address it received the request from, so the N-th entry from the right is the address the
outermost trusted proxy saw, i.e. the client; anything to the left of it is the client's own
claim and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.conf import settings
from django.http import HttpRequest

# Cookies a command may need to see (the signed known-device cookies of ``core.throttle``).
CLIENT_COOKIE_PREFIX = "popid_known_"


def _remote_addr(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_ip(request: HttpRequest) -> str:
    """The client's IP address (the throttles, login records and logs all use this one)."""
    hops = int(getattr(settings, "POPID_TRUSTED_PROXY_HOPS", 0) or 0)
    if hops <= 0:
        return _remote_addr(request)
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:  # not (all the way) through the configured proxies: the socket peer
        return _remote_addr(request)
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # a proxy that writes something else is misconfigured: do not trust it
        return _remote_addr(request)


@dataclass(frozen=True)
class Client:
    """The caller of a command as plain values, built by the page from its request
    (``Client.of(request)``): commands (``identity.services``) and the throttles take this, never
    the ``HttpRequest``, so they run the same from a page, a test or a script."""

    ip: str
    user_agent: str = ""
    session_key: str = ""  # the caller's current session ("" when it has none)
    cookies: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # popid_known_* only

    @classmethod
    def of(cls, request: HttpRequest) -> Client:
        session = getattr(request, "session", None)
        cookies = {name: value for name, value in request.COOKIES.items() if name.startswith(CLIENT_COOKIE_PREFIX)}
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:200],
                   session_key=(session.session_key or "") if session is not None else "",
                   cookies=MappingProxyType(cookies))
