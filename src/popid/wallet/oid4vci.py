"""OpenID for Verifiable Credential Issuance 1.0, pre-authorised code flow, for external wallets.

1. The level-2 citizen asks the portal for an offer: a credential offer (``openid-credential-offer://``
   URI and QR code) with a one-time pre-authorised code; the transaction code (``tx_code``) goes
   to their phone by SMS, so a photographed QR code alone is useless.
2. The wallet posts the code and tx_code to the token endpoint and gets a short access token.
3. It asks the nonce endpoint for a ``c_nonce`` and signs a proof JWT (``openid4vci-proof+jwt``)
   with its own key; the credential endpoint checks the proof and issues to that key (``cnf``)
   through ``issuance.issue_credential``, the same code as the web wallet.

Only hashes of codes and tokens are stored. Errors use the OAuth error format the spec requires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jws
from joserfc.errors import JoseError

from popid.core import messaging
from popid.identity.models import CitizenAccount
from popid.wallet import claims as claim_builders
from popid.wallet import sdjwt
from popid.wallet.errors import DocumentUnavailable
from popid.wallet.issuance import issue_credential
from popid.wallet.issuers import CREDENTIAL_TYPES
from popid.wallet.models import CredentialOffer, IssuanceNonce, IssuanceToken
from popid.wallet.services import require_level2, wallet_context

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
ISSUER_PATH = "/vi-giay-to"
OFFER_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(minutes=5)
NONCE_LIFETIME = timedelta(minutes=5)
MAX_TX_CODE_ATTEMPTS = 3
PROOF_TYP = "openid4vci-proof+jwt"
PROOF_MAX_AGE = 300


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def credential_issuer(base: str) -> str:
    return f"{base}{ISSUER_PATH}"


def issuer_metadata(base: str) -> dict[str, Any]:
    issuer_id = credential_issuer(base)
    configs = {}
    for ctype in CREDENTIAL_TYPES.values():
        configs[ctype.config_id] = {
            "format": "dc+sd-jwt", "vct": ctype.vct, "scope": ctype.config_id,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
            "credential_metadata": {"display": [{"name": str(ctype.name), "locale": "vi-VN"}]},
        }
    return {
        "credential_issuer": issuer_id,
        "authorization_servers": [issuer_id],
        "credential_endpoint": f"{issuer_id}/oid4vci/credential",
        "nonce_endpoint": f"{issuer_id}/oid4vci/nonce",
        "display": [{"name": "PopID — Ví giấy tờ số", "locale": "vi-VN"}],
        "credential_configurations_supported": configs,
    }


def authorization_server_metadata(base: str) -> dict[str, Any]:
    issuer_id = credential_issuer(base)
    return {"issuer": issuer_id, "token_endpoint": f"{issuer_id}/oid4vci/token",
            "grant_types_supported": [PRE_AUTH_GRANT], "pre-authorized_grant_anonymous_access_supported": True,
            "response_types_supported": []}


@transaction.atomic
def create_offer(*, account: CitizenAccount, config_id: str, document_ref: str, base: str) -> dict[str, Any]:
    """An offer for one of the account's documents; returns the offer, its URI and (for tests) nothing secret
    beyond what the QR code carries: the tx_code only goes by SMS."""
    require_level2(account)
    refs = {(c, r) for c, r, _label in claim_builders.available_documents(account.person)}
    if (config_id, document_ref) not in refs:
        raise DocumentUnavailable(field="document")
    code = secrets.token_urlsafe(32)
    tx_code = f"{secrets.randbelow(10**6):06d}"
    CredentialOffer.objects.create(code_hash=_hash(code), account=account,
                                   config_ids=[{"id": config_id, "ref": document_ref}],
                                   tx_code_hash=_hash(tx_code), expires_at=timezone.now() + OFFER_LIFETIME)
    text = _("PopID: mã giao dịch để nhận giấy tờ số vào ví là %(code)s, hiệu lực 10 phút. Không chia sẻ mã này.") % {
        "code": tx_code}
    phone = account.phone
    transaction.on_commit(lambda: messaging.send_sms(phone, text))
    offer = {"credential_issuer": credential_issuer(base), "credential_configuration_ids": [config_id],
             "grants": {PRE_AUTH_GRANT: {"pre-authorized_code": code, "tx_code": {
                 "input_mode": "numeric", "length": 6, "description": "Mã giao dịch gửi qua SMS"}}}}
    uri = "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer, separators=(",", ":")))
    return {"offer": offer, "uri": uri}


@transaction.atomic
def token(*, grant_type: str, code: str, tx_code: str) -> dict[str, Any]:
    if grant_type != PRE_AUTH_GRANT:
        raise OAuthError("unsupported_grant_type", "only the pre-authorized_code grant is supported")
    if not code:
        raise OAuthError("invalid_request", "pre-authorized_code is required")
    offer = CredentialOffer.objects.select_for_update().filter(code_hash=_hash(code)).first()
    if offer is None or offer.redeemed_at is not None or offer.expires_at < timezone.now() \
            or offer.failed_attempts >= MAX_TX_CODE_ATTEMPTS:
        raise OAuthError("invalid_grant", "the pre-authorized code is unknown, used or expired")
    if not secrets.compare_digest(offer.tx_code_hash, _hash(tx_code or "")):
        offer.failed_attempts += 1
        offer.save(update_fields=["failed_attempts"])
        raise OAuthError("invalid_grant", "wrong tx_code")
    offer.redeemed_at = timezone.now()
    offer.save(update_fields=["redeemed_at"])
    access_token = secrets.token_urlsafe(32)
    IssuanceToken.objects.create(token_hash=_hash(access_token), offer=offer,
                                 expires_at=timezone.now() + TOKEN_LIFETIME)
    nonce = new_nonce()
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "c_nonce": nonce, "c_nonce_expires_in": int(NONCE_LIFETIME.total_seconds())}


def new_nonce() -> str:
    value = secrets.token_urlsafe(24)
    IssuanceNonce.objects.create(value=value, expires_at=timezone.now() + NONCE_LIFETIME)
    return value


def _proof_key(proof_jwt: str, *, audience: str) -> dict[str, Any]:
    """Check the holder's proof of possession; returns its public JWK."""
    try:
        parsed_header = json.loads(sdjwt.b64decode(proof_jwt.split(".")[0]))
        payload = json.loads(sdjwt.b64decode(proof_jwt.split(".")[1]))
    except (ValueError, IndexError, AttributeError) as exc:
        raise OAuthError("invalid_proof", "proof is not a JWT") from exc
    if parsed_header.get("typ") != PROOF_TYP or parsed_header.get("alg") != "ES256":
        raise OAuthError("invalid_proof", "proof must be an ES256 openid4vci-proof+jwt")
    jwk = parsed_header.get("jwk")
    if not isinstance(jwk, dict):
        raise OAuthError("invalid_proof", "proof header must carry the holder jwk")
    try:
        key = sdjwt.import_key(jwk)
        jws.deserialize_compact(proof_jwt, key, algorithms=["ES256"])
    except (sdjwt.Refused, JoseError, ValueError) as exc:
        raise OAuthError("invalid_proof", "proof signature or key is invalid") from exc
    if payload.get("aud") != audience:
        raise OAuthError("invalid_proof", "proof aud must be the credential issuer")
    iat = payload.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > PROOF_MAX_AGE:
        raise OAuthError("invalid_proof", "proof iat missing or too old")
    nonce = IssuanceNonce.objects.select_for_update().filter(value=str(payload.get("nonce", ""))).first()
    if nonce is None or nonce.used_at is not None or nonce.expires_at < timezone.now():
        raise OAuthError("invalid_nonce", "c_nonce unknown, used or expired: ask the nonce endpoint")
    nonce.used_at = timezone.now()
    nonce.save(update_fields=["used_at"])
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


@transaction.atomic
def credential(*, authorization: str, body: dict[str, Any], base: str) -> dict[str, Any]:
    if not authorization.startswith("Bearer "):
        raise OAuthError("invalid_token", "Bearer access token required", status=401)
    row = IssuanceToken.objects.select_for_update().select_related("offer__account__person").filter(
        token_hash=_hash(authorization[7:].strip())).first()
    if row is None or row.expires_at < timezone.now():
        raise OAuthError("invalid_token", "access token unknown or expired", status=401)
    config_id = body.get("credential_configuration_id")
    granted = {item["id"]: item["ref"] for item in row.offer.config_ids}
    if config_id not in CREDENTIAL_TYPES or config_id not in granted:
        raise OAuthError("unknown_credential_configuration", "credential_configuration_id not offered")
    if row.credentials_issued >= 1:
        raise OAuthError("invalid_token", "this access token was already used", status=401)
    proofs = body.get("proofs") if isinstance(body.get("proofs"), dict) else None
    if proofs is not None:
        jwts = proofs.get("jwt")
        proof_jwt = jwts[0] if isinstance(jwts, list) and len(jwts) == 1 else None
    else:
        proof = body.get("proof") or {}
        proof_jwt = proof.get("jwt") if isinstance(proof, dict) and proof.get("proof_type") == "jwt" else None
    if not isinstance(proof_jwt, str):
        raise OAuthError("invalid_proof", "one jwt proof is required")
    holder_jwk = _proof_key(proof_jwt, audience=credential_issuer(base))
    account = row.offer.account
    try:
        token_text, _record = issue_credential(ctx=wallet_context(account, channel="oid4vci"), person=account.person,
                                               config_id=config_id, document_ref=granted[config_id],
                                               holder_jwk=holder_jwk, base=base, channel="oid4vci")
    except DocumentUnavailable as exc:
        raise OAuthError("credential_request_denied", str(exc.detail or exc.title)) from exc
    row.credentials_issued += 1
    row.save(update_fields=["credentials_issued"])
    return {"credentials": [{"credential": token_text}]}
