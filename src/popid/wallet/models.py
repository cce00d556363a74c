"""The wallet's records: credentials issued (with their status-list index), the status lists'
signed tokens, the web wallet's holder keys and stored credentials, OpenID4VCI offers, tokens
and nonces, and the verifier's sessions (one nonce each, used once)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from popid.identity.models import CitizenAccount


class CredentialStatus(models.IntegerChoices):
    """Token Status List values (draft-ietf-oauth-status-list §7.1)."""

    VALID = 0, _("Còn hiệu lực")
    INVALID = 1, _("Đã thu hồi")
    SUSPENDED = 2, _("Tạm đình chỉ")


class IssuedCredential(models.Model):
    issuer = models.CharField(max_length=20)
    config_id = models.CharField(max_length=40)
    document_ref = models.CharField(max_length=30)
    person_id_number = models.CharField(max_length=12)
    list_id = models.PositiveIntegerField(default=1)
    status_idx = models.PositiveIntegerField()
    status = models.PositiveSmallIntegerField(choices=CredentialStatus.choices, default=CredentialStatus.VALID)
    status_reason = models.CharField(max_length=200, blank=True)
    holder_thumbprint = models.CharField(max_length=64)
    channel = models.CharField(max_length=12)  # web_wallet | oid4vci
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "list_id", "status_idx"], name="wallet_status_slot")]
        indexes = [models.Index(fields=["config_id", "document_ref"]), models.Index(fields=["person_id_number"]),
                   models.Index(fields=["issuer", "list_id", "status"])]

    def __str__(self) -> str:
        return f"{self.config_id} {self.document_ref} #{self.status_idx}"


class StatusList(models.Model):
    """One list per issuer; ``version`` moves on every status change, the signed token is cached
    until the version moves or it ages past half its time to live."""

    issuer = models.CharField(max_length=20)
    list_id = models.PositiveIntegerField(default=1)
    version = models.PositiveIntegerField(default=1)
    token = models.TextField(blank=True)
    token_version = models.PositiveIntegerField(default=0)
    token_iat = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "list_id"], name="wallet_status_list")]

    def __str__(self) -> str:
        return f"{self.issuer}/{self.list_id} v{self.version}"


class EventCursor(models.Model):
    """How far the wallet has read the registry outbox (it never marks other consumers' events)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_id}"


class HolderKey(models.Model):
    """The web wallet's holder key for one citizen account: P-256, private part encrypted with a
    key derived from the server secret (see docs/wallet.md for why server-side)."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="wallet_keys")
    thumbprint = models.CharField(max_length=64, unique=True)
    public_jwk = models.JSONField()
    private_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.thumbprint


class WalletCredential(models.Model):
    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="wallet_credentials")
    issued = models.OneToOneField(IssuedCredential, on_delete=models.CASCADE, related_name="+")
    # server-held key (HolderKey) or a browser-held WebCrypto key (only its public JWK is known)
    holder_key = models.ForeignKey(HolderKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    browser_jwk = models.JSONField(null=True, blank=True)
    config_id = models.CharField(max_length=40)
    sd_jwt = models.TextField()
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.config_id}"


class CredentialOffer(models.Model):
    """OpenID4VCI pre-authorised code: only its hash is stored; the transaction code (sent by SMS)
    too. One redemption, a few wrong tx_code attempts, a short lifetime."""

    code_hash = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="+")
    config_ids = models.JSONField()
    tx_code_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"offer {self.pk}"


class IssuanceToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    offer = models.ForeignKey(CredentialOffer, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField()
    credentials_issued = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"token {self.pk}"


class IssuanceNonce(models.Model):
    value = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.value


class VerifierSession(models.Model):
    """A verifier's request: the nonce the presentation must carry, used once."""

    public_id = models.CharField(max_length=16, unique=True)
    nonce = models.CharField(max_length=64, unique=True)
    audience = models.CharField(max_length=300)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.public_id


class PresentationReference(models.Model):
    """A compact presentation (issue #19 item 6): the full key-bound presentation kept for its
    60-second life under an unguessable reference, so the QR code carries a short address instead
    of ~2,000 characters. Only a verifier naming the presentation's own audience (its session) gets
    it back; it is then verified exactly like a pasted one (signatures, nonce, audience, expiry)."""

    ref = models.CharField(max_length=32, unique=True)
    payload = models.TextField()
    audience = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.ref
