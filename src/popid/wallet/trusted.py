"""Trusted credential issuers beyond PopID's three authorities, and their keys.

``POPID_TRUSTED_VC_ISSUERS`` (a Django setting, or the environment variable of that name: issuer
identifiers separated by spaces or commas) lists the external issuers whose SD-JWT VCs the
verifier accepts. An ``iss`` that is neither one of PopID's authorities under this installation's
base nor on that list is refused as ``untrusted_issuer`` before anything is fetched, so a
presentation can never make the verifier contact an address of its choosing.

Keys are found the way SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §5) defines: the JWT VC Issuer
Metadata at ``https://<host>/.well-known/jwt-vc-issuer<path of iss>``, whose ``issuer`` must equal
``iss`` exactly, with either ``jwks`` inline or a ``jwks_uri``. Metadata and JWKS are fetched with
short timeouts, without following redirects, at most ``MAX_RESPONSE_BYTES``, and kept in the Django
cache (shared by the web workers) for the response's ``max-age`` within [1 min, 24 h]; a failure is
remembered for ``FAILURE_TTL`` seconds so that an unreachable issuer does not slow every
verification. An unknown ``kid`` refetches once per ``REFETCH_INTERVAL`` (key rotation).

Identifiers must be ``https`` URLs without query or fragment; ``http`` is allowed only for
loopback hosts (development and tests).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from popid.wallet.sdjwt import Refused

SETTING = "POPID_TRUSTED_VC_ISSUERS"
TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 256 * 1024
MIN_TTL, DEFAULT_TTL, MAX_TTL = 60, 3600, 24 * 3600
FAILURE_TTL = 30
REFETCH_INTERVAL = 60
CACHE_PREFIX = "popid:wallet:trusted-issuer:"
STATUS_CACHE_PREFIX = "popid:wallet:external-status:"


def is_allowed_url(url: str) -> bool:
    """https without query or fragment; http only on a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.query or parts.fragment or not host or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_entries() -> list[str]:
    """The raw configured identifiers (setting first, then the environment variable)."""
    value = getattr(settings, SETTING, None)
    if value is None:
        value = os.environ.get(SETTING, "")
    if isinstance(value, str):
        return [item for item in re.split(r"[\s,]+", value) if item]
    return [str(item) for item in value]


def trusted_issuers() -> tuple[str, ...]:
    """The usable configured identifiers (invalid ones are reported by ``check_configuration``)."""
    return tuple(dict.fromkeys(item for item in configured_entries() if is_allowed_url(item)))


def check_configuration() -> list[str]:
    """Problems with the configured list, for the Django system check."""
    return [item for item in configured_entries() if not is_allowed_url(item)]


def is_trusted(iss: str) -> bool:
    return iss in trusted_issuers()


def metadata_url(iss: str) -> str:
    """``/.well-known/jwt-vc-issuer`` inserted between the host and the path of ``iss``."""
    parts = urlsplit(iss)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path.rstrip('/')}"


def display_name(iss: str) -> str:
    return urlsplit(iss).netloc


def _max_age(headers: Any) -> int:
    match = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    seconds = int(match.group(1)) if match else DEFAULT_TTL
    return max(MIN_TTL, min(MAX_TTL, seconds))


def _get(url: str, *, accept: str, client: Any = None) -> tuple[bytes, int]:
    """GET with a timeout, no redirect, a size cap; raises ``OSError`` for anything but a 200."""
    import httpx

    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        with http.stream("GET", url, headers={"Accept": accept}) as response:
            if response.status_code != 200:
                raise OSError(f"HTTP {response.status_code} from {url}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise OSError(f"response from {url} larger than {MAX_RESPONSE_BYTES} bytes")
            return bytes(body), _max_age(response.headers)
    except httpx.HTTPError as exc:
        raise OSError(f"{type(exc).__name__} for {url}") from exc
    finally:
        if client is None:
            http.close()


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused("issuer_metadata_invalid", f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise Refused("issuer_metadata_invalid", f"{what} is not a JSON object")
    return value


def _usable_keys(jwks: Any) -> list[dict[str, Any]]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise Refused("issuer_metadata_invalid", "jwks has no keys array")
    return [{k: jwk[k] for k in ("kty", "crv", "x", "y", "kid") if k in jwk}
            for jwk in jwks["keys"]
            if isinstance(jwk, dict) and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256" and "d" not in jwk
            and isinstance(jwk.get("x"), str) and isinstance(jwk.get("y"), str)
            and jwk.get("use", "sig") == "sig" and jwk.get("alg", "ES256") == "ES256"]


def discover(iss: str, *, client: Any = None) -> tuple[dict[str, Any], int]:
    """Fetch ``iss``'s metadata (and its ``jwks_uri``): ({"issuer", "jwks": {"keys": [...]}}, ttl)."""
    try:
        body, ttl = _get(metadata_url(iss), accept="application/json", client=client)
    except OSError as exc:
        raise Refused("issuer_metadata_unavailable", str(exc)) from exc
    meta = _json(body, "issuer metadata")
    if meta.get("issuer") != iss:
        raise Refused("issuer_metadata_invalid", f"metadata names issuer {meta.get('issuer')!r}")
    if ("jwks" in meta) == ("jwks_uri" in meta):
        raise Refused("issuer_metadata_invalid", "metadata must have exactly one of jwks and jwks_uri")
    jwks = meta.get("jwks")
    if "jwks_uri" in meta:
        uri = meta["jwks_uri"]
        if not isinstance(uri, str) or not is_allowed_url(uri):
            raise Refused("issuer_metadata_invalid", "jwks_uri must be an https URL")
        try:
            body, jwks_ttl = _get(uri, accept="application/jwk-set+json, application/json", client=client)
        except OSError as exc:
            raise Refused("issuer_metadata_unavailable", str(exc)) from exc
        jwks, ttl = _json(body, "JWKS"), min(ttl, jwks_ttl)
    return {"issuer": iss, "jwks": {"keys": _usable_keys(jwks)}}, ttl


def _cache_key(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:40]


def issuer_jwks(iss: str, *, refresh: bool = False) -> dict[str, Any]:
    """The trusted issuer's JWKS from the cache, fetched when missing (or ``refresh``)."""
    key = _cache_key(CACHE_PREFIX, iss)
    entry = cache.get(key)
    now = int(time.time())
    if entry is not None and not (refresh and now - entry.get("fetched_at", 0) >= REFETCH_INTERVAL):
        if "error" in entry:
            raise Refused(entry["error"], entry.get("detail", ""))
        cached: dict[str, Any] = entry["jwks"]
        return cached
    try:
        meta, ttl = discover(iss)
    except Refused as refused:
        cache.set(key, {"error": refused.reason, "detail": refused.detail, "fetched_at": now}, FAILURE_TTL)
        raise
    jwks: dict[str, Any] = meta["jwks"]
    cache.set(key, {"jwks": jwks, "fetched_at": now}, ttl)
    return jwks


def select_key(jwks: dict[str, Any], kid: str | None) -> dict[str, Any] | None:
    """The key named by ``kid``; without a kid, the issuer's only key (several: ambiguous, None)."""
    keys = jwks.get("keys", [])
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((jwk for jwk in keys if jwk.get("kid") == kid), None)


def external_key(iss: str, kid: str | None) -> dict[str, Any] | None:
    """The public JWK of a trusted external issuer, refetching once on an unknown kid (rotation)."""
    if not is_trusted(iss):
        raise Refused("untrusted_issuer", f"{iss} is not a trusted issuer")
    jwk = select_key(issuer_jwks(iss), kid)
    if jwk is None:
        jwk = select_key(issuer_jwks(iss, refresh=True), kid)
    return jwk


def status_list_token(uri: str, *, client: Any = None) -> str:
    """A trusted external issuer's status list token, cached for its ``ttl`` (30 s to 1 h)."""
    if not is_allowed_url(uri):
        raise Refused("status_unavailable", "status list uri must be an https URL")
    key = _cache_key(STATUS_CACHE_PREFIX, uri)
    token: str | None = cache.get(key)
    if token is not None:
        return token
    try:
        body, _ttl = _get(uri, accept="application/statuslist+jwt", client=client)
        token = body.decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused("status_unavailable", f"status list {uri}: {exc}") from exc
    ttl = 300
    try:
        from popid.wallet.sdjwt import b64decode

        claimed = json.loads(b64decode(token.split(".")[1])).get("ttl")
        if isinstance(claimed, int):
            ttl = claimed
    except (ValueError, IndexError, AttributeError):
        pass  # the token is verified (and refused if malformed) by the caller
    cache.set(key, token, max(30, min(3600, ttl)))
    return token
