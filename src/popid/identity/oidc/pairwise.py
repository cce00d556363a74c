"""Pairwise subject identifiers (OIDC Core §8.1): each relying-party *sector* sees a different,
stable ``sub`` for the same citizen, so two services cannot join their records on it.

sub = base64url(HMAC-SHA256(secret, sector || 0x1f || person primary key)), 43 characters.

Why the person's primary key and not the ID number: a number can be cancelled and reissued
(registry.CancelledIdNumber) and the citizen must keep the same subject at every service.
The secret comes from POPID_PAIRWISE_SECRET or a file created once in DATA_DIR/keys; losing it
changes every subject, so it is backed up with the signing keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings

from popid.core.errors import ValidationFailed


@cache
def _secret_for(data_dir: str) -> bytes:
    if env := os.environ.get("POPID_PAIRWISE_SECRET"):
        return env.encode()
    from popid.core.keys import keys_dir

    path = keys_dir() / "pairwise_secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def pairwise_secret() -> bytes:
    return _secret_for(str(settings.DATA_DIR))


def sector_of(*, sector_identifier: str, redirect_uris: list[str]) -> str:
    """The client's sector: its registered sector identifier host, else the one host all its
    redirect URIs share (OIDC Core §8.1 requires a sector identifier when they differ)."""
    if sector_identifier:
        return sector_identifier.lower()
    hosts = {(urlsplit(uri).hostname or "").lower() for uri in redirect_uris}
    if len(hosts) != 1 or "" in hosts:
        raise ValidationFailed([{"field": "sector_identifier", "reason": "required",
                                 "message": "redirect URIs on several hosts need a sector identifier"}])
    return hosts.pop()


def pairwise_sub(*, sector: str, person_pk: int) -> str:
    digest = hmac.new(pairwise_secret(), f"{sector}\x1f{person_pk}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
