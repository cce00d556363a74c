"""Hot paths (issue #18): query-count guards on every endpoint `make bench-http` measures, so a
change that adds a query fails here (never a timing), and the per-process credential caches
(`core.hotcache`) refusing a revoked token or grant at once in the revoking process and within
`POPID_HOT_CACHE_SECONDS` in any other."""

from __future__ import annotations

import base64
import json
import time
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from popid.core import hotcache
from popid.core.auth import issue_staff_token
from popid.core.models import AccessRecord
from popid.exchange import management_services as manage
from popid.exchange.models import Grant
from popid.identity.oidc.models import Token
from tests.conftest import HOAN_KIEM
from tests.exchange.test_exchange_api import CONTEXT, call, client_assertion, get_token, token_request
from tests.exchange.test_exchange_services import ADMIN, make_bank
from tests.identity.test_oidc_attacks import assertion, token_with_assertion
from tests.identity.test_oidc_flow import browser_login, get_code, make_account

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(autouse=True)
def shared_cache_off_the_database(settings):
    """Production runs the shared cache (per-agency rate counters, sessions' helpers) on Redis
    (deploy/popid.env.example), so it costs the database no query; here Django's local-memory
    cache stands in for it (one process). The database-cache fallback has its own cost (an
    atomic counter is ~4 statements) and is not what these guards measure.
    Counts include the SAVEPOINT/RELEASE pairs of ``transaction.atomic`` inside the test's own
    transaction (a BEGIN/COMMIT, not counted by Django, in production)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "hot-paths"}}


@pytest.fixture
def bank(db):
    return make_bank()


def ekyc_body(person) -> dict:
    return {"context": CONTEXT, "id_number": person.id_number, "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(), "attributes": {"sex": person.sex}}


# --- query-count guards ---------------------------------------------------------------------------
def test_framework_floor_is_one_query(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz/db")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_ekyc_queries(client, bank, family, django_assert_max_num_queries):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    with django_assert_max_num_queries(11):  # first call: token and grants read, today's usage row made
        assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 200
    # person; access record + quota charge in one transaction (+ its SAVEPOINT, RELEASE)
    with django_assert_max_num_queries(5):
        response = call(client, token, "/ekyc/verify", ekyc_body(family["an"]))
    assert response.status_code == 200 and response.json()["match"] is True
    assert AccessRecord.objects.filter(channel="ekyc", person_id_number=family["an"].id_number).count() == 2


def test_person_lookup_full_view_queries(client, family, supervisor_nation, django_assert_max_num_queries):
    token = issue_staff_token(user=supervisor_nation, name="hot path")
    an = family["an"]
    assert client.get(f"/api/v1/persons/{an.id_number}", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    # person, access record, household with head and members (one query), residences,
    # relations, cancelled numbers
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/persons/{an.id_number}", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = response.json()
    assert response.status_code == 200
    members = {m["person"]["id_number"] if isinstance(m.get("person"), dict) else m.get("id_number")
               for m in body["household"]["members"]}
    assert an.id_number in json.dumps(body["household"]) and len(members) == len(body["household"]["members"]) >= 3
    assert AccessRecord.objects.filter(person_id_number=an.id_number, channel="api").count() == 2


@pytest.fixture
def oidc_tokens(client, family):
    from joserfc.jwk import ECKey

    from popid.identity.oidc import services

    key = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    rp, _secret = services.register_client(
        name="Ngân hàng", redirect_uris=["https://dichvucong.example/callback"],
        token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]})
    browser_login(client, make_account(family["an"]))
    response = token_with_assertion(client, rp, get_code(client, rp), assertion(rp.client_id, key))
    assert response.status_code == 200, response.content
    return rp, key, response.json()


def test_userinfo_queries(client, oidc_tokens, django_assert_max_num_queries):
    _rp, _key, tokens = oidc_tokens
    # token with client, account, user and person (one join) and the access record of the
    # released claims: the person is not read again and the subject's wards are not read at all
    # (claims are only ever about the subject); this client's scopes release no address
    with django_assert_max_num_queries(2):
        response = client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200 and response.json()["name"]


def test_refresh_grant_queries(client, oidc_tokens, django_assert_max_num_queries):
    rp, key, tokens = oidc_tokens
    with django_assert_max_num_queries(7):
        response = client.post("/oidc/token", {
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(rp.client_id, key)})
    assert response.status_code == 200, response.content
    assert Token.objects.filter(revoked_at__isnull=True).count() == 1


def test_client_credentials_grant_queries(client, bank, django_assert_max_num_queries):
    _agency, subsystem, key = bank
    client_id = subsystem.client.client_id
    assert token_request(client, client_id, client_assertion(client_id, key)).status_code == 200
    # client; the assertion's jti stored once (+ SAVEPOINT, RELEASE); the token row. The subsystem
    # and its grants come from the per-process cache filled by the first grant (exchange.clients);
    # the replay store's sweep runs at most once a minute per process.
    with django_assert_max_num_queries(5):
        response = token_request(client, client_id, client_assertion(client_id, key))
    assert response.status_code == 200 and response.json()["access_token"]


def test_expired_assertion_ids_are_swept_at_most_once_a_minute(client, bank):
    from popid.identity.oidc import provider
    from popid.identity.oidc.models import ClientAssertionJti

    _agency, subsystem, key = bank
    client_id = subsystem.client.client_id
    old = timezone.now() - timedelta(minutes=10)
    ClientAssertionJti.objects.create(client_id=client_id, jti="expired-1", expires_at=old)
    provider._jti_swept_at = 0.0  # the process has not swept yet
    assert token_request(client, client_id, client_assertion(client_id, key)).status_code == 200
    assert not ClientAssertionJti.objects.filter(jti="expired-1").exists()
    ClientAssertionJti.objects.create(client_id=client_id, jti="expired-2", expires_at=old)
    assert token_request(client, client_id, client_assertion(client_id, key)).status_code == 200
    assert ClientAssertionJti.objects.filter(jti="expired-2").exists()  # next sweep within a minute
    replayed = client_assertion(client_id, key, jti="same")
    assert token_request(client, client_id, replayed).status_code == 200
    assert token_request(client, client_id, replayed).status_code in {400, 401}  # replay still refused


def test_dossier_submission_queries(client, family, settings, tmp_path, django_assert_max_num_queries):
    from tests.services.test_services_citizen import login

    settings.DATA_DIR = tmp_path
    login(client, make_account(family["an"]))
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
    start = date.today()
    body = {"procedure": "temporary_residence",
            "data": {"commune_code": HOAN_KIEM, "address": "5 Hàng Gai", "valid_from": start.isoformat(),
                     "valid_until": (start + timedelta(days=365)).isoformat(), "reason": "Đi làm"},
            "attachments": [{"kind": "proof_of_residence", "name": "hop-dong.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(pdf).decode()}]}
    client.get("/dich-vu-cong/")  # the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    # 21: since issue #19 the state change is also an outbox event and its dispatch task (same
    # transaction), and the draft's pre-fill mark is read and written (once per draft).
    with django_assert_max_num_queries(21):
        response = client.post("/api/v1/services/dossiers", body, content_type="application/json",
                               HTTP_X_CSRFTOKEN=csrf, HTTP_IDEMPOTENCY_KEY="hot-path-1")
    assert response.status_code == 201, response.content


# --- caches and revocation ------------------------------------------------------------------------
def test_revoked_grant_is_refused_at_the_next_call(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 200  # cached now
    manage.revoke_grant(actor=ADMIN, grant=Grant.objects.get(subsystem=subsystem, service="ekyc"))
    response = call(client, token, "/ekyc/verify", ekyc_body(family["an"]))
    assert response.status_code == 403 and response.json()["code"] == "service_not_granted"


def test_suspended_agency_token_is_refused_at_the_next_call(client, bank, family):
    agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 200
    manage.set_agency_active(actor=ADMIN, agency=agency, active=False)
    assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 401


def test_client_credentials_stop_at_once_for_a_suspended_agency_and_a_revoked_grant(client, bank):
    agency, subsystem, key = bank
    client_id = subsystem.client.client_id
    assert token_request(client, client_id, client_assertion(client_id, key)).status_code == 200  # cached now
    manage.revoke_grant(actor=ADMIN, grant=Grant.objects.get(subsystem=subsystem, service="ekyc"))
    refused = token_request(client, client_id, client_assertion(client_id, key), scope="exchange.ekyc")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    manage.set_agency_active(actor=ADMIN, agency=agency, active=False)
    refused = token_request(client, client_id, client_assertion(client_id, key))
    assert refused.status_code in {400, 401} and refused.json()["error"] == "unauthorized_client"


def test_client_credentials_see_a_suspension_made_elsewhere_within_the_cache_lifetime(client, bank, settings):
    settings.POPID_HOT_CACHE_SECONDS = 0.3
    agency, subsystem, key = bank
    client_id = subsystem.client.client_id
    assert token_request(client, client_id, client_assertion(client_id, key)).status_code == 200
    type(agency).objects.filter(pk=agency.pk).update(is_active=False)  # SQL: this process is not told
    time.sleep(0.35)
    refused = token_request(client, client_id, client_assertion(client_id, key))
    assert refused.status_code in {400, 401} and refused.json()["error"] == "unauthorized_client"


def test_revocation_by_another_process_is_seen_within_the_cache_lifetime(client, bank, family, settings):
    """A revocation this process was not told about (another worker, the CLI, SQL by hand) is
    honoured once the entry is older than POPID_HOT_CACHE_SECONDS."""
    settings.POPID_HOT_CACHE_SECONDS = 0.3
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 200
    Grant.objects.filter(subsystem=subsystem, service="ekyc").update(revoked_at=timezone.now())  # no invalidation
    time.sleep(0.35)
    assert call(client, token, "/ekyc/verify", ekyc_body(family["an"])).status_code == 403


def test_deactivated_officer_token_stops_within_the_cache_lifetime(client, family, supervisor_nation, settings):
    settings.POPID_HOT_CACHE_SECONDS = 0.3
    token = issue_staff_token(user=supervisor_nation, name="hot path")
    url = f"/api/v1/persons/{family['an'].id_number}"
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    get_user_model().objects.filter(pk=supervisor_nation.pk).update(is_active=False)
    time.sleep(0.35)
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_hot_cache_expires_and_can_be_switched_off(settings):
    cache = hotcache.cache("test.hot")
    settings.POPID_HOT_CACHE_SECONDS = 0
    cache.put("k", 1)
    assert cache.get("k") is None
    settings.POPID_HOT_CACHE_SECONDS = 5
    cache.put("k", 1)
    assert cache.get("k") == 1
    hotcache.invalidate("test.hot")
    assert cache.get("k") is None


# --- the direct ES256 path of the wallet's verifier ---------------------------------------------
def _sign_raw(header: dict, key) -> str:
    """A compact ES256 JWS with any header (joserfc refuses to make some of the bad ones)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(b'{}')}"
    r, s = decode_dss_signature(key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_direct_es256_verification_accepts_exactly_valid_compact_jws():
    from joserfc import jws
    from joserfc.jwk import ECKey

    from popid.wallet.sdjwt import Refused, _verify_jws

    key = ECKey.generate_key("P-256", private=True)
    public = ECKey.import_key(key.as_dict(private=False))
    token = jws.serialize_compact({"alg": "ES256"}, b'{"a": 1}', key, algorithms=["ES256"])
    _verify_jws(token, public, "bad_signature")  # accepted
    _verify_jws(_sign_raw({"alg": "ES256"}, key), public, "bad_signature")  # the raw signer is right
    head, body, sig = token.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    other = ECKey.generate_key("P-256", private=True)
    crit = _sign_raw({"alg": "ES256", "crit": ["x"], "x": 1}, key)
    p384 = ECKey.generate_key("P-384", private=True)
    es384 = jws.serialize_compact({"alg": "ES384"}, b"{}", p384, algorithms=["ES384"])
    refused = [
        (f"{head}.{body}.{flipped}", public),  # changed signature
        (f"{head}.{body[:-2]}.{sig}", public),  # changed payload
        (token, ECKey.import_key(other.as_dict(private=False))),  # another key
        (f"{head}.{body}.{sig}==", public),  # padding, not strict base64url
        (f"{head}.{body}.{sig}.x", public),  # not three parts
        (crit, public),  # a critical header nobody understands
        (es384, ECKey.import_key(p384.as_dict(private=False))),  # another algorithm
    ]
    for bad, verify_key in refused:
        with pytest.raises(Refused):
            _verify_jws(bad, verify_key, "bad_signature")
