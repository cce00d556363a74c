"""Authlib wiring: one AuthorizationServer with the authorization-code grant (OIDC extension,
PKCE S256 required), refresh-token rotation, client_secret_basic/post and private_key_jwt
client authentication, and the RP-initiated logout endpoint.

Authlib does the protocol checks (parameters, redirect URI, PKCE verifier, assertion signature
and claims); this module supplies storage (our models), subjects (pairwise), keys (core.keys)
and the stricter policies PopID wants (S256 only, short assertions, family revocation).
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.integrations.django_oauth2.requests import DjangoOAuth2Request
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants.util import create_half_hash
from authlib.oidc.rpinitiated import EndSessionEndpoint
from django.conf import settings
from django.contrib.auth import logout
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from popid.core import keys
from popid.identity.models import CitizenAccount
from popid.identity.oidc import selectors, services
from popid.identity.oidc.models import (
    AuthorizationCode,
    ClientAssertionJti,
    RelyingParty,
    Token,
    digest,
)
from popid.identity.oidc.pairwise import pairwise_sub, sector_of

log = logging.getLogger("popid.oidc")

# Authlib refuses request URLs that are not https. Behind PopID's TLS-terminating proxy (and in
# development and tests) Django sees http, so the check is made where TLS actually ends: the
# deployment (docs/oidc.md). The issuer (POPID_OIDC_ISSUER) is https in production.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

CODE_SECONDS = 60
ACCESS_TOKEN_SECONDS = 600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
ID_TOKEN_SECONDS = 600
ASSERTION_MAX_SECONDS = 300  # private_key_jwt assertions must expire within 5 minutes
ASSERTION_ALGS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"]  # never "none", never HMAC
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

_issuer: contextvars.ContextVar[str] = contextvars.ContextVar("popid_oidc_issuer", default="")


def issuer_for(request: HttpRequest) -> str:
    """POPID_OIDC_ISSUER in production; the request's origin in development and tests."""
    configured = getattr(settings, "POPID_OIDC_ISSUER", "") or ""
    return configured.rstrip("/") or f"{request.scheme}://{request.get_host()}"


def bind_issuer(request: HttpRequest) -> str:
    value = issuer_for(request)
    _issuer.set(value)
    return value


def current_issuer() -> str:
    return _issuer.get()


def endpoint_url(name: str) -> str:
    return current_issuer() + reverse(f"oidc:{name}")


@dataclass
class Grantee:
    """Who an authorization is for (``account``, a ward when a guardian acts) and how the
    session authenticated. Authlib carries it as ``request.user``."""

    account: CitizenAccount
    actor_account: CitizenAccount | None
    acr: str
    amr: list[str]
    auth_time: int
    session_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.account.pk


def subject_for(client: RelyingParty, account: CitizenAccount) -> str:
    sector = sector_of(sector_identifier=client.sector_identifier, redirect_uris=client.redirect_uris)
    return pairwise_sub(sector=sector, person_pk=account.person_id)


def subject_claims(client: RelyingParty, account: CitizenAccount, actor: CitizenAccount | None) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": subject_for(client, account)}
    if actor is not None:
        claims["act"] = {"sub": subject_for(client, actor)}  # RFC 8693 actor claim
    return claims


def revoke_families(families: set[str], *, reason: str) -> int:
    if not families:
        return 0
    count = Token.objects.filter(family__in=families, revoked_at__isnull=True).update(revoked_at=timezone.now())
    log.warning("oidc revoked %d tokens in %d families: %s", count, len(families), reason)
    return count


# --- requests ------------------------------------------------------------------------------
class ParamsPayload(OAuth2Payload):  # type: ignore[misc]  # authlib has no type hints
    """Authorization parameters from a pushed request or the query string, not the raw body."""

    def __init__(self, params: dict[str, str]) -> None:
        self._params = params

    @property
    def data(self) -> dict[str, str]:
        return self._params

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._params.items():
            values[key].append(value)
        return values


class ParamsRequest(DjangoOAuth2Request):  # type: ignore[misc]  # authlib has no type hints
    def __init__(self, request: HttpRequest, params: dict[str, str]) -> None:
        super().__init__(request)
        self.payload = ParamsPayload(params)


# --- PKCE: S256 only, always -------------------------------------------------------------
class RequiredS256(CodeChallenge):  # type: ignore[misc]  # authlib has no type hints
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted ('plain' is refused)")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge_method


# --- grants -------------------------------------------------------------------------------
def _grantee_from(row: AuthorizationCode | Token) -> Grantee | None:
    if not row.account.is_active or (row.actor_account is not None and not row.actor_account.is_active):
        return None
    return Grantee(account=row.account, actor_account=row.actor_account, acr=row.acr, amr=list(row.amr),
                   auth_time=row.auth_time)


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]  # authlib has no type hints
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        grantee: Grantee = request.user
        data = request.payload.data
        AuthorizationCode.objects.create(
            code_hash=digest(code), client=request.client, account=grantee.account,
            actor_account=grantee.actor_account, redirect_uri=request.payload.redirect_uri, scope=request.scope,
            nonce=data.get("nonce", "")[:255], code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"), acr=grantee.acr, amr=grantee.amr,
            auth_time=grantee.auth_time, session_key=grantee.session_key,
            expires_at=timezone.now() + timedelta(seconds=CODE_SECONDS))

    def query_authorization_code(self, code: str, client: RelyingParty) -> AuthorizationCode | None:
        """Claim the code atomically. A code seen a second time is an attack (or a leak): refuse
        it and revoke every token issued from its first use (RFC 6749 §4.1.2)."""
        row = (AuthorizationCode.objects.select_related("account", "actor_account")
               .filter(code_hash=digest(code), client=client).first())
        if row is None:
            return None
        claimed = AuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not claimed:
            families = set(row.tokens.values_list("family", flat=True))
            revoke_families(families, reason=f"authorization code reused by client {client.client_id}")
            return None
        if row.is_expired():
            return None
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Kept, already marked used, so a replay is recognised."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Grantee | None:
        return _grantee_from(authorization_code)


class RotatingRefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]  # authlib has no type hints
    """Every refresh returns a new refresh token; the presented one is spent. Presenting a spent
    one again means it was stolen (or the client is broken): the whole family is revoked."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = selectors.token_by_refresh_digest(digest(refresh_token))
        client = self.request.client
        if row is None or row.client_id != client.pk:
            return None
        if row.revoked_at or row.refresh_used_at:
            revoke_families({row.family}, reason=f"spent refresh token replayed by client {client.client_id}")
            return None
        if row.refresh_expires_at and row.refresh_expires_at <= timezone.now():
            return None
        if not services.spend_refresh_token(row, timezone.now()):  # spent concurrently: same as a replay
            revoke_families({row.family}, reason="concurrent refresh token use")
            return None
        self.request.refresh_family = row.family
        return row

    def authenticate_user(self, refresh_token: Token) -> Grantee | None:
        return _grantee_from(refresh_token)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Already spent (and its access token revoked) in authenticate_refresh_token."""


class PopIDOpenIDCode(OpenIDCode):  # type: ignore[misc]  # authlib has no type hints
    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return AuthorizationCode.objects.filter(client__client_id=request.payload.client_id, nonce=nonce).exists()

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        """The ID token carries the subject (and actor); profile claims come from userinfo so
        the registry is read, and the read recorded, once per login."""
        client: RelyingParty = request.client
        alg = client.id_token_signed_response_alg
        stored = keys.current_signing_key(alg)  # one read: kid and key always match
        now = int(time.time())
        claims: dict[str, Any] = {"iss": current_issuer(), "aud": client.client_id, "azp": client.client_id,
                                  "iat": now, "exp": now + ID_TOKEN_SECONDS}
        claims.update(self.get_authorization_code_claims(request.authorization_code))
        if access_token := token.get("access_token"):
            claims["at_hash"] = create_half_hash(access_token, alg).decode()
        claims.update(subject_claims(client, request.user.account, request.user.actor_account))
        return jwt.encode({"alg": alg, "kid": stored.kid, "typ": "JWT"}, claims, stored.key, [alg])


# --- client authentication ----------------------------------------------------------------
class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]  # authlib has no type hints
    """RFC 7523 client assertions: signed by a key in the client's registered JWKS, iss = sub =
    client_id, aud = our token/PAR endpoint or issuer, exp required and short, jti single-use."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self) -> list[str]:
        return [current_issuer(), endpoint_url("token"), endpoint_url("par")]

    def resolve_client_public_key(self, client: RelyingParty) -> KeySet:
        if not client.jwks:
            raise InvalidClientError(description="The client has no registered JWKS.")
        return KeySet.import_key_set(client.jwks)

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGS)
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description=f"Invalid client assertion: {exc}") from exc
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: Any) -> None:
        exp, iat = claims.get("exp"), claims.get("iat")
        now = int(time.time())
        if not isinstance(exp, int):
            raise InvalidClientError(description="Client assertion needs a numeric 'exp'.")
        if exp - now > ASSERTION_MAX_SECONDS or (isinstance(iat, int) and exp - iat > ASSERTION_MAX_SECONDS):
            raise InvalidClientError(description=f"Client assertion lifetime exceeds {ASSERTION_MAX_SECONDS} s.")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: str) -> bool:
        now = timezone.now()
        _sweep_expired_jtis(now)
        try:
            with transaction.atomic():
                ClientAssertionJti.objects.create(
                    client_id=str(claims["sub"])[:64], jti=str(jti)[:255],
                    expires_at=now + timedelta(seconds=ASSERTION_MAX_SECONDS + self.leeway))
        except IntegrityError:
            log.warning("oidc client assertion replayed: client=%s jti=%s", claims.get("sub"), jti)
            return False
        return True


_jti_swept_at = 0.0
JTI_SWEEP_SECONDS = 60


def _sweep_expired_jtis(now: datetime) -> None:
    """Delete the replay store's expired rows at most once a minute per process instead of on
    every token request (one statement less on the token endpoint's hot path, issue #18). An
    expired row kept a little longer refuses nothing new: its assertion has expired too."""
    global _jti_swept_at
    tick = time.monotonic()
    if tick - _jti_swept_at < JTI_SWEEP_SECONDS:
        return
    _jti_swept_at = tick
    ClientAssertionJti.objects.filter(expires_at__lt=now).delete()


# --- client credentials for service clients (agency subsystems, issue #5) --------------------
class ServiceTokenIssuer(Protocol):
    """Supplied by the app that owns service clients (popid.exchange registers one in its
    AppConfig.ready), so the provider stays free of that app's models."""

    def scope_for(self, client: RelyingParty, requested: str | None) -> str | None:
        """The scope to issue (raise ``InvalidScopeError`` for scopes not granted), or None when
        this client may not use client_credentials at all."""

    def save(self, client: RelyingParty, token: dict[str, Any]) -> None:
        """Store the issued access token bound to the client's subsystem and scope."""


_service_issuer: list[ServiceTokenIssuer] = []


def register_service_token_issuer(issuer: ServiceTokenIssuer) -> None:
    _service_issuer[:] = [issuer]


class ServiceClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]  # authlib has no type hints
    """RFC 6749 §4.4 for agency subsystems: ``private_key_jwt`` only (the assertion hardening and
    jti replay store of ``PrivateKeyJWT`` apply), no user, no refresh token; the scope is what the
    registered issuer grants, never more than asked."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        issuer = _service_issuer[0] if _service_issuer else None
        scope = issuer.scope_for(client, self.request.payload.scope) if issuer else None
        if not scope:
            raise UnauthorizedClientError(
                description="The client is not authorized to use grant_type=client_credentials.")
        self.request.client = client
        self.request.service_scope = scope

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Not generate_token: that filters the scope through RelyingParty.get_allowed_scope, which
        # is the OIDC (openid-only) policy; service scopes were decided by the issuer above.
        token = {"token_type": "Bearer", "access_token": secrets.token_urlsafe(32),
                 "expires_in": ACCESS_TOKEN_SECONDS, "scope": self.request.service_scope}
        _service_issuer[0].save(self.request.client, token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# --- logout -------------------------------------------------------------------------------
class EndSession(EndSessionEndpoint):  # type: ignore[misc]  # authlib has no type hints
    def get_server_jwks(self) -> dict[str, Any]:
        return keys.public_jwks()

    def end_session(self, end_session_request: Any) -> None:
        logout(end_session_request.request._request)


# --- server -------------------------------------------------------------------------------
class PopIDAuthorizationServer(AuthorizationServer):  # type: ignore[misc]  # authlib has no type hints
    def __init__(self) -> None:
        super().__init__(RelyingParty, Token)

    def query_client(self, client_id: str) -> RelyingParty | None:
        return selectors.active_client(client_id)

    def create_oauth2_request(self, request: Any) -> Any:
        if isinstance(request, DjangoOAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def create_bearer_token_generator(self) -> BearerTokenGenerator:
        return BearerTokenGenerator(
            access_token_generator=lambda **_: secrets.token_urlsafe(32),
            refresh_token_generator=lambda **_: secrets.token_urlsafe(48),
            expires_generator=lambda client, grant_type: ACCESS_TOKEN_SECONDS,
        )

    def save_token(self, token: dict[str, Any], request: Any) -> Token:
        grantee: Grantee = request.user
        now = timezone.now()
        code = getattr(request, "authorization_code", None)
        refresh = token.get("refresh_token")
        return Token.objects.create(
            client=request.client, account=grantee.account, actor_account=grantee.actor_account,
            scope=token.get("scope", ""), access_token_hash=digest(token["access_token"]),
            refresh_token_hash=digest(refresh) if refresh else None,
            family=getattr(request, "refresh_family", None) or secrets.token_hex(16),
            authorization_code=code if isinstance(code, AuthorizationCode) else None,
            acr=grantee.acr, amr=grantee.amr, auth_time=grantee.auth_time,
            access_expires_at=now + timedelta(seconds=int(token.get("expires_in", ACCESS_TOKEN_SECONDS))),
            refresh_expires_at=now + timedelta(seconds=REFRESH_TOKEN_SECONDS) if refresh else None)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> HttpResponse:
        payload = getattr(request, "payload", None)
        client_id = str(getattr(payload, "client_id", "") or "") if payload is not None else ""
        log.warning("oidc refused: error=%s description=%s client=%s path=%s", error.error,
                    error.description, client_id[:64], getattr(request, "uri", ""))
        response: HttpResponse = super().handle_error_response(request, error)  # authlib is untyped (Django server)
        return response

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No Django signals in PopID (house style)."""


def build_server() -> PopIDAuthorizationServer:
    from popid.identity.oidc.claims import SCOPES

    server = PopIDAuthorizationServer()
    server.scopes_supported = list(SCOPES)
    server.register_client_auth_method("private_key_jwt", PrivateKeyJWT())
    server.register_grant(CodeGrant, [RequiredS256(required=True), PopIDOpenIDCode(require_nonce=False)])
    server.register_grant(RotatingRefreshGrant)
    server.register_grant(ServiceClientCredentialsGrant)
    server.register_endpoint(EndSession)
    return server


server = build_server()

__all__ = ["Grantee", "InvalidGrantError", "ParamsRequest", "bind_issuer", "server", "subject_claims"]
