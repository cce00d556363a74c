"""Verifying a presentation: the SD-JWT checks (``sdjwt.verify``), then type, status, nonce and age.

Two trust sources share one procedure:

- ``OnlineTrust``: this installation's issuer keys and live credential statuses (the verifier
  page and API), and the external issuers of ``POPID_TRUSTED_VC_ISSUERS`` (``wallet.trusted``:
  keys from their SD-JWT VC issuer metadata, status lists fetched and verified, both cached);
- ``CachedTrust``: a JSON cache of each issuer's JWKS and signed status lists, for verifiers
  without network (``popid verify``, ``verify_offline``). The cached status lists are verified
  with the cached keys, and the cache's age is reported with every result. The issuers in the
  cache are the trusted ones: PopID's authorities and the external issuers configured when the
  cache was refreshed.

Refusal reasons are stable codes (docs/wallet.md lists them); the order is fixed: syntax and
size, issuer signature, key binding and ``sd_hash``, disclosures, expiry, type, status, nonce,
age of the presentation. Status comes before the nonce so a presentation of a suspended or
revoked credential is refused as such even when it is also replayed.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from popid.core import keys
from popid.wallet import sdjwt, trusted
from popid.wallet.issuers import ISSUERS, VCT_TO_TYPE, issuer_for_iss
from popid.wallet.models import CredentialStatus

PRESENTATION_MAX_AGE = 60  # seconds: the wallet's QR code is valid for 60 seconds (VNeID)
STATUS_NAMES: dict[int, str] = {CredentialStatus.VALID: "valid", CredentialStatus.INVALID: "revoked",
                CredentialStatus.SUSPENDED: "suspended"}


class Trust(Protocol):
    base: str

    def issuer_key(self, iss: str, kid: str | None) -> ECKey | None: ...

    def status(self, uri: str, idx: int, *, iss: str) -> int: ...

    def issuer_name(self, iss: str) -> str: ...


@dataclass
class Result:
    accepted: bool
    reason: str = ""
    detail: str = ""
    issuer: str = ""
    issuer_name: str = ""
    vct: str = ""
    config_id: str = ""
    disclosed: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    presented_at: int | None = None
    expires_at: int | None = None
    cache_age_seconds: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _keyset_key(keyset: str, kid: str | None) -> ECKey | None:
    if kid is None:
        return None
    for stored in keys.all_keys(keyset):
        if stored.kid == kid and stored.alg == "ES256":
            published = {k["kid"] for k in keys.public_jwks(keyset)["keys"]}
            if kid not in published:  # pruned keys no longer verify
                return None
            return stored.key if isinstance(stored.key, ECKey) else None
    return None


def _public_key(jwk: dict[str, Any] | None) -> ECKey | None:
    if jwk is None:
        return None
    try:
        return sdjwt.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
    except (KeyError, sdjwt.Refused) as exc:
        raise sdjwt.Refused("issuer_metadata_invalid", "the issuer's key is not a P-256 public key") from exc


def read_status_list(token: str, *, uri: str, iss: str, issuer_key: Callable[[str, str | None], ECKey | None],
                     now: float | None = None) -> tuple[int, bytes]:
    """A Token Status List JWT checked as the draft requires: ``typ`` statuslist+jwt, signed by a
    key of the credential's issuer, ``sub`` = the credential's ``uri``, not expired (and ``iss``,
    if present, the credential's issuer). Returns (bits, decompressed list)."""
    try:
        header = json.loads(sdjwt.b64decode(token.split(".")[0]))
        payload = json.loads(sdjwt.b64decode(token.split(".")[1]))
    except (ValueError, IndexError, UnicodeDecodeError, RecursionError) as exc:
        raise sdjwt.Refused("status_unavailable", "status list is malformed") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise sdjwt.Refused("status_unavailable", "status list is malformed")
    if payload.get("iss", iss) != iss:
        raise sdjwt.Refused("status_unavailable", "status list signed for another issuer")
    kid = header.get("kid")
    key = issuer_key(iss, kid if isinstance(kid, str) else None)
    if header.get("typ") != "statuslist+jwt" or key is None or payload.get("sub") != uri:
        raise sdjwt.Refused("status_unavailable", "status list is not signed by the issuer")
    sdjwt._verify_jws(token, key, "status_unavailable")
    exp = payload.get("exp")
    if isinstance(exp, (int, float)) and exp < (time.time() if now is None else now):
        raise sdjwt.Refused("status_unavailable", "status list expired: refresh the cache")
    try:
        status_list = payload["status_list"]
        entry = (int(status_list["bits"]), zlib.decompress(sdjwt.b64decode(status_list["lst"])))
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise sdjwt.Refused("status_unavailable", "status list is malformed") from exc
    if entry[0] not in (1, 2, 4, 8):
        raise sdjwt.Refused("status_unavailable", "unsupported status size")
    return entry


def _status_value(entry: tuple[int, bytes], idx: int) -> int:
    from popid.wallet.status import decode

    try:
        return decode(entry[1], idx, entry[0])
    except IndexError as exc:
        raise sdjwt.Refused("status_unavailable", f"index {idx} outside the list") from exc


class OnlineTrust:
    """This installation: issuers under ``base``, keys from the key store, statuses from the DB;
    plus the configured external issuers (``wallet.trusted``)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def issuer_key(self, iss: str, kid: str | None) -> ECKey | None:
        issuer = issuer_for_iss(iss, self.base)
        if issuer is not None:
            return _keyset_key(issuer.keyset, kid)
        return _public_key(trusted.external_key(iss, kid))

    def issuer_name(self, iss: str) -> str:
        return trusted.display_name(iss)

    def status(self, uri: str, idx: int, *, iss: str) -> int:
        from popid.wallet.status import current_status

        issuer = issuer_for_iss(iss, self.base)
        if issuer is None:
            token = trusted.status_list_token(uri)
            return _status_value(read_status_list(token, uri=uri, iss=iss, issuer_key=self.issuer_key), idx)
        prefix = issuer.status_uri(self.base, 0)[:-1]
        if uri.startswith(prefix) and uri[len(prefix):].isdigit():
            return current_status(issuer.slug, int(uri[len(prefix):]), idx)
        raise sdjwt.Refused("status_unavailable", f"unknown status list {uri}")


class CachedTrust:
    """A verifier's offline cache: {"base", "fetched_at", "issuers": {iss: {"jwks", "name"?}},
    "status_lists": {uri: jwt}}. The issuers in it are the only trusted ones."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.base = data.get("base", "")
        self.fetched_at = int(data.get("fetched_at", 0))
        self._keys: dict[tuple[str, str | None], ECKey] = {}
        for iss, entry in data.get("issuers", {}).items():
            usable = [jwk for jwk in entry.get("jwks", {}).get("keys", [])
                      if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256" and "d" not in jwk]
            for jwk in usable:
                try:
                    key = ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
                except (JoseError, KeyError, TypeError, ValueError):
                    continue  # a broken key in an issuer's published set verifies nothing
                if "kid" in jwk:
                    self._keys[(iss, jwk["kid"])] = key
                if len(usable) == 1:
                    self._keys[(iss, None)] = key  # no kid in the JWT: the issuer's only key
        self._lists: dict[str, tuple[int, bytes]] = {}

    @classmethod
    def load(cls, path: Path) -> CachedTrust:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def age(self, now: int | None = None) -> int:
        return (int(time.time()) if now is None else now) - self.fetched_at

    def issuer_key(self, iss: str, kid: str | None) -> ECKey | None:
        if iss not in self.data.get("issuers", {}):
            raise sdjwt.Refused("untrusted_issuer", f"{iss} is not a trusted issuer (in this cache)")
        return self._keys.get((iss, kid))

    def issuer_name(self, iss: str) -> str:
        return str(self.data["issuers"].get(iss, {}).get("name") or trusted.display_name(iss))

    def status(self, uri: str, idx: int, *, iss: str) -> int:
        if uri not in self._lists:
            token = self.data.get("status_lists", {}).get(uri)
            if not token:
                raise sdjwt.Refused("status_unavailable", f"status list {uri} is not in the cache")
            self._lists[uri] = read_status_list(token, uri=uri, iss=iss, issuer_key=self.issuer_key)
        return _status_value(self._lists[uri], idx)


def verify_presentation(payload: str, *, trust: Trust, audience: str | None,
                        nonce_check: Callable[[str], None] | None = None,
                        max_age: int = PRESENTATION_MAX_AGE, now: int | None = None) -> Result:
    """Verify and describe; never raises for a bad presentation (``Result.reason`` says why)."""
    now = int(time.time()) if now is None else now
    result = Result(accepted=False)
    try:
        verified = sdjwt.verify(payload, issuer_key=trust.issuer_key, audience=audience, now=now)
        claims = verified.claims
        vct = claims.get("vct")
        result.issuer, result.vct = verified.issuer, vct if isinstance(vct, str) else ""
        if not result.vct:
            raise sdjwt.Refused("wrong_type", "the credential has no vct")
        issuer = issuer_for_iss(verified.issuer, trust.base)
        ctype = VCT_TO_TYPE.get(result.vct)
        if issuer is not None:  # one of PopID's authorities: only its own types, always with a status
            if ctype is None or ctype.issuer != issuer.slug:
                raise sdjwt.Refused("wrong_type", f"{result.vct} is not issued by {verified.issuer}")
            result.issuer_name, result.config_id = issuer.name, ctype.config_id
        elif ctype is not None:  # an external issuer may not issue PopID's credential types
            raise sdjwt.Refused("wrong_type", f"{result.vct} is issued by a PopID authority only")
        else:
            result.issuer_name = trust.issuer_name(verified.issuer)
        exp = claims.get("exp")
        result.disclosed, result.expires_at = verified.disclosed, exp if isinstance(exp, int) else None
        result.presented_at = verified.key_binding.get("iat")
        status_claim = claims.get("status")
        if issuer is None and status_claim is None:
            result.notes.append("no_status_reference")  # an external credential that cannot be revoked
            value: int = CredentialStatus.VALID
            result.status = "none"
        else:
            ref = status_claim.get("status_list") if isinstance(status_claim, dict) else None
            if not isinstance(ref, dict) or not isinstance(ref.get("idx"), int) or not isinstance(ref.get("uri"), str):
                raise sdjwt.Refused("status_unavailable", "credential has no status reference")
            value = trust.status(ref["uri"], ref["idx"], iss=verified.issuer)
            result.status = STATUS_NAMES.get(value, f"status_{value}")
        if value == CredentialStatus.INVALID:
            raise sdjwt.Refused("revoked", "the issuer revoked this credential")
        if value == CredentialStatus.SUSPENDED:
            raise sdjwt.Refused("suspended", "the issuer suspended this credential")
        if value != CredentialStatus.VALID:
            raise sdjwt.Refused("status_unknown", f"status value {value}")
        if nonce_check is not None:
            nonce_check(verified.key_binding["nonce"])
        else:
            result.notes.append("nonce_not_checked")
        iat = verified.key_binding["iat"]
        if iat < now - max_age:
            raise sdjwt.Refused("presentation_expired", f"made {now - iat} s ago (limit {max_age} s)")
        if iat > now + sdjwt.CLOCK_SKEW:
            raise sdjwt.Refused("presentation_from_future", f"iat {iat}")
    except sdjwt.Refused as refused:
        result.reason, result.detail = refused.reason, refused.detail
        return result
    result.accepted = True
    return result


# --- offline ----------------------------------------------------------------------------------
def build_cache(base: str) -> dict[str, Any]:
    """The cache content from this installation (what ``--refresh-cache`` writes without --from)."""
    from popid.wallet.status import status_list_token

    data: dict[str, Any] = {"base": base, "fetched_at": int(time.time()), "source": "local", "issuers": {},
                            "status_lists": {}}
    for issuer in ISSUERS.values():
        data["issuers"][issuer.iss(base)] = {"jwks": issuer.jwks()}
        uri = issuer.status_uri(base, 1)
        data["status_lists"][uri] = status_list_token(issuer.slug, 1, base)
    return data


def add_external_issuers(data: dict[str, Any], *, status_lists: tuple[str, ...] = (), client: Any = None) -> None:
    """Add each configured external issuer's JWKS (SD-JWT VC metadata discovery) and the given
    external status lists to a cache. An issuer that cannot be fetched is left out (its
    credentials are then refused offline as ``untrusted_issuer``) and named in ``unavailable``."""
    unavailable = data.setdefault("unavailable", [])
    for iss in trusted.trusted_issuers():
        if iss in data["issuers"]:
            continue
        try:
            meta, _ttl = trusted.discover(iss, client=client)
        except sdjwt.Refused as refused:
            unavailable.append({"issuer": iss, "reason": refused.reason, "detail": refused.detail})
            continue
        data["issuers"][iss] = {"jwks": meta["jwks"], "name": trusted.display_name(iss), "external": True}
    for uri in status_lists:
        if not trusted.is_allowed_url(uri):
            unavailable.append({"status_list": uri, "reason": "status_unavailable", "detail": "not an https URL"})
            continue
        try:
            body, _ttl = trusted._get(uri, accept="application/statuslist+jwt", client=client)
            data["status_lists"][uri] = body.decode("ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            unavailable.append({"status_list": uri, "reason": "status_unavailable", "detail": str(exc)})


def fetch_cache(base: str, *, client: Any = None) -> dict[str, Any]:
    """The cache content fetched over HTTP from a PopID installation (issuer metadata + status lists)."""
    import httpx

    http = client or httpx.Client(timeout=10)
    data: dict[str, Any] = {"base": base, "fetched_at": int(time.time()), "source": base, "issuers": {},
                            "status_lists": {}}
    for issuer in ISSUERS.values():
        iss = issuer.iss(base)
        response = http.get(f"{base}/.well-known/jwt-vc-issuer{iss[len(base):]}")
        response.raise_for_status()
        meta = response.json()
        if meta.get("issuer") != iss:
            raise ValueError(f"issuer metadata names {meta.get('issuer')!r}, expected {iss!r}")
        data["issuers"][iss] = {"jwks": meta["jwks"]}
        uri = issuer.status_uri(base, 1)
        data["status_lists"][uri] = http.get(uri, headers={"Accept": "application/statuslist+jwt"}).text
    return data


def verify_offline(payload: str, *, cache_path: Path, audience: str | None = None, nonce: str | None = None,
                   max_age: int = PRESENTATION_MAX_AGE, now: int | None = None) -> Result:
    """Verify with a cached JWKS and status list and no network. ``Result.cache_age_seconds``
    says how old the cache is; a given ``nonce`` must match the presentation's."""
    trust = CachedTrust.load(cache_path)

    def check(value: str) -> None:
        if value != nonce:
            raise sdjwt.Refused("wrong_nonce", "the presentation was made for another nonce")

    result = verify_presentation(payload, trust=trust, audience=audience, nonce_check=check if nonce else None,
                                 max_age=max_age, now=now)
    result.cache_age_seconds = trust.age(now)
    return result
