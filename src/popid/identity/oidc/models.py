"""Relying parties, authorization codes, tokens, consents, PAR requests and the client-assertion
replay store. Secrets, codes and tokens are stored only as SHA-256 digests: they are random
256-bit values, so a fast digest is enough and a database leak does not leak live credentials."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.identity.models import CitizenAccount


def digest(value: str) -> str:
    """SHA-256 hex of a random secret, code or token: what the database stores instead."""
    return hashlib.sha256(value.encode()).hexdigest()


class AuthMethod(models.TextChoices):
    PRIVATE_KEY_JWT = "private_key_jwt", "private_key_jwt"
    CLIENT_SECRET_BASIC = "client_secret_basic", "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post", "client_secret_post"


class SigningAlg(models.TextChoices):
    ES256 = "ES256", "ES256"
    RS256 = "RS256", "RS256"


class RelyingParty(models.Model):
    """A registered OIDC client (public-service portal, bank). Implements Authlib's ClientMixin
    in ``provider.ClientAdapter`` so the model stays free of library types."""

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    client_secret_hash = models.CharField(max_length=64, blank=True)
    token_endpoint_auth_method = models.CharField(max_length=30, choices=AuthMethod.choices)
    jwks = models.JSONField(null=True, blank=True)
    redirect_uris = models.JSONField(default=list)
    post_logout_redirect_uris = models.JSONField(default=list)
    sector_identifier = models.CharField(max_length=253, blank=True,
                                         help_text="host that groups clients sharing pairwise subjects")
    id_token_signed_response_alg = models.CharField(max_length=5, choices=SigningAlg.choices,
                                                    default=SigningAlg.ES256)
    allowed_scopes = models.CharField(max_length=300, default="openid profile popid.id_number address phone email")
    require_pushed_authorization_requests = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Dịch vụ kết nối (relying party)")

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # --- Authlib ClientMixin (duck-typed) ------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OIDC: redirect_uri is always required, never defaulted

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Requested scopes the client may have; ``openid`` is mandatory (this is an OIDC OP)."""
        requested = (scope or "").split()
        if "openid" not in requested:
            return None
        allowed = set(self.allowed_scopes.split())
        return " ".join(dict.fromkeys(s for s in requested if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, no prefixes or wildcards

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash:
            return False
        return hmac.compare_digest(digest(client_secret), self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return self.is_active and method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in {"authorization_code", "refresh_token"}

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris,
                "redirect_uris": self.redirect_uris}


class AuthorizationCode(models.Model):
    """Single-use code. ``used_at`` is kept (not deleted) so a second use is recognised as a
    replay and the tokens issued from the first use are revoked (RFC 6749 §4.1.2)."""

    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="+")
    actor_account = models.ForeignKey(CitizenAccount, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="+")
    redirect_uri = models.TextField()
    scope = models.TextField()
    nonce = models.CharField(max_length=255, blank=True)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10, default="S256")
    acr = models.CharField(max_length=20)
    amr = models.JSONField(default=list)
    auth_time = models.BigIntegerField()
    session_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.client_id}/{self.account_id}"

    # --- Authlib AuthorizationCodeMixin --------------------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return list(self.amr)

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Token(models.Model):
    """An opaque access token with its refresh token. Refresh rotation: every refresh creates a
    new row in the same ``family``; the old refresh token is marked used; presenting a used one
    again revokes the whole family (RFC 9700 §4.14.2)."""

    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="+")
    actor_account = models.ForeignKey(CitizenAccount, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="+")
    scope = models.TextField()
    access_token_hash = models.CharField(max_length=64, unique=True)
    refresh_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    family = models.CharField(max_length=32, db_index=True)
    authorization_code = models.ForeignKey(AuthorizationCode, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="tokens")
    acr = models.CharField(max_length=20)
    amr = models.JSONField(default=list)
    auth_time = models.BigIntegerField()
    issued_at = models.DateTimeField(auto_now_add=True)
    access_expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "client"])]

    def __str__(self) -> str:
        return f"token {self.pk} for {self.client_id}/{self.account_id}"

    # --- Authlib TokenMixin ----------------------------------------------------------------
    def check_client(self, client: RelyingParty) -> bool:
        return self.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.access_expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.access_expires_at <= timezone.now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Consent(models.Model):
    """What a citizen agreed to release to a client. One open row per (account, client); a wider
    request asks again and widens ``scopes``. ``granted_by`` differs from ``account`` when a
    guardian consented for a ward."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="oidc_consents")
    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="consents")
    scopes = models.JSONField(default=list)
    granted_by = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "client"], condition=models.Q(revoked_at__isnull=True),
                                    name="oidc_consent_one_open_per_client"),
        ]

    def __str__(self) -> str:
        return f"consent {self.account_id} → {self.client_id}: {' '.join(self.scopes)}"


class PushedAuthorizationRequest(models.Model):
    """RFC 9126: authorization parameters pushed by an authenticated client, referenced later by
    ``request_uri``. Short-lived and single-use."""

    reference = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"PAR {self.reference[:8]}… for {self.client_id}"


class ClientAssertionJti(models.Model):
    """Replay store for private_key_jwt assertions: (client, jti) may be seen once until the
    assertion expires. In the database so every web worker shares it."""

    client_id = models.CharField(max_length=64)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "jti"], name="oidc_jti_once_per_client")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.jti}"


__all__ = [
    "AuthMethod", "AuthorizationCode", "ClientAssertionJti", "Consent", "PushedAuthorizationRequest",
    "RelyingParty", "SigningAlg", "Token",
]
