"""Pushed authorization requests (RFC 9126), written by hand because neither Authlib nor
django-oauth-toolkit has them.

The client pushes its authorization parameters to /oidc/par with client authentication; they
are validated exactly like a front-channel request (same Authlib grant) and stored for 90 s
under an unguessable reference. The browser then brings only ``client_id`` and ``request_uri``.

Single use: the first visit to /oidc/authorize consumes the stored request and binds its
parameters to that browser session, so the login and consent round trips that follow work,
while the same request_uri from any other browser (or after expiry) is refused.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.oidc.core.errors import InvalidRequestURIError
from django.http import HttpRequest
from django.utils import timezone

from popid.identity.oidc.models import PushedAuthorizationRequest, RelyingParty

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
PAR_SECONDS = 90
SESSION_KEY = "popid_oidc_par"
SESSION_SECONDS = 15 * 60
CLIENT_AUTH_PARAMS = {"client_secret", "client_assertion", "client_assertion_type"}


def push(*, client: RelyingParty, params: dict[str, str]) -> dict[str, Any]:
    reference = secrets.token_urlsafe(32)
    PushedAuthorizationRequest.objects.create(
        reference=reference, client=client, params=params,
        expires_at=timezone.now() + timedelta(seconds=PAR_SECONDS))
    return {"request_uri": URN_PREFIX + reference, "expires_in": PAR_SECONDS}


def authorization_params(request: HttpRequest) -> tuple[dict[str, str], bool]:
    """The parameters of this authorization request and whether they were pushed."""
    query = request.GET.dict()
    request_uri = query.get("request_uri")
    if not request_uri:
        return query, False
    if not request_uri.startswith(URN_PREFIX):
        raise InvalidRequestURIError(description="request_uri is not a pushed-request reference")
    reference = request_uri.removeprefix(URN_PREFIX)
    bound: dict[str, Any] = request.session.get(SESSION_KEY, {})
    entry = bound.get(reference)
    now = timezone.now().timestamp()
    if entry is None:
        row = PushedAuthorizationRequest.objects.select_related("client").filter(reference=reference).first()
        if row is None or row.client.client_id != query.get("client_id"):
            raise InvalidRequestURIError(description="unknown request_uri for this client")
        if row.expires_at <= timezone.now():
            raise InvalidRequestURIError(description="request_uri expired")
        consumed = PushedAuthorizationRequest.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=timezone.now())
        if not consumed:
            raise InvalidRequestURIError(description="request_uri already used")
        entry = {"params": row.params, "at": now}
        bound = {k: v for k, v in bound.items() if now - v["at"] < SESSION_SECONDS}
        bound[reference] = entry
        request.session[SESSION_KEY] = bound
    elif now - entry["at"] >= SESSION_SECONDS:
        raise InvalidRequestURIError(description="request_uri expired")
    params = dict(entry["params"])
    if params.get("client_id") != query.get("client_id"):
        raise InvalidRequestURIError(description="client_id does not match the pushed request")
    for key in ("_reauth",):  # our own continuation marker travels in the query
        if key in query:
            params[key] = query[key]
    return params, True
