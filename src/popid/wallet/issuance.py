"""Issuing an SD-JWT VC: one code path for the built-in web wallet and for OpenID4VCI.

The credential's visible claims are ``iss`` (the authority), ``vct``, ``iat``, ``exp``, ``status``
(its slot in the issuer's status list) and ``cnf`` (the holder's public key); everything about
the person or the document is a disclosure.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.core.access import AccessContext
from popid.registry.models import Person
from popid.wallet import claims, sdjwt, status
from popid.wallet.errors import DocumentUnavailable
from popid.wallet.issuers import CREDENTIAL_TYPES, ISSUERS
from popid.wallet.models import IssuedCredential


def holder_thumbprint(jwk: dict[str, Any]) -> str:
    return sdjwt.import_key(jwk).thumbprint()


def public_holder_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """Only the public members of a P-256 key; anything else is refused."""
    try:
        sdjwt.import_key(jwk)
    except sdjwt.Refused as exc:
        raise DocumentUnavailable(exc.detail, field="proof") from exc
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def _expiry(config_id: str, valid_until: Any) -> datetime:
    limit = timezone.now() + timedelta(days=CREDENTIAL_TYPES[config_id].lifetime_days)
    if valid_until is not None:
        end_of_validity = timezone.make_aware(datetime.combine(valid_until, datetime.max.time()))
        limit = min(limit, end_of_validity)
    return limit


def issue_credential(*, ctx: AccessContext, person: Person, config_id: str, document_ref: str,
                     holder_jwk: dict[str, Any], base: str, channel: str) -> tuple[str, IssuedCredential]:
    """Build the claims (access recorded), reserve a status slot, sign with the authority's key."""
    if config_id not in CREDENTIAL_TYPES:
        raise DocumentUnavailable(field="credential_configuration_id")
    ctype = CREDENTIAL_TYPES[config_id]
    issuer = ISSUERS[ctype.issuer]
    jwk = public_holder_jwk(holder_jwk)
    data = claims.build(ctx=ctx, person=person, config_id=config_id, document_ref=document_ref)
    expires_at = _expiry(config_id, data.valid_until)
    if expires_at <= timezone.now():
        raise DocumentUnavailable(field="document")
    for _attempt in range(5):
        list_id, idx = status.allocate_index(issuer.slug)
        try:
            with transaction.atomic():
                record = IssuedCredential.objects.create(
                    issuer=issuer.slug, config_id=config_id, document_ref=data.document_ref,
                    person_id_number=person.id_number, list_id=list_id, status_idx=idx,
                    holder_thumbprint=holder_thumbprint(jwk), channel=channel, expires_at=expires_at)
            break
        except IntegrityError:  # two issuances drew the same slot: draw again
            continue
    else:  # pragma: no cover
        raise RuntimeError("no free status slot")
    key = issuer.signing_key()
    now = int(time.time())
    visible = {"iss": issuer.iss(base), "vct": ctype.vct, "iat": now, "exp": int(expires_at.timestamp()),
               "status": {"status_list": {"idx": idx, "uri": issuer.status_uri(base, list_id)}}}
    if not isinstance(key.key, ECKey):  # issuers sign ES256 (wallet.issuers.ALG)
        raise RuntimeError(f"keyset {issuer.keyset} holds no EC key")
    token = sdjwt.issue(claims=visible, disclosable=data.disclosable, issuer_key=key.key, kid=key.kid,
                        holder_jwk=jwk)
    return token, record
