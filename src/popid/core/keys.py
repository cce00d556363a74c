"""Signing-key store: JSON JWK files under DATA_DIR/keys (mode 600), rotated and published as JWKS.

Why a store of its own: relying parties cache our JWKS, so a key must be published *before*
it signs anything and *after* it stopped signing, until every token it signed has expired.
Each algorithm therefore keeps three kinds of keys:

- ``current``: signs new tokens;
- ``next``: already published, becomes current at the next rotation (RPs have it cached);
- ``retired``: no longer signs, still published for ``RETIRED_PUBLISH_SECONDS`` so tokens
  signed shortly before the rotation still verify; pruned afterwards.

Keys live in named *keysets*: ``oidc`` (the default: ID tokens, published at /oidc/jwks) and one
per other signer (e.g. the access ledger's Ed25519 checkpoint key, each credential issuer's
ES256 key), so rotating one signer never touches another's published keys.

Files are the embedded default; a PKCS#11/HSM store would implement the same four functions.
Several web workers share the directory: writes take an exclusive ``flock`` and readers
re-read when the directory listing changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from joserfc.jwk import ECKey, KeyParameters, OKPKey, RSAKey

from popid.core.errors import DomainError

SUPPORTED_ALGS = ("ES256", "RS256", "EdDSA")
OIDC_ALGS = ("ES256", "RS256")  # what the OIDC provider publishes and signs with
DEFAULT_ALG = "ES256"
DEFAULT_KEYSET = "oidc"
RETIRED_PUBLISH_SECONDS = int(os.environ.get("POPID_RETIRED_KEY_SECONDS", str(7 * 24 * 3600)))

SigningKey = ECKey | RSAKey | OKPKey


class UnsupportedAlgorithm(DomainError):
    code = "unsupported_algorithm"
    status = 400


@dataclass(frozen=True)
class StoredKey:
    kid: str
    alg: str
    status: str  # current | next | retired
    created: int
    retired_at: int | None
    key: SigningKey

    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": self.alg, "use": "sig"}


def keys_dir(keyset: str = DEFAULT_KEYSET) -> Path:
    """``DATA_DIR/keys`` for the OIDC keyset (the original layout), ``DATA_DIR/keys/<keyset>``
    for every other signer."""
    if not keyset.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"invalid keyset name {keyset!r}")
    path = Path(settings.DATA_DIR) / "keys"
    if keyset != DEFAULT_KEYSET:
        path = path / keyset
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@contextmanager
def _locked(keyset: str = DEFAULT_KEYSET) -> Iterator[Path]:
    """Exclusive lock across processes so two workers never rotate or bootstrap at once."""
    directory = keys_dir(keyset)
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _generate(alg: str) -> SigningKey:
    kid = f"{alg.lower()}-{time.strftime('%Y%m%d')}-{secrets.token_hex(4)}"
    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", parameters=params, private=True)
    raise UnsupportedAlgorithm(f"unsupported signing algorithm {alg}")


def _write(directory: Path, key: SigningKey, *, alg: str, status: str, created: int | None = None,
           retired_at: int | None = None) -> None:
    data = {**key.as_dict(private=True), "kid": key.kid, "alg": alg, "use": "sig", "status": status,
            "created": created or int(time.time()), "retired_at": retired_at}
    path = directory / f"{key.kid}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)  # atomic: readers never see half a key


def _load(path: Path) -> StoredKey:
    data = json.loads(path.read_text())
    alg = data["alg"]
    meta = {k: data.pop(k) for k in ("status", "created", "retired_at") if k in data}
    importers: dict[str, type[ECKey] | type[RSAKey] | type[OKPKey]] = {"EC": ECKey, "RSA": RSAKey, "OKP": OKPKey}
    importer = importers[data["kty"]]
    key: SigningKey = importer.import_key(data)
    return StoredKey(kid=data["kid"], alg=alg, status=meta.get("status", "retired"),
                     created=int(meta.get("created", 0)), retired_at=meta.get("retired_at"), key=key)


_cache: dict[Path, tuple[Any, list[StoredKey]]] = {}


def _stamp(directory: Path) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.json")))


def all_keys(keyset: str = DEFAULT_KEYSET) -> list[StoredKey]:
    """Every stored key of a keyset, newest first; re-read only when a file changed."""
    directory = keys_dir(keyset)
    stamp = _stamp(directory)
    cached = _cache.get(directory)
    if cached is None or cached[0] != stamp:
        keys = [_load(path) for path in directory.glob("*.json")]
        keys.sort(key=lambda k: (k.created, k.kid), reverse=True)
        cached = _cache[directory] = (stamp, keys)
    return list(cached[1])


def _ensure(alg: str, keyset: str = DEFAULT_KEYSET) -> None:
    """First use: create a current and a next key for this algorithm."""
    if alg not in SUPPORTED_ALGS:
        raise UnsupportedAlgorithm(f"unsupported signing algorithm {alg}")
    if any(k.alg == alg and k.status == "current" for k in all_keys(keyset)):
        return
    with _locked(keyset) as directory:
        if any(_load(p).alg == alg and _load(p).status == "current" for p in directory.glob("*.json")):
            return
        now = int(time.time())
        _write(directory, _generate(alg), alg=alg, status="current", created=now)
        _write(directory, _generate(alg), alg=alg, status="next", created=now + 1)


def current_signing_key(alg: str = DEFAULT_ALG, keyset: str = DEFAULT_KEYSET) -> StoredKey:
    _ensure(alg, keyset)
    for key in all_keys(keyset):
        if key.alg == alg and key.status == "current":
            return key
    raise RuntimeError(f"no current {alg} key")  # pragma: no cover - _ensure created one


def public_jwks(keyset: str = DEFAULT_KEYSET, algs: tuple[str, ...] | None = None) -> dict[str, list[dict[str, Any]]]:
    """What a keyset publishes (/oidc/jwks for ``oidc``): current and next keys of every
    algorithm, and retired keys still inside their publication window. ``algs`` are
    bootstrapped first (default: the OIDC algorithms for ``oidc``, none for other keysets)."""
    for alg in algs if algs is not None else (OIDC_ALGS if keyset == DEFAULT_KEYSET else ()):
        _ensure(alg, keyset)
    now = time.time()
    published = [k for k in all_keys(keyset)
                 if k.status in {"current", "next"}
                 or (k.retired_at is not None and now - k.retired_at < RETIRED_PUBLISH_SECONDS)]
    return {"keys": [k.public_jwk() for k in published]}


def rotate(alg: str = DEFAULT_ALG, keyset: str = DEFAULT_KEYSET) -> StoredKey:
    """current → retired, next → current, a fresh next. Returns the new current key.

    The new current key has been published as ``next`` since the previous rotation, so RPs
    that cached the JWKS already know it; the retired key stays published for the window."""
    _ensure(alg, keyset)
    with _locked(keyset) as directory:
        now = int(time.time())
        stored = [_load(p) for p in directory.glob("*.json")]
        new_current = None
        for key in stored:
            if key.alg != alg:
                continue
            if key.status == "current":
                _write(directory, key.key, alg=alg, status="retired", created=key.created, retired_at=now)
            elif key.status == "next":
                _write(directory, key.key, alg=alg, status="current", created=key.created)
                new_current = key.kid
        _write(directory, _generate(alg), alg=alg, status="next", created=now + 1)
    return next(k for k in all_keys(keyset) if k.kid == new_current)


def prune(keyset: str = DEFAULT_KEYSET) -> list[str]:
    """Delete retired keys whose publication window has passed; returns their kids."""
    removed = []
    with _locked(keyset) as directory:
        now = time.time()
        for path in directory.glob("*.json"):
            key = _load(path)
            if key.status == "retired" and (key.retired_at or 0) + RETIRED_PUBLISH_SECONDS <= now:
                path.unlink()
                removed.append(key.kid)
    return removed


def verification_key(kid: str, keyset: str = DEFAULT_KEYSET) -> StoredKey | None:
    """A published key by kid (used to check our own ID tokens, e.g. id_token_hint)."""
    return next((k for k in all_keys(keyset) if k.kid == kid), None)
