"""Writes: client registration and disabling, consents. Each is one transaction; typed errors."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from popid.core.errors import NotFound, ValidationFailed
from popid.core.rawrows import FixedSql, quoted_column
from popid.identity.models import CitizenAccount
from popid.identity.oidc.models import AuthMethod, Consent, RelyingParty, SigningAlg, Token, digest
from popid.identity.oidc.pairwise import sector_of
from popid.identity.oidc.selectors import forget_clients

log = logging.getLogger("popid.oidc")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": "invalid", "message": message}])


def _check_uri(uri: str, field: str) -> str:
    """Absolute https URIs (http only for localhost), no fragment: exact matching needs a
    canonical registered value."""
    parts = urlsplit(uri)
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme not in {"https", "http"} or (parts.scheme == "http" and not local) or not parts.hostname:
        raise _invalid(field, _("Địa chỉ chuyển hướng phải là https (http chỉ cho localhost): %(uri)s") % {"uri": uri})
    if parts.fragment:
        raise _invalid(field, _("Địa chỉ chuyển hướng không được chứa #fragment: %(uri)s") % {"uri": uri})
    return uri


def _check_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    try:
        key_set = KeySet.import_key_set(cast(KeySetSerialization, jwks))  # checked by the import itself
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _invalid("jwks", _("JWKS không hợp lệ: %(error)s") % {"error": exc}) from exc
    if not key_set.keys or any(k.key_type == "oct" or k.is_private for k in key_set.keys):
        raise _invalid("jwks", _("JWKS phải gồm khóa công khai (EC, RSA hoặc OKP), không có khóa bí mật"))
    return {"keys": [k.as_dict(private=False) for k in key_set.keys]}


@transaction.atomic
def register_client(*, name: str, redirect_uris: list[str],
                    token_endpoint_auth_method: str = AuthMethod.PRIVATE_KEY_JWT,
                    jwks: dict[str, Any] | None = None, post_logout_redirect_uris: list[str] | None = None,
                    sector_identifier: str = "", id_token_signed_response_alg: str = SigningAlg.ES256,
                    require_pushed_authorization_requests: bool = False, allowed_scopes: str | None = None,
                    created_by: str = "") -> tuple[RelyingParty, str | None]:
    """Register a relying party. Returns the client and its secret (only for the secret methods;
    shown once, stored as a digest)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise _invalid("name", _("Tên dịch vụ bắt buộc, tối đa 200 ký tự"))
    if not redirect_uris:
        raise _invalid("redirect_uris", _("Cần ít nhất một địa chỉ chuyển hướng"))
    redirect_uris = [_check_uri(u.strip(), "redirect_uris") for u in redirect_uris]
    post_logout = [_check_uri(u.strip(), "post_logout_redirect_uris") for u in post_logout_redirect_uris or []]
    if token_endpoint_auth_method not in AuthMethod.values:
        raise _invalid("token_endpoint_auth_method", _("Phương thức xác thực không được hỗ trợ"))
    if id_token_signed_response_alg not in SigningAlg.values:
        raise _invalid("id_token_signed_response_alg", _("Thuật toán ký không được hỗ trợ"))
    secret = None
    key_set = None
    if token_endpoint_auth_method == AuthMethod.PRIVATE_KEY_JWT:
        if not jwks:
            raise _invalid("jwks", _("private_key_jwt cần JWKS công khai của dịch vụ"))
        key_set = _check_jwks(jwks)
    else:
        secret = secrets.token_urlsafe(32)
    sector_identifier = (sector_identifier or "").strip().lower()
    sector_of(sector_identifier=sector_identifier, redirect_uris=redirect_uris)  # raises if ambiguous
    client = RelyingParty.objects.create(
        client_id=secrets.token_urlsafe(18), name=name, token_endpoint_auth_method=token_endpoint_auth_method,
        client_secret_hash=digest(secret) if secret else "", jwks=key_set, redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout, sector_identifier=sector_identifier,
        id_token_signed_response_alg=id_token_signed_response_alg,
        require_pushed_authorization_requests=require_pushed_authorization_requests,
        created_by=created_by[:150], **({"allowed_scopes": allowed_scopes} if allowed_scopes else {}))
    log.info("oidc client registered: %s (%s) by %s", client.client_id, name, created_by or "cli")
    return client, secret


# The refresh token's spend, written once (core.rawrows): the conditional UPDATE that lets exactly
# one of two racing requests use a refresh token.
def _spend_sql(c: Any) -> str:
    def col(name: str) -> str:
        return quoted_column(Token, name, c)

    return (f"UPDATE {c.ops.quote_name(Token._meta.db_table)} SET {col('refresh_used_at')} = %s, "  # noqa: S608
            f"{col('revoked_at')} = %s WHERE {col('id')} = %s AND {col('refresh_used_at')} IS NULL "
            f"AND {col('revoked_at')} IS NULL")


_SPEND_SQL = FixedSql(_spend_sql)


def spend_refresh_token(token: Token, at: datetime) -> bool:
    """Mark the refresh token used (and its access token revoked) unless it already was: True for
    the one request that spent it."""
    connection = connections[router.db_for_write(Token) or "default"]
    stamp = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(_SPEND_SQL(connection), [stamp, stamp, token.pk])
        return bool(cursor.rowcount)


@transaction.atomic
def disable_client(*, client_id: str, by: str) -> RelyingParty:
    """Disable a client: it can no longer authenticate, and its tokens stop working."""
    client = RelyingParty.objects.select_for_update().filter(client_id=client_id).first()
    if client is None:
        raise NotFound(_("Không tìm thấy dịch vụ kết nối"))
    now = timezone.now()
    client.is_active, client.disabled_at = False, now
    client.save(update_fields=["is_active", "disabled_at"])
    Token.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
    forget_clients()
    log.info("oidc client disabled: %s by %s", client_id, by)
    return client


@transaction.atomic
def grant_consent(*, account: CitizenAccount, granted_by: CitizenAccount, client: RelyingParty,
                  scopes: list[str]) -> Consent:
    """Remember the citizen's consent; a wider request widens the open consent."""
    consent = (Consent.objects.select_for_update()
               .filter(account=account, client=client, revoked_at__isnull=True).first())
    if consent is None:
        return Consent.objects.create(account=account, client=client, scopes=sorted(set(scopes)),
                                      granted_by=granted_by)
    consent.scopes = sorted(set(consent.scopes) | set(scopes))
    consent.granted_by = granted_by
    consent.save(update_fields=["scopes", "granted_by", "updated_at"])
    return consent


@transaction.atomic
def revoke_consent(*, account: CitizenAccount, consent_id: int) -> Consent:
    """The citizen withdraws a consent: the next login asks again, and the client's refresh
    tokens for this citizen stop working now (its access tokens too)."""
    consent = (Consent.objects.select_for_update()
               .filter(pk=consent_id, account=account, revoked_at__isnull=True).first())
    if consent is None:
        raise NotFound(_("Không tìm thấy sự đồng ý"))  # same answer for missing and not yours
    now = timezone.now()
    consent.revoked_at = now
    consent.save(update_fields=["revoked_at"])
    Token.objects.filter(account=account, client=consent.client, revoked_at__isnull=True).update(revoked_at=now)
    return consent
