"""Agency access tokens: issued by the OIDC provider's client_credentials grant (private_key_jwt)
to a subsystem for the services it holds active grants for, and checked on every API call.

Tokens are opaque and looked up by SHA-256, so suspending an agency or a subsystem stops its
tokens; the services additionally re-check the grant itself on every call, so a grant
revoked or expired after the token was issued is refused too. What a token resolves to (its
subsystem with agency and client, scopes, expiry) is kept per process for at most
``POPID_HOT_CACHE_SECONDS`` (``core.hotcache``, issue #18): a revocation through
``management_services`` applies at once in its process and within those seconds everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidScopeError, UnauthorizedClientError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from popid.core import hotcache
from popid.core.errors import PermissionDenied
from popid.core.permissions import AGENCY_ROLE, mark_principal
from popid.core.rawrows import Insert
from popid.exchange.models import SCOPE_PREFIX, AgencyToken, Grant, Subsystem, scope_of
from popid.identity.oidc.models import RelyingParty, digest


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"


def _client_subsystem(client: RelyingParty) -> tuple[Subsystem, list[Grant]] | None:
    """The subsystem behind an OAuth client (with its agency) and its unrevoked grants, kept per
    process for at most ``POPID_HOT_CACHE_SECONDS`` like the tokens (``exchange.clients``,
    emptied by the exchange's commands): a client-credentials grant then reads no exchange row."""
    clients = hotcache.cache("exchange.clients")
    found: tuple[Subsystem, list[Grant]] | None = clients.get(client.pk)
    if found is None:
        subsystem = Subsystem.objects.select_related("agency").filter(client=client).first()
        if subsystem is None:
            return None
        found = (subsystem, list(Grant.objects.filter(subsystem=subsystem, revoked_at__isnull=True)))
        clients.put(client.pk, found)
    return found


_NEW_TOKEN = Insert(AgencyToken)


class AgencyTokenIssuer:
    """``identity.oidc.provider.ServiceTokenIssuer`` for agency subsystems."""

    def scope_for(self, client: RelyingParty, requested: str | None) -> str | None:
        found = _client_subsystem(client)
        if found is None:
            return None
        subsystem, grants = found
        if not (subsystem.is_active and subsystem.agency.is_active):
            raise UnauthorizedClientError(description="The agency or subsystem is suspended.")
        now = timezone.now()
        granted = {scope_of(g.service) for g in grants if g.is_active(now)}
        asked = set((requested or "").split())
        if asked - granted:
            raise InvalidScopeError(description=f"Not granted: {' '.join(sorted(asked - granted))}")
        scope = asked or granted
        if not scope:
            raise InvalidScopeError(description="The subsystem holds no active grant.")
        return " ".join(sorted(scope))

    def save(self, client: RelyingParty, token: dict[str, Any]) -> None:
        found = _client_subsystem(client)
        if found is None:  # the subsystem went away between scope_for and save
            raise UnauthorizedClientError(description="The client has no agency subsystem.")
        _NEW_TOKEN.save(AgencyToken(
            subsystem_id=found[0].pk, token_hash=digest(token["access_token"]), scope=token.get("scope", ""),
            expires_at=timezone.now() + timedelta(seconds=int(token.get("expires_in", 600)))))


class AgencyBearer(HttpBearer):
    """``Authorization: Bearer <token from /oidc/token>``; sets ``request.subsystem`` and
    ``request.scopes``."""

    openapi_description = "client_credentials access token (private_key_jwt) from /oidc/token"

    def authenticate(self, request: HttpRequest, token: str) -> Subsystem | None:
        if not token or len(token) > 100:
            return None
        key = digest(token)
        tokens = hotcache.cache("exchange.tokens")
        row: AgencyToken | None = tokens.get(key)
        if row is None:
            row = (AgencyToken.objects.select_related("subsystem__agency", "subsystem__client")
                   .filter(token_hash=key).first())
            if row is not None:
                tokens.put(key, row)
        if row is None or row.revoked_at or row.expires_at <= timezone.now() or not row.subsystem.usable:
            return None
        request.subsystem = row.subsystem  # type: ignore[attr-defined]
        request.scopes = frozenset(row.scope.split())  # type: ignore[attr-defined]
        mark_principal(request, AGENCY_ROLE)
        return row.subsystem


def require_scope(request: HttpRequest, service: str) -> Subsystem:
    scopes: frozenset[str] = getattr(request, "scopes", frozenset())
    if scope_of(service) not in scopes:
        raise InsufficientScope(_("Mã truy cập không có phạm vi %(scope)s") % {"scope": scope_of(service)})
    subsystem: Subsystem = request.subsystem  # type: ignore[attr-defined]
    return subsystem


AGENCY_AUTH = [AgencyBearer()]
__all__ = ["AGENCY_AUTH", "SCOPE_PREFIX", "AgencyTokenIssuer", "require_scope"]
