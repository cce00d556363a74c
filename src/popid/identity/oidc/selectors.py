"""Reads for the provider and the citizen's account pages."""

from __future__ import annotations

from django.db.models import QuerySet

from popid.core import hotcache
from popid.core.rawrows import FixedSql, Joined, fetch, read_connection
from popid.identity.models import CitizenAccount
from popid.identity.oidc.models import Consent, RelyingParty, Token

# userinfo's read, in the ORM's terms: Token.objects.select_related("client", "account__person",
# "account__user", "actor_account").filter(access_token_hash=...).first(), as a fixed query.
_TOKEN = Joined(Token, ["client", "account", "account__person", "account__user", "actor_account"])
_TOKEN_SQL = FixedSql(lambda c: f"{_TOKEN.select_from(c)} WHERE {_TOKEN.alias().column('access_token_hash', c)} = %s")


# The refresh grant's read: Token.objects.select_related("account", "actor_account", "client")
# .filter(refresh_token_hash=...).first() (its spend is services.spend_refresh_token).
_REFRESH = Joined(Token, ["account", "actor_account", "client"])
_REFRESH_SQL = FixedSql(
    lambda c: f"{_REFRESH.select_from(c)} WHERE {_REFRESH.alias().column('refresh_token_hash', c)} = %s")


def token_by_refresh_digest(refresh_token_hash: str) -> Token | None:
    """The token whose refresh token is presented, with its account and client (core.rawrows)."""
    connection = read_connection(Token)
    rows = fetch(connection, _REFRESH_SQL(connection), [refresh_token_hash])
    return _REFRESH.instance(rows[0], connection) if rows else None


def token_by_access_digest(access_token_hash: str) -> Token | None:
    """The token presented at userinfo, with its client and account (and the account's person and
    user) loaded in one statement: the provider's hottest read (core.rawrows)."""
    connection = read_connection(Token)
    rows = fetch(connection, _TOKEN_SQL(connection), [access_token_hash])
    return _TOKEN.instance(rows[0], connection) if rows else None


CLIENTS_CACHE = "oidc.clients"


def active_client(client_id: str) -> RelyingParty | None:
    """The active relying party with this client_id. A login reads it five times (authorize,
    the login page naming the service, authorize again, token), so it is kept per process for at
    most ``POPID_HOT_CACHE_SECONDS`` (``core.hotcache``): disabling a client or replacing its keys
    through PopID's commands forgets it at once in that process, and everywhere within those
    seconds. Only active clients are kept; an unknown or disabled one is read every time."""
    if not client_id or len(client_id) > 64:
        return None
    clients = hotcache.cache(CLIENTS_CACHE)
    client: RelyingParty | None = clients.get(client_id)
    if client is None:
        client = RelyingParty.objects.filter(client_id=client_id, is_active=True).first()
        if client is not None:
            clients.put(client_id, client)
    return client


def forget_clients() -> None:
    """After a change to a relying party (core.hotcache.forget)."""
    hotcache.forget(CLIENTS_CACHE)


def consents_for(account: CitizenAccount) -> QuerySet[Consent]:
    """The citizen's open consents, newest first, with the client for display
    (public function for the account pages)."""
    return (Consent.objects.select_related("client").filter(account=account, revoked_at__isnull=True)
            .order_by("-updated_at"))


def open_consent(*, account: CitizenAccount, client: RelyingParty) -> Consent | None:
    return Consent.objects.filter(account=account, client=client, revoked_at__isnull=True).first()


def consent_covers(*, account: CitizenAccount, client: RelyingParty, scopes: list[str]) -> bool:
    consent = open_consent(account=account, client=client)
    return consent is not None and set(scopes) <= set(consent.scopes)


def relying_parties() -> QuerySet[RelyingParty]:
    return RelyingParty.objects.order_by("-is_active", "name")
