"""Trusted issuers outside PopID (issue #10, finding 8): ``POPID_TRUSTED_VC_ISSUERS``, key
discovery through SD-JWT VC issuer metadata (``jwks`` or ``jwks_uri``) served by a small HTTP
server on another port, caching and timeouts, external status lists, offline ``popid verify``
from the cache, and the new refusal reasons translated on the verifier page and the API.

``ExternalIssuer`` and the ``external`` fixture are also used by ``test_wallet_interop``."""

from __future__ import annotations

import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from joserfc import jws
from joserfc.jwk import ECKey

from popid.wallet import sdjwt, trusted, verifier
from popid.wallet.status import encode
from popid.wallet.verify import verify_offline
from tests.wallet.test_wallet_flow import BASE

pytestmark = pytest.mark.django_db


class ExternalIssuer:
    """``iss`` = http://127.0.0.1:<port>/issuer; ``routes`` maps a path to (status, type, body)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True, parameters={"kid": "ext-key-1"})
        self.holder = ECKey.generate_key("P-256", private=True)
        self.hits: list[str] = []
        self.delay = 0.0  # seconds before each answer (a slow issuer)
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.hits.append(self.path)
                time.sleep(issuer.delay)
                status, content_type, body = issuer.routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.iss = f"{self.origin}/issuer"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.publish()

    # --- what the server publishes ------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "kid": "ext-key-1", "alg": "ES256", "use": "sig"}]}

    def publish(self, *, metadata: dict[str, Any] | None = None, inline: bool = True) -> None:
        meta = metadata if metadata is not None else (
            {"issuer": self.iss, "jwks": self.jwks()} if inline else
            {"issuer": self.iss, "jwks_uri": f"{self.iss}/jwks"})
        self.routes["/.well-known/jwt-vc-issuer/issuer"] = (200, "application/json", json.dumps(meta).encode())
        self.routes["/issuer/jwks"] = (200, "application/jwk-set+json", json.dumps(self.jwks()).encode())

    def publish_status(self, statuses: dict[int, int], *, size: int = 1024) -> str:
        uri = f"{self.iss}/status/1"
        payload = {"sub": uri, "iat": int(time.time()), "exp": int(time.time()) + 3600, "ttl": 60,
                   "status_list": {"bits": 2, "lst": sdjwt.b64encode(zlib.compress(encode(statuses.items(), size)))}}
        token = jws.serialize_compact({"alg": "ES256", "typ": "statuslist+jwt", "kid": "ext-key-1"},
                                      json.dumps(payload).encode(), self.key, algorithms=["ES256"])
        self.routes["/issuer/status/1"] = (200, "application/statuslist+jwt", token.encode())
        return uri

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- signing by hand ----------------------------------------------------------------------
    def sign(self, payload: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        return jws.serialize_compact(header or {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "ext-key-1"},
                                     json.dumps(payload, ensure_ascii=False).encode(), self.key,
                                     algorithms=["ES256"])

    def base_claims(self, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.iss, "vct": "https://example.org/credentials/person", "iat": now, "exp": now + 3600,
                "cnf": {"jwk": self.holder.as_dict(private=False)}, **extra}

    def present(self, jwt: str, disclosures: list[str], *, nonce: str, aud: str, sd_alg: str = "sha-256") -> str:
        """What a holder sends: the chosen disclosures and a KB-JWT over them."""
        prefix = "~".join([jwt, *disclosures, ""])
        kb = {"iat": int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": sdjwt.digest(prefix, sd_alg)}
        return prefix + jws.serialize_compact({"alg": "ES256", "typ": "kb+jwt"}, json.dumps(kb).encode(),
                                              self.holder, algorithms=["ES256"])


def disclosure(*parts: Any) -> str:
    """A disclosure of any shape: ``[salt, name, value]``, ``[salt, value]`` or a malformed one."""
    return sdjwt.b64encode(json.dumps(list(parts), ensure_ascii=False).encode())



@pytest.fixture
def external(settings):
    issuer = ExternalIssuer()
    settings.POPID_TRUSTED_VC_ISSUERS = [issuer.iss]
    cache.clear()
    yield issuer
    issuer.stop()
    cache.clear()


def _credential(issuer: ExternalIssuer, **extra) -> tuple[str, list[str]]:
    given, family = disclosure("salt-g", "given_name", "An"), disclosure("salt-f", "family_name", "Nguyễn")
    claims = issuer.base_claims(_sd=sorted([sdjwt.digest(given), sdjwt.digest(family)]), _sd_alg="sha-256", **extra)
    return issuer.sign(claims), [given]


def _verify(issuer: ExternalIssuer, **extra):
    jwt, disclosures = _credential(issuer, **extra)
    session = verifier.create_session(base=BASE)
    payload = issuer.present(jwt, disclosures, nonce=session.nonce, aud=session.audience)
    return verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)


def test_configured_external_issuer_is_accepted_and_its_keys_cached(external):
    result = _verify(external)
    assert result.accepted, (result.reason, result.detail)
    assert result.disclosed == {"given_name": "An"} and result.vct == "https://example.org/credentials/person"
    assert result.status == "none" and "no_status_reference" in result.notes
    assert external.hits == ["/.well-known/jwt-vc-issuer/issuer"]
    assert _verify(external).accepted
    assert external.hits == ["/.well-known/jwt-vc-issuer/issuer"]  # second time from the cache


def test_issuer_not_on_the_list_is_refused_as_untrusted_without_any_request(external, settings):
    settings.POPID_TRUSTED_VC_ISSUERS = ["https://other.example/issuer"]
    result = _verify(external)
    assert (result.accepted, result.reason) == (False, "untrusted_issuer")
    assert external.hits == []  # a presentation never makes the verifier fetch an address it chose


def test_environment_variable_adds_trusted_issuers(external, settings, monkeypatch):
    del settings.POPID_TRUSTED_VC_ISSUERS
    monkeypatch.setenv("POPID_TRUSTED_VC_ISSUERS", f"https://a.example, {external.iss}")
    assert trusted.trusted_issuers() == ("https://a.example", external.iss)
    assert _verify(external).accepted
    monkeypatch.setenv("POPID_TRUSTED_VC_ISSUERS", "")
    assert _verify(external).reason == "untrusted_issuer"


def test_jwks_uri_metadata_is_followed(external):
    external.publish(inline=False)
    assert _verify(external).accepted
    assert external.hits == ["/.well-known/jwt-vc-issuer/issuer", "/issuer/jwks"]


@pytest.mark.parametrize("metadata, reason", [
    ({"issuer": "https://impostor.example/issuer", "jwks": {"keys": []}}, "issuer_metadata_invalid"),
    ({"issuer": "{iss}", "jwks": {"keys": []}, "jwks_uri": "{iss}/jwks"}, "issuer_metadata_invalid"),
    ({"issuer": "{iss}"}, "issuer_metadata_invalid"),
    ({"issuer": "{iss}", "jwks_uri": "ftp://127.0.0.1/jwks"}, "issuer_metadata_invalid"),
    ({"issuer": "{iss}", "jwks": "not a key set"}, "issuer_metadata_invalid"),
    ({"issuer": "{iss}", "jwks": {"keys": []}}, "unknown_issuer_key"),
    ({"issuer": "{iss}", "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB",
                                             "kid": "ext-key-1"}]}}, "issuer_metadata_invalid"),
])
def test_bad_issuer_metadata_is_refused_with_its_reason(external, metadata, reason):
    external.publish(metadata=json.loads(json.dumps(metadata).replace("{iss}", external.iss)))
    assert _verify(external).reason == reason


def test_unreachable_issuer_is_refused_and_the_failure_remembered(external, monkeypatch):
    del external.routes["/.well-known/jwt-vc-issuer/issuer"]
    assert _verify(external).reason == "issuer_metadata_unavailable"
    external.publish()
    assert _verify(external).reason == "issuer_metadata_unavailable"  # remembered for FAILURE_TTL seconds
    assert len(external.hits) == 1
    cache.clear()
    assert _verify(external).accepted


def test_slow_issuer_times_out(external, monkeypatch):
    monkeypatch.setattr(trusted, "TIMEOUT_SECONDS", 0.2)
    external.delay = 1.0
    assert _verify(external).reason == "issuer_metadata_unavailable"


def test_oversized_metadata_is_refused(external):
    external.routes["/.well-known/jwt-vc-issuer/issuer"] = (200, "application/json",
                                                            b" " * (trusted.MAX_RESPONSE_BYTES + 10) + b"{}")
    assert _verify(external).reason == "issuer_metadata_unavailable"


def test_rotated_issuer_key_is_fetched_again_once_per_interval(external, monkeypatch):
    from joserfc.jwk import ECKey

    assert _verify(external).accepted
    external.key = ECKey.generate_key("P-256", private=True)
    external.jwks = lambda: {"keys": [{**external.key.as_dict(private=False), "kid": "ext-key-2"}]}
    external.publish()
    jwt, disclosures = _credential(external)
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "ext-key-2"}
    claims = json.loads(sdjwt.b64decode(jwt.split(".")[1]))
    rotated = external.sign(claims, header=header)
    session = verifier.create_session(base=BASE)
    payload = external.present(rotated, disclosures, nonce=session.nonce, aud=session.audience)
    assert verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE).reason == \
        "unknown_issuer_key"  # the cached key set is younger than REFETCH_INTERVAL
    monkeypatch.setattr(trusted, "REFETCH_INTERVAL", 0)
    session = verifier.create_session(base=BASE)
    payload = external.present(rotated, disclosures, nonce=session.nonce, aud=session.audience)
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    assert result.accepted, (result.reason, result.detail)


def test_external_status_list_is_fetched_verified_and_applied(external):
    uri = external.publish_status({5: 0, 6: 1, 7: 2})
    assert _verify(external, status={"status_list": {"idx": 5, "uri": uri}}).status == "valid"
    assert _verify(external, status={"status_list": {"idx": 6, "uri": uri}}).reason == "revoked"
    assert _verify(external, status={"status_list": {"idx": 7, "uri": uri}}).reason == "suspended"
    assert _verify(external, status={"status_list": {"idx": 99999, "uri": uri}}).reason == "status_unavailable"
    assert _verify(external, status={"status_list": {"idx": 5, "uri": f"{external.iss}/nowhere"}}).reason == \
        "status_unavailable"
    assert _verify(external, status="revoked? no").reason == "status_unavailable"
    assert external.hits.count("/issuer/status/1") == 1  # cached for the list's ttl


def test_status_list_signed_by_another_key_is_not_trusted(external):
    from joserfc.jwk import ECKey

    real_key = external.key
    external.key = ECKey.generate_key("P-256", private=True)
    uri = external.publish_status({5: 0})
    external.key = real_key
    assert _verify(external, status={"status_list": {"idx": 5, "uri": uri}}).reason == "status_unavailable"


def test_offline_verify_uses_cached_external_keys_and_status(external, settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    uri = external.publish_status({5: 0, 6: 1})
    cache_path = tmp_path / "cache.json"
    err = StringIO()
    call_command("verify", "--refresh-cache", "--cache", str(cache_path), "--base", BASE, "--status-list", uri,
                 stderr=err)
    data = json.loads(cache_path.read_text())
    assert data["issuers"][external.iss]["external"] is True and uri in data["status_lists"]
    external.stop()  # offline from here on
    cache.clear()

    def offline(idx: int):
        jwt, disclosures = _credential(external, status={"status_list": {"idx": idx, "uri": uri}})
        payload = external.present(jwt, disclosures, nonce="n-1", aud="verifier-1")
        return verify_offline(payload, cache_path=cache_path, audience="verifier-1", nonce="n-1")

    result = offline(5)
    assert result.accepted, (result.reason, result.detail)
    assert result.disclosed == {"given_name": "An"} and result.cache_age_seconds is not None
    assert offline(6).reason == "revoked"
    del data["issuers"][external.iss]
    cache_path.write_text(json.dumps(data))
    assert offline(5).reason == "untrusted_issuer"


def test_offline_refresh_reports_an_unreachable_external_issuer(external, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    external.routes.clear()
    err = StringIO()
    call_command("verify", "--refresh-cache", "--cache", str(tmp_path / "c.json"), "--base", BASE, stderr=err)
    assert f"Không tải được {external.iss}: issuer_metadata_unavailable" in err.getvalue()
    assert external.iss not in json.loads((tmp_path / "c.json").read_text())["issuers"]


def test_misconfigured_trusted_issuer_fails_the_system_check(settings):
    from django.core import checks

    settings.POPID_TRUSTED_VC_ISSUERS = ["http://evil.example/issuer", "https://ok.example/i", "https://q.example/?x=1"]
    errors = [m for m in checks.run_checks() if m.id == "wallet.E001"]
    assert len(errors) == 2
    assert trusted.trusted_issuers() == ("https://ok.example/i",)


def test_new_reasons_are_shown_translated_on_the_page_and_in_the_api(external, client, settings):
    settings.POPID_TRUSTED_VC_ISSUERS = []
    jwt, disclosures = _credential(external)
    session = verifier.create_session(base=BASE)
    payload = external.present(jwt, disclosures, nonce=session.nonce, aud=session.audience)
    page = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload})
    assert page.status_code == 422
    html = page.content.decode()
    assert 'data-reason="untrusted_issuer"' in html and "Cơ quan cấp không nằm trong danh sách được tin cậy" in html

    session = verifier.create_session(base=BASE)
    payload = external.present(jwt, disclosures, nonce=session.nonce, aud=session.audience)
    client.post("/i18n/setlang/", {"language": "en"})  # the pages switch with the language buttons
    page = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload})
    assert "The issuer is not on the list of trusted issuers" in page.content.decode()

    session = verifier.create_session(base=BASE)
    payload = external.present(jwt, [disclosures[0], disclosures[0]], nonce=session.nonce, aud=session.audience)
    response = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": payload},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    problem = response.json()
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")
    assert problem["reason"] == "untrusted_issuer"  # trust is checked before the disclosures
    settings.POPID_TRUSTED_VC_ISSUERS = [external.iss]
    session = verifier.create_session(base=BASE)
    payload = external.present(jwt, [disclosures[0], disclosures[0]], nonce=session.nonce, aud=session.audience)
    problem = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": payload},
                          content_type="application/json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert problem["reason"] == "duplicate_disclosure"
    assert problem["detail"] == "Duplicate disclosure"


def test_presentation_timestamps_still_checked_for_external_credentials(external):
    jwt, disclosures = _credential(external, exp=int(time.time()) - 3600)
    session = verifier.create_session(base=BASE)
    payload = external.present(jwt, disclosures, nonce=session.nonce, aud=session.audience)
    assert verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE).reason == \
        "credential_expired"


def test_verifier_page_shows_nested_claims_of_an_accepted_external_credential(external, client):
    locality, nationality = disclosure("s1", "locality", "Hà Nội"), disclosure("s2", "VN")
    address = disclosure("s3", "address", {"_sd": [sdjwt.digest(locality), "decoy"], "country": "VN"})
    claims = external.base_claims(_sd=[sdjwt.digest(address)],
                                  nationalities=[{"...": sdjwt.digest(nationality)}, {"...": "x"}])
    session = verifier.create_session(base=BASE)
    payload = external.present(external.sign(claims), [address, locality, nationality], nonce=session.nonce,
                               aud=session.audience)
    html = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload}).content.decode()
    assert 'data-accepted="true"' in html
    assert '<td data-claim="address.locality">Hà Nội</td>' in html
    assert '<td data-claim="address.country">VN</td>' in html
    assert '<td data-claim="nationalities">VN</td>' in html
    assert "_sd" not in html and "decoy" not in html


def test_broken_key_in_a_cached_key_set_is_skipped(external):
    from popid.wallet.verify import CachedTrust

    broken = {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB", "kid": "broken"}
    trust = CachedTrust({"issuers": {external.iss: {"jwks": {"keys": [broken, *external.jwks()["keys"]]}}}})
    assert trust.issuer_key(external.iss, "broken") is None
    assert trust.issuer_key(external.iss, "ext-key-1") is not None
