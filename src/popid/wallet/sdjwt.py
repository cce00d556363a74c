"""SD-JWT (RFC 9901) on joserfc: issue, present with key binding, verify with precise reasons.

Why hand-written: the OpenWallet Foundation ``sd-jwt`` package (0.10.x, the interop reference used
in the tests) is pre-RFC, unreleased since 2024 and built on jwcrypto, and no maintained
RFC 9901 library exists on PyPI; JOSE itself (signatures, keys) stays in joserfc.

PopID *issues* flat credentials (every top-level claim about the person is a disclosure, plus
decoys). The *verifier* implements the whole processing algorithm of RFC 9901 §7.1 so that any
trusted issuer's credentials are processed completely: object-property disclosures (§4.2.1) and
array-element disclosures (§4.2.2) at any depth, disclosures inside disclosed values (recursive),
decoy digests, each digest at most once, each disclosure referenced exactly once, ``_sd_alg``
(sha-256, sha-384, sha-512), and an output with every ``_sd``, ``_sd_alg`` and unresolved
``{"...": digest}`` removed. Signatures are ES256; a Key Binding JWT is mandatory on presentations.

Verification raises ``Refused`` with a stable ``reason`` code for every failure, in a fixed
order: size and syntax, issuer trust and signature, key binding signature and ``sd_hash``,
disclosures, expiry, then the caller's checks (type, status, nonce, age of the presentation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

SD_ALG = "sha-256"
SD_JWT_TYP = "dc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
# SD-JWT VC media type; ``vc+sd-jwt`` is the name before draft -06, which verifiers should still accept
ACCEPTED_TYPS = (SD_JWT_TYP, "vc+sd-jwt")
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


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def b64decode(text: str) -> bytes:
    """base64url without padding, as ``base64.urlsafe_b64decode`` reads it but in one call into
    binascii (verification decodes every part of a presentation: issue #18)."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    return binascii.a2b_base64(text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4))


HASH_ALGS = {"sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512}
MAX_DEPTH = 32  # nesting of objects/arrays in the payload and disclosures; deeper is an attack


def digest(text: str, alg: str = SD_ALG) -> str:
    """The digest of a disclosure or of a presentation (RFC 9901 §4.2.3, §4.3.1) with ``_sd_alg``."""
    return b64encode(HASH_ALGS[alg](text.encode("ascii")).digest())


def make_disclosure(name: str, value: Any, salt: str | None = None) -> str:
    salt = salt or b64encode(secrets.token_bytes(16))
    return b64encode(json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _json_part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64decode(text).decode("utf-8"))  # JOSE is UTF-8 (RFC 7515 §5.1)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
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
            if isinstance(item, list) and len(item) == 3 and isinstance(item[1], str):
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
# Claims about the credential itself (SD-JWT VC §3.2.2.2): never selectively disclosable, and not
# part of ``Verified.disclosed`` (which holds what the credential says about its subject).
CREDENTIAL_CLAIMS = frozenset({"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
NOT_DISCLOSABLE = CREDENTIAL_CLAIMS - {"iat"}
FORBIDDEN_NAMES = frozenset({"_sd", "...", "_sd_alg"})


@dataclass
class Verified:
    issuer: str
    kid: str
    payload: dict[str, Any]  # the issuer-signed payload as signed (with _sd digests)
    claims: dict[str, Any]  # RFC 9901 §7.1 output: disclosures embedded, _sd/_sd_alg/undisclosed removed
    disclosed: dict[str, Any]  # claims about the subject: ``claims`` without CREDENTIAL_CLAIMS
    key_binding: dict[str, Any]  # the KB-JWT payload (nonce, aud, iat, sd_hash)
    sd_alg: str = SD_ALG


_key_cache: dict[tuple[str, str], ECKey] = {}


def import_key(jwk: dict[str, Any]) -> ECKey:
    """Imported public keys are cached by their coordinates (importing costs as much as a
    verification; the key is nothing but x and y once kty, crv and the absence of d are checked)."""
    x, y = jwk.get("x"), jwk.get("y")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk or not isinstance(x, str) \
            or not isinstance(y, str):
        raise Refused("bad_holder_key", "holder key must be a public P-256 key")
    cache_key = (x, y)
    key = _key_cache.get(cache_key)
    if key is None:
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


_ES256_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{86}")  # 64 bytes (r ‖ s), base64url without padding


def _verify_jws(token: str, key: ECKey, reason: str, header: dict[str, Any] | None = None) -> None:
    """Verify a compact ES256 JWS (the only algorithm accepted) straight through OpenSSL: the
    signature is over the exact ``header.payload`` ASCII, the header must say ES256 and carry no
    ``crit``, the key must be P-256 and the signature exactly 64 bytes of strict base64url.
    (joserfc's generic path cost as much again as the OpenSSL verification itself: issue #18,
    benchmarks/profiles/offline_verification.txt.) ``header`` is the token's own header where the
    caller has already decoded it."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or not _ES256_SIGNATURE.fullmatch(parts[2]):
        raise Refused(reason, "not a compact ES256 JWS")
    if header is None:
        header = _json_part(parts[0], "JWS header")
    if header.get("alg") != "ES256" or "crit" in header:
        raise Refused(reason, f"alg {header.get('alg')!r}")
    public = key.public_key
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        raise Refused(reason, "not a P-256 key")
    raw = b64decode(parts[2])
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise Refused(reason, type(exc).__name__) from exc


@dataclass
class _Disclosure:
    text: str
    name: str | None  # None: an array-element disclosure [salt, value] (§4.2.2)
    value: Any


def _decode_disclosure(text: str) -> _Disclosure:
    try:
        decoded = json.loads(b64decode(text).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused("malformed_disclosure", "a disclosure is not base64url JSON") from exc
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or not isinstance(decoded[0], str):
        raise Refused("malformed_disclosure", "a disclosure must be [salt, name, value] or [salt, value]")
    if len(decoded) == 2:
        return _Disclosure(text, None, decoded[1])
    if not isinstance(decoded[1], str):
        raise Refused("malformed_disclosure", "a claim name must be a string")
    return _Disclosure(text, decoded[1], decoded[2])


class _Processor:
    """RFC 9901 §7.1 steps 3–6 over a signed payload and the presented disclosures."""

    def __init__(self, disclosures: dict[str, _Disclosure]) -> None:
        self.disclosures = disclosures
        self.seen: set[str] = set()  # every digest met, disclosed or not (decoys included)
        self.used: set[str] = set()

    def _see(self, value: Any) -> _Disclosure | None:
        if not isinstance(value, str):
            raise Refused("malformed_sd", "a digest must be a string")
        if value in self.seen:
            raise Refused("duplicate_digest", "a digest appears more than once in the credential")
        self.seen.add(value)
        found = self.disclosures.get(value)
        if found is not None:
            self.used.add(value)
        return found

    def value(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Refused("oversized", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            return self.object(value, depth)
        if isinstance(value, list):
            return self.array(value, depth)
        return value

    def object(self, obj: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.items():
            if name == "_sd":
                continue
            if name == "_sd_alg":
                if depth:
                    raise Refused("malformed_sd", "_sd_alg is only allowed at the top level")
                continue
            out[name] = self.value(value, depth + 1)
        if "_sd" not in obj:
            return out
        digests = obj["_sd"]
        if not isinstance(digests, list):
            raise Refused("malformed_sd", "_sd is not an array")
        for item in digests:
            found = self._see(item)
            if found is None:  # a decoy, or a claim the holder did not disclose
                continue
            if found.name is None:
                raise Refused("misplaced_disclosure", "an array-element disclosure is referenced from _sd")
            if found.name in FORBIDDEN_NAMES:
                raise Refused("forbidden_claim_name", f"claim name {found.name!r} is reserved")
            if depth == 0 and found.name in NOT_DISCLOSABLE:
                raise Refused("forbidden_claim_name", f"{found.name!r} must not be selectively disclosable")
            if found.name in obj or found.name in out:
                raise Refused("claim_name_collision", f"claim {found.name!r} exists twice in one object")
            out[found.name] = self.value(found.value, depth + 1)
        return out

    def array(self, items: list[Any], depth: int) -> list[Any]:
        out = []
        for item in items:
            if isinstance(item, dict) and len(item) == 1 and "..." in item:
                found = self._see(item["..."])
                if found is None:  # an undisclosed element or a decoy: removed from the output
                    continue
                if found.name is not None:
                    raise Refused("misplaced_disclosure", "an object-property disclosure is referenced from an array")
                out.append(self.value(found.value, depth + 1))
            else:
                out.append(self.value(item, depth + 1))
        return out


def process_disclosures(payload: dict[str, Any], disclosures: list[str]) -> tuple[dict[str, Any], str]:
    """RFC 9901 §7.1 steps 2–6: the payload with every presented disclosure in its place and every
    ``_sd``, ``_sd_alg`` and undisclosed ``{"...": digest}`` removed; refuses a disclosure given
    twice, a digest found twice, and a disclosure that nothing in the credential references."""
    sd_alg = payload.get("_sd_alg", SD_ALG)
    if sd_alg not in HASH_ALGS:
        raise Refused("unsupported_sd_alg", f"_sd_alg {sd_alg!r}")
    by_digest: dict[str, _Disclosure] = {}
    for text in disclosures:
        decoded = _decode_disclosure(text)
        value_digest = digest(text, sd_alg)
        if value_digest in by_digest:
            raise Refused("duplicate_disclosure", "the same disclosure is presented twice")
        by_digest[value_digest] = decoded
    processor = _Processor(by_digest)
    claims = processor.object(payload, 0)
    unreferenced = [d for d in by_digest if d not in processor.used]
    if unreferenced:
        name = by_digest[unreferenced[0]].name
        raise Refused("unreferenced_disclosure",
                      f"{'an array element' if name is None else repr(name)} is not referenced by this credential "
                      "(changed, taken from another credential, or its parent was not disclosed)")
    return claims, sd_alg


def verify(text: str, *, issuer_key: Callable[[str, str | None], ECKey | None], audience: str | None,
           now: int | None = None, accepted_typs: tuple[str, ...] = ACCEPTED_TYPS,
           require_key_binding: bool = True) -> Verified:
    """Check everything the presentation itself proves. ``issuer_key(iss, kid)`` returns the
    trusted key, None for a trusted issuer without that key, and raises ``Refused``
    (``untrusted_issuer``…) for an issuer it does not trust. Nonce freshness and status are the
    caller's."""
    now = int(time.time()) if now is None else now
    parsed = parse(text)
    header, payload = parsed.header, parsed.payload
    _check_alg(header, "issuer JWT")
    if header.get("typ") not in accepted_typs:
        raise Refused("wrong_type", f"typ {header.get('typ')!r}")
    iss, kid = payload.get("iss"), header.get("kid")
    if not isinstance(iss, str) or not iss:
        raise Refused("untrusted_issuer", "no iss")
    if kid is not None and not isinstance(kid, str):
        raise Refused("unknown_issuer_key", "kid is not a string")
    key = issuer_key(iss, kid)
    if key is None:
        raise Refused("unknown_issuer_key", f"{iss} kid {kid}")
    _verify_jws(parsed.jwt, key, "bad_signature", header)
    sd_alg = payload.get("_sd_alg", SD_ALG)
    if sd_alg not in HASH_ALGS:
        raise Refused("unsupported_sd_alg", f"_sd_alg {sd_alg!r}")

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
        _verify_jws(parsed.kb_jwt, import_key(cnf["jwk"]), "bad_key_binding_signature", kb_header)
        kb = _json_part(kb_body, "KB-JWT payload")
        prefix = text.strip()[: -len(parsed.kb_jwt)]
        if kb.get("sd_hash") != digest(prefix, sd_alg):
            raise Refused("sd_hash_mismatch", "the presentation was changed after the holder signed it")
        if audience is not None and kb.get("aud") != audience:
            raise Refused("wrong_audience", f"aud {kb.get('aud')!r}")
        if not isinstance(kb.get("iat"), int) or not isinstance(kb.get("nonce"), str):
            raise Refused("malformed", "KB-JWT needs iat and nonce")
    elif require_key_binding:
        raise Refused("missing_key_binding", "no Key Binding JWT")

    claims, sd_alg = process_disclosures(payload, parsed.disclosures)

    exp = payload.get("exp")
    if isinstance(exp, (int, float)) and exp < now - CLOCK_SKEW:
        raise Refused("credential_expired", f"exp {exp}")
    nbf = payload.get("nbf")
    if isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW:
        raise Refused("credential_not_yet_valid", f"nbf {nbf}")
    disclosed = {name: value for name, value in claims.items() if name not in CREDENTIAL_CLAIMS}
    return Verified(issuer=iss, kid=kid or "", payload=payload, claims=claims, disclosed=disclosed,
                    key_binding=kb, sd_alg=sd_alg)
