"""Which relying-party origin a PopID page's forms may end at (issue #10, finding 1).

The site policy says ``form-action 'self'``, and Chromium applies it to every redirect that
follows a form submission. An authorization ends with a redirect to the client's
``redirect_uri``, reached from a PopID form: the consent form (→ client), and the login, OTP and
step-up forms whose ``next`` is the authorization request (→ /oidc/authorize → client). Those
pages, and only those, add exactly the origin of that client's registered redirect URI to their
``form-action``; the origin comes from the client's registration, never from unchecked input.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from popid.core.middleware import allow_form_action, origin_of
from popid.identity.oidc import par
from popid.identity.oidc.models import RelyingParty
from popid.identity.oidc.selectors import active_client


def registered_redirect_origin(client: RelyingParty, redirect_uri: str | None) -> str | None:
    """The origin of ``redirect_uri`` when it is registered exactly for this active client."""
    if not redirect_uri or not client.is_active or not client.check_redirect_uri(redirect_uri):
        return None
    return origin_of(redirect_uri)


def _authorization_params(request: HttpRequest, next_url: str) -> dict[str, str] | None:
    """The parameters of the authorization request a same-site ``next`` URL continues, if any."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//"):
        return None
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("oidc:authorize"):
        return None
    query = dict(parse_qsl(parts.query))
    request_uri = query.get("request_uri", "")
    if not request_uri:
        return query
    # A pushed request was bound to this browser session on its first visit to /oidc/authorize.
    bound = request.session.get(par.SESSION_KEY, {}).get(request_uri.removeprefix(par.URN_PREFIX))
    if not request_uri.startswith(par.URN_PREFIX) or not bound:
        return None
    params = dict(bound["params"])
    return params if params.get("client_id") == query.get("client_id") else None


def continuing_client(request: HttpRequest, next_url: str) -> tuple[RelyingParty, dict[str, str]] | None:
    """The active client (and its request's parameters) of the authorization a ``next`` URL
    continues, or None: the login page names the service that asks (issue #19 item 7)."""
    params = _authorization_params(request, next_url)
    if not params or not params.get("client_id"):
        return None
    client = active_client(params["client_id"][:64])
    return None if client is None else (client, params)


def continuation_origin(request: HttpRequest, next_url: str) -> str | None:
    """Where the authorization this page continues will redirect: the registered redirect origin
    of the named client, or None (not an authorization, unknown client, unregistered URI)."""
    found = continuing_client(request, next_url)
    if found is None:
        return None
    client, params = found
    return registered_redirect_origin(client, params.get("redirect_uri"))


def allow_continuation(request: HttpRequest, response: HttpResponse, next_url: str) -> HttpResponse:
    """Let this page's forms end at the relying party its ``next`` authorization redirects to."""
    return allow_form_action(response, [continuation_origin(request, next_url)])
