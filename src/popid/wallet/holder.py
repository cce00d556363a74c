"""The built-in web wallet's holder keys: one P-256 key per citizen account, generated and kept
on the server, its private part encrypted (AES-GCM, key derived from the server secret with
HKDF). Why server-side: the web wallet must work in any browser session after the level-2 login,
including a new device, and the key never leaves PopID; a browser-held WebCrypto key (better:
not even the operator can present) is the documented next step (docs/wallet.md). External
wallets (OpenID4VCI) hold their own keys."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from joserfc.jwk import ECKey

from popid.identity.models import CitizenAccount
from popid.wallet.models import HolderKey
from popid.wallet.sdjwt import b64decode, b64encode


def _aead() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"popid-wallet-holder-key",
               info=b"popid.wallet.holder.v1").derive(settings.SECRET_KEY.encode())
    return AESGCM(key)


def _encrypt(data: dict[str, Any], aad: bytes) -> str:
    nonce = os.urandom(12)
    return b64encode(nonce + _aead().encrypt(nonce, json.dumps(data).encode(), aad))


def _decrypt(text: str, aad: bytes) -> dict[str, Any]:
    raw = b64decode(text)
    data: dict[str, Any] = json.loads(_aead().decrypt(raw[:12], raw[12:], aad))
    return data


@transaction.atomic
def holder_key(account: CitizenAccount) -> tuple[HolderKey, ECKey]:
    """The account's active holder key, created on first use."""
    row = HolderKey.objects.select_for_update().filter(account=account, is_active=True).first()
    if row is None:
        key = ECKey.generate_key("P-256", private=True)
        thumbprint = key.thumbprint()
        public = {k: v for k, v in key.as_dict(private=False).items() if k in {"kty", "crv", "x", "y"}}
        row = HolderKey.objects.create(account=account, thumbprint=thumbprint, public_jwk=public,
                                       private_encrypted=_encrypt(key.as_dict(private=True), thumbprint.encode()))
        return row, key
    return row, ECKey.import_key(_decrypt(row.private_encrypted, row.thumbprint.encode()))
