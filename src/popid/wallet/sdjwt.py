"""SD-JWT (RFC 9901) on joserfc: issue, present with key binding, verify with precise reasons.

Why hand-written: the OpenWallet Foundation ``sd-jwt`` package (0.10.x, the interop reference used
in the tests) is pre-RFC, unreleased since 2024 and built on jwcrypto, and no maintained
RFC 9901 library exists on PyPI; JOSE itself (signatures, keys) stays in joserfc. Only what PopID
needs is here: flat objects whose top-level claims are selectively disclosable, SHA-256 digests,
ES256 signatures, a mandatory Key Binding JWT on presentations.

Verification raises ``Refused`` with a stable ``reason`` code for every failure, in a fixed
order: size and syntax, issuer signature, key binding signature and ``sd_hash``, disclosures,
expiry, then the caller's checks (status, nonce, age of the presentation).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

SD_ALG = "sha-256"
SD_JWT_TYP = "dc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
ALGORITHMS = ("ES256",)
MAX_PRESENTATION_BYTES = 8192  # a QR code holds at most 2,953 bytes; anything far larger is an attack
MAX_DISCLOSURES = 64
CLOCK_SKEW = 5


class Refused(Exception):
    """A presentation or credential that must not be accepted; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def digest(text: str) -> str:
    """The digest of a disclosure or of a presentation (RFC 9901 §4.2.3, §4.3.1)."""
    return b64encode(hashlib.sha256(text.encode("ascii")).digest())


def make_disclosure(name: str, value: Any, salt: str | None = None) -> str:
    salt = salt or b64encode(secrets.token_bytes(16))
    return b64encode(json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _json_part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64decode(text))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused("malformed", f"{what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise Refused("malformed", f"{what} is not a JSON object")
    return value


# --- issuing ------------------------------------------------------------------------------------
def issue(*, claims: dict[str, Any], disclosable: dict[str, Any], issuer_key: ECKey, kid: str,
          holder_jwk: dict[str, Any] | None, decoys: int = 2) -> str:
    """``claims`` stay visible (iss, vct, iat, exp, status…); every ``disclosable`` claim becomes a
    disclosure. Decoy digests hide how many claims the credential has. Returns ``<jwt>~<d1>~…~``."""
    disclosures = [make_disclosure(name, value) for name, value in disclosable.items()]
    digests = [digest(d) for d in disclosures] + [digest(b64encode(secrets.token_bytes(16))) for _ in range(decoys)]
    payload = {**claims, "_sd": sorted(digests), "_sd_alg": SD_ALG}
    if holder_jwk is not None:
        payload["cnf"] = {"jwk": holder_jwk}
    token = jws.serialize_compact({"alg": "ES256", "typ": SD_JWT_TYP, "kid": kid},
                                  json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
                                  issuer_key, algorithms=list(ALGORITHMS))
    return "~".join([token, *disclosures, ""])


# --- presenting ---------------------------------------------------------------------------------
@dataclass
class Parsed:
    """An SD-JWT split into its parts, nothing verified yet."""

    jwt: str
    disclosures: list[str]
    kb_jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]

    def disclosed(self) -> dict[str, tuple[str, Any]]:
        """claim name -> (disclosure, value), unverified (the holder's view of its credential)."""
        out = {}
        for d in self.disclosures:
            item = json.loads(b64decode(d))
            out[item[1]] = (d, item[2])
        return out


def parse(text: str) -> Parsed:
    if not isinstance(text, str):
        raise Refused("malformed", "not text")
    text = text.strip()
    if len(text) > MAX_PRESENTATION_BYTES:
        raise Refused("oversized", f"{len(text)} bytes > {MAX_PRESENTATION_BYTES}")
    if not text.isascii() or "~" not in text:
        raise Refused("malformed", "not an SD-JWT (compact serialisation with ~ separators)")
    parts = text.split("~")
    jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    if len(disclosures) > MAX_DISCLOSURES:
        raise Refused("oversized", "too many disclosures")
    if jwt.count(".") != 2 or (kb_jwt and kb_jwt.count(".") != 2):
        raise Refused("malformed", "a JWT must have three parts")
    head, body, _sig = jwt.split(".")
    return Parsed(jwt=jwt, disclosures=disclosures, kb_jwt=kb_jwt, header=_json_part(head, "JWT header"),
                  payload=_json_part(body, "JWT payload"))


def select(sd_jwt: str, *, claims: list[str]) -> str:
    """The issuer JWT with only the disclosures of ``claims``: ``<jwt>~<d1>~…~`` (what the KB-JWT signs)."""
    parsed = parse(sd_jwt)
    available = parsed.disclosed()
    missing = [c for c in claims if c not in available]
    if missing:
        raise Refused("unknown_claim", ", ".join(missing))
    return "~".join([parsed.jwt, *(available[c][0] for c in claims), ""])


def kb_signing_input(prefix: str, *, nonce: str, aud: str, iat: int | None = None) -> str:
    """``b64(header).b64(payload)`` of the Key Binding JWT for ``prefix``; whoever holds the key signs it."""
    header = {"alg": "ES256", "typ": KB_JWT_TYP}
    payload = {"iat": int(time.time()) if iat is None else iat, "aud": aud, "nonce": nonce,
               "sd_hash": digest(prefix)}
    return f"{b64encode(json.dumps(header).encode())}.{b64encode(json.dumps(payload).encode())}"


def present(sd_jwt: str, *, claims: list[str], holder_key: ECKey, nonce: str, aud: str,
            iat: int | None = None) -> str:
    """Keep the disclosures of ``claims`` only and append a Key Binding JWT over the result."""
    prefix = select(sd_jwt, claims=claims)
    kb_payload = {"iat": int(time.time()) if iat is None else iat, "aud": aud, "nonce": nonce,
                  "sd_hash": digest(prefix)}
    kb = jws.serialize_compact({"alg": "ES256", "typ": KB_JWT_TYP}, json.dumps(kb_payload).encode(), holder_key,
                               algorithms=list(ALGORITHMS))
    return prefix + kb


# --- verifying ----------------------------------------------------------------------------------
@dataclass
class Verified:
    issuer: str
    kid: str
    payload: dict[str, Any]  # the issuer-signed payload (with _sd digests)
    disclosed: dict[str, Any]  # exactly the claims the holder disclosed
    key_binding: dict[str, Any]  # the KB-JWT payload (nonce, aud, iat, sd_hash)
    visible: dict[str, Any] = field(default_factory=dict)  # always-visible claims (vct, iat, exp…)


_key_cache: dict[str, ECKey] = {}


def import_key(jwk: dict[str, Any]) -> ECKey:
    """Imported public keys are cached by their JSON (importing costs as much as a verification)."""
    cache_key = json.dumps(jwk, sort_keys=True)
    key = _key_cache.get(cache_key)
    if key is None:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
            raise Refused("bad_holder_key", "holder key must be a public P-256 key")
        try:
            key = ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
        except (JoseError, KeyError, ValueError) as exc:
            raise Refused("bad_holder_key", str(exc)) from exc
        if len(_key_cache) > 10000:
            _key_cache.clear()
        _key_cache[cache_key] = key
    return key


def _check_alg(header: dict[str, Any], what: str) -> None:
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none":
        raise Refused("alg_none", f"{what}: unsigned (alg none) is never accepted")
    if alg not in ALGORITHMS:
        raise Refused("unsupported_alg", f"{what}: {alg}")


def _verify_jws(token: str, key: ECKey, reason: str) -> None:
    try:
        jws.deserialize_compact(token, key, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise Refused(reason, type(exc).__name__) from exc


def verify(text: str, *, issuer_key: Callable[[str, str], ECKey | None], audience: str | None,
           now: int | None = None, accepted_typs: tuple[str, ...] = (SD_JWT_TYP,),
           require_key_binding: bool = True) -> Verified:
    """Check everything the presentation itself proves. ``issuer_key(iss, kid)`` returns the
    trusted key or None (unknown issuer or key). Nonce freshness and status are the caller's."""
    now = int(time.time()) if now is None else now
    parsed = parse(text)
    header, payload = parsed.header, parsed.payload
    _check_alg(header, "issuer JWT")
    if header.get("typ") not in accepted_typs:
        raise Refused("wrong_type", f"typ {header.get('typ')!r}")
    iss, kid = payload.get("iss"), header.get("kid")
    if not isinstance(iss, str) or not isinstance(kid, str):
        raise Refused("unknown_issuer_key", "no iss or kid")
    key = issuer_key(iss, kid)
    if key is None:
        raise Refused("unknown_issuer_key", f"{iss} kid {kid}")
    _verify_jws(parsed.jwt, key, "bad_signature")

    # key binding: signed by the holder key in cnf, over exactly this presentation
    kb: dict[str, Any] = {}
    if parsed.kb_jwt:
        cnf = payload.get("cnf")
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
            raise Refused("missing_key_binding", "credential has no holder key (cnf)")
        kb_head, kb_body, _ = parsed.kb_jwt.split(".")
        kb_header = _json_part(kb_head, "KB-JWT header")
        _check_alg(kb_header, "KB-JWT")
        if kb_header.get("typ") != KB_JWT_TYP:
            raise Refused("wrong_type", f"KB-JWT typ {kb_header.get('typ')!r}")
        _verify_jws(parsed.kb_jwt, import_key(cnf["jwk"]), "bad_key_binding_signature")
        kb = _json_part(kb_body, "KB-JWT payload")
        prefix = text.strip()[: -len(parsed.kb_jwt)]
        if kb.get("sd_hash") != digest(prefix):
            raise Refused("sd_hash_mismatch", "the presentation was changed after the holder signed it")
        if audience is not None and kb.get("aud") != audience:
            raise Refused("wrong_audience", f"aud {kb.get('aud')!r}")
        if not isinstance(kb.get("iat"), int) or not isinstance(kb.get("nonce"), str):
            raise Refused("malformed", "KB-JWT needs iat and nonce")
    elif require_key_binding:
        raise Refused("missing_key_binding", "no Key Binding JWT")

    # disclosures: each referenced exactly once by a digest in the signed payload
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise Refused("unsupported_alg", f"_sd_alg {payload.get('_sd_alg')}")
    digests = payload.get("_sd", [])
    if not isinstance(digests, list):
        raise Refused("malformed", "_sd is not a list")
    known = set(digests)
    disclosed: dict[str, Any] = {}
    seen: set[str] = set()
    for item in parsed.disclosures:
        try:
            decoded = json.loads(b64decode(item))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Refused("malformed_disclosure", "a disclosure is not base64url JSON") from exc
        if not (isinstance(decoded, list) and len(decoded) == 3 and isinstance(decoded[1], str)):
            raise Refused("malformed_disclosure", "a disclosure must be [salt, name, value]")
        name = decoded[1]
        value_digest = digest(item)
        if value_digest in seen:
            raise Refused("duplicate_disclosure", name)
        seen.add(value_digest)
        if value_digest not in known:
            raise Refused("disclosure_mismatch",
                          f"{name!r} is not part of this credential (changed or taken from another credential)")
        if name in {"_sd", "...", "_sd_alg"} or name in payload or name in disclosed:
            raise Refused("malformed_disclosure", f"claim name {name!r} not allowed")
        disclosed[name] = decoded[2]

    exp = payload.get("exp")
    if isinstance(exp, (int, float)) and exp < now - CLOCK_SKEW:
        raise Refused("credential_expired", f"exp {exp}")
    nbf = payload.get("nbf")
    if isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW:
        raise Refused("credential_not_yet_valid", f"nbf {nbf}")
    visible = {k: v for k, v in payload.items() if k not in {"_sd", "_sd_alg", "cnf"}}
    return Verified(issuer=iss, kid=kid, payload=payload, disclosed=disclosed, key_binding=kb, visible=visible)
