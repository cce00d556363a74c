"""Agency API over HTTP: client_credentials with private_key_jwt at /oidc/token, tokens bound to
the subsystem and granted scopes, and the REST services with problem JSON (issue #5)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey

from popid.core import hotcache
from popid.core.access import Actor
from popid.core.models import AccessRecord
from popid.exchange import management_services as manage
from popid.exchange import services
from popid.exchange.models import AgencyToken, DataConsent, Grant
from popid.identity.oidc.models import ClientAssertionJti
from tests.exchange.test_exchange_services import ADMIN, LEGAL, PURPOSE, _clear_cache, approved_consent, make_bank  # noqa: F401
from tests.exchange.test_exchange_services import rc as services_rc

TOKEN_URL = "http://testserver/oidc/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONTEXT = {"purpose": PURPOSE, "legal_basis": LEGAL, "official": "GDV Lê Thu (NV0042)"}


def client_assertion(client_id: str, key: ECKey, *, aud: str = TOKEN_URL, exp_in: int = 60, jti: str | None = None,
                     iss: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": iss or client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in,
              "jti": jti or uuid.uuid4().hex}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def token_request(client, client_id: str, assertion: str, scope: str | None = None):
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}
    if scope is not None:
        data["scope"] = scope
    return client.post("/oidc/token", data)


def get_token(client, subsystem, key, scope: str | None = None) -> str:
    response = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id, key),
                             scope)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def call(client, token: str, path: str, body: dict, method: str = "post"):
    return getattr(client, method)(f"/api/v1/exchange{path}", body, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def bank(db):
    return make_bank()


# --- token endpoint ----------------------------------------------------------------------------
def test_client_credentials_token_bound_to_subsystem_and_granted_scopes(client, bank):
    _agency, subsystem, key = bank
    response = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id, key))
    body = response.json()
    assert response.status_code == 200 and body["token_type"].lower() == "bearer" and "refresh_token" not in body
    assert body["scope"].split() == ["exchange.batch_verify", "exchange.ekyc", "exchange.events",
                                     "exchange.life_status", "exchange.person_data"]
    row = AgencyToken.objects.get()
    assert row.subsystem == subsystem and row.token_hash != body["access_token"]
    narrow = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id, key),
                           scope="exchange.ekyc").json()
    assert narrow["scope"] == "exchange.ekyc"


def test_scope_not_granted_is_invalid_scope(client, bank):
    _agency, subsystem, key = bank
    Grant.objects.filter(subsystem=subsystem, service="person_data").update(revoked_at=timezone.now())
    response = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id, key),
                             scope="exchange.ekyc exchange.person_data")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert not AgencyToken.objects.exists()


def test_forged_assertion_is_refused(client, bank):
    _agency, subsystem, _key = bank
    forger = ECKey.generate_key("P-256", parameters={"kid": "bank-1"}, private=True)
    response = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id, forger))
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"
    assert not AgencyToken.objects.exists()


def test_replayed_assertion_is_refused(client, bank):
    _agency, subsystem, key = bank
    assertion = client_assertion(subsystem.client.client_id, key)
    assert token_request(client, subsystem.client.client_id, assertion).status_code == 200
    again = token_request(client, subsystem.client.client_id, assertion)
    assert again.status_code in (400, 401) and again.json()["error"] == "invalid_client"
    assert AgencyToken.objects.count() == 1 and ClientAssertionJti.objects.count() == 1


@pytest.mark.parametrize("change", [{"exp_in": -120}, {"exp_in": 3600}, {"aud": "https://evil.example/token"}])
def test_expired_long_lived_or_misaddressed_assertion_is_refused(client, bank, change):
    _agency, subsystem, key = bank
    response = token_request(client, subsystem.client.client_id,
                             client_assertion(subsystem.client.client_id, key, **change))
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_assertion_of_another_client_is_refused(client, bank):
    _agency, _subsystem, key = bank
    _a2, other, _other_key = make_bank(code="bank2")
    # signed with bank's key but claiming to be bank2
    response = token_request(client, other.client.client_id, client_assertion(other.client.client_id, key))
    assert response.json()["error"] == "invalid_client" and not AgencyToken.objects.exists()


def test_relying_party_cannot_use_client_credentials(client, db):
    from popid.identity.oidc import services as oidc

    key = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    rp, _ = oidc.register_client(name="Cổng DVC", redirect_uris=["https://dvc.example/cb"],
                                 token_endpoint_auth_method="private_key_jwt",
                                 jwks={"keys": [key.as_dict(private=False)]})
    response = token_request(client, rp.client_id, client_assertion(rp.client_id, key))
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def test_suspended_agency_gets_no_token_and_its_tokens_stop(client, bank, family):
    agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    manage.set_agency_active(actor=ADMIN, agency=agency, active=False)
    response = call(client, token, "/life-status", {"context": CONTEXT, "id_numbers": [family["an"].id_number]})
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert token_request(client, subsystem.client.client_id,
                         client_assertion(subsystem.client.client_id, key)).status_code == 400


# --- services over HTTP --------------------------------------------------------------------------
def test_ekyc_over_http(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    an = family["an"]
    response = call(client, token, "/ekyc/verify", {
        "context": CONTEXT, "id_number": an.id_number, "full_name": "Nguyễn Văn An", "birth_date": "1990-05-12",
        "attributes": {"sex": "M"}})
    assert response.status_code == 200, response.content
    assert response.json() == {"id_number": an.id_number, "match": True,
                               "attributes": {"full_name": True, "birth_date": True, "sex": True}}
    assert AccessRecord.objects.get(channel="ekyc").actor.startswith("GDV Lê Thu (NV0042)")


def test_token_without_scope_is_403_insufficient_scope(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key, scope="exchange.ekyc")
    response = call(client, token, "/persons/query", {"context": CONTEXT, "id_number": family["an"].id_number,
                                                      "fields": ["full_name"]})
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


def test_missing_or_bad_token_is_401_problem(client, bank):
    response = client.post("/api/v1/exchange/ekyc/verify", {}, content_type="application/json")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert call(client, "nope", "/ekyc/verify", {}).status_code == 401


def test_field_outside_grant_is_precise_problem(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    response = call(client, token, "/persons/query", {"context": CONTEXT, "id_number": family["an"].id_number,
                                                      "fields": ["full_name", "hometown", "marital_status"]})
    body = response.json()
    assert response.status_code == 403 and body["code"] == "field_not_granted"
    assert body["fields"] == ["hometown", "marital_status"] and "full_name" in body["granted"]
    assert not AccessRecord.objects.filter(channel="exchange").exists()


def test_grant_expired_after_token_issue_is_refused(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    Grant.objects.filter(subsystem=subsystem, service="person_data").update(
        valid_from=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(seconds=1))
    response = call(client, token, "/persons/query", {"context": CONTEXT, "id_number": family["an"].id_number,
                                                      "fields": ["full_name"]})
    assert response.status_code == 403 and response.json()["code"] == "grant_expired"


def test_sensitive_without_consent_then_with_consent_over_http(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    an = family["an"]
    body = {"context": CONTEXT, "id_number": an.id_number, "fields": ["full_name", "blood_type"]}
    refused = call(client, token, "/persons/query", body)
    assert refused.status_code == 403 and refused.json()["code"] == "consent_missing"
    created = call(client, token, "/consents", {"context": CONTEXT, "id_number": an.id_number,
                                                "fields": ["blood_type"],
                                                "valid_until": (timezone.now() + timedelta(days=30)).isoformat()})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    ref = created.json()["reference"]
    pending = call(client, token, "/persons/query", {**body, "context": {**CONTEXT, "consent_ref": ref}})
    assert pending.json()["code"] == "consent_pending"
    services.decide_consent(actor=Actor.citizen(id_number=an.id_number, person_id=an.pk),
                            consent_id=DataConsent.objects.get(reference=ref).pk, approve=True)
    assert call(client, token, f"/consents/{ref}", {}, method="get").json()["status"] == "approved"
    released = call(client, token, "/persons/query", body)
    assert released.status_code == 200 and released.json()["consent_ref"] == ref
    assert set(released.json()["fields"]) == {"full_name", "blood_type"}


def test_unknown_body_field_is_422(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    response = call(client, token, "/ekyc/verify", {"context": CONTEXT, "id_number": family["an"].id_number,
                                                    "full_name": "A", "birth_date": "1990", "nickname": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "nickname"


def test_batch_of_1001_is_413_problem(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    items = [{"id_number": family["an"].id_number, "attributes": {"full_name": "Nguyễn Văn An"}}] * 1001
    response = call(client, token, "/ekyc/batch", {"context": CONTEXT, "items": items})
    assert response.status_code == 413 and response.json()["code"] == "batch_too_large"
    ok = call(client, token, "/ekyc/batch", {"context": CONTEXT, "items": items[:1000]})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1000 and ok.json()["results"][0]["match"]


def test_rate_limit_is_429_with_retry_after(client, db, family):
    _agency, subsystem, key = make_bank(rate=1)
    token = get_token(client, subsystem, key)
    body = {"context": CONTEXT, "id_numbers": [family["an"].id_number]}
    assert call(client, token, "/life-status", body).status_code == 200
    response = call(client, token, "/life-status", body)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61


def test_daily_quota_is_429_with_retry_after(client, db, family):
    _agency, subsystem, key = make_bank(quota=1)
    token = get_token(client, subsystem, key)
    body = {"context": CONTEXT, "id_numbers": [family["an"].id_number]}
    assert call(client, token, "/life-status", body).status_code == 200
    response = call(client, token, "/life-status", body)
    assert response.status_code == 429 and response.json()["code"] == "quota_exceeded"
    assert int(response["Retry-After"]) > 0


def test_openapi_lists_the_agency_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/exchange/ekyc/verify" in schema["paths"] and "/api/v1/exchange/ekyc/batch" in schema["paths"]


def test_discovery_lists_client_credentials(client, db):
    assert "client_credentials" in client.get("/.well-known/openid-configuration").json()["grant_types_supported"]


def test_hidden_until_over_http_needs_a_confidential_grant(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    later = (timezone.now() + timedelta(days=60)).replace(microsecond=0)
    body = {"context": {**CONTEXT, "hidden_until": later.isoformat()}, "id_number": family["an"].id_number,
            "fields": ["full_name"]}
    refused = call(client, token, "/persons/query", body)
    assert refused.status_code == 403 and refused.json()["code"] == "confidential_not_allowed"
    Grant.objects.filter(subsystem=subsystem, service="person_data").update(confidential_allowed=True)
    hotcache.invalidate()  # a grant changed in SQL: seen after POPID_HOT_CACHE_SECONDS, at once here
    assert call(client, token, "/persons/query", body).status_code == 200
    assert AccessRecord.objects.get(channel="exchange").hidden_until == later
    past = {**body, "context": {**CONTEXT, "hidden_until": "2020-01-01T00:00:00+07:00"}}
    response = call(client, token, "/persons/query", past)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "context.hidden_until"


def test_life_status_over_http(client, bank, family):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key, scope="exchange.life_status")
    response = call(client, token, "/life-status", {"context": CONTEXT,
                                                    "id_numbers": [family["an"].id_number, "001090999999"]})
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["alive", "unknown"]


def test_consent_status_is_visible_only_to_the_requesting_agency(client, bank, family):
    _agency, subsystem, key = bank
    _a2, other, other_key = make_bank(code="bank2")
    consent = services.request_consent(subsystem=subsystem, rc=services_rc(), id_number=family["an"].id_number,
                                       fields=["phone"], valid_until=timezone.now() + timedelta(days=5))
    mine = call(client, get_token(client, subsystem, key), f"/consents/{consent.reference}", {}, method="get")
    theirs = call(client, get_token(client, other, other_key), f"/consents/{consent.reference}", {}, method="get")
    assert mine.status_code == 200 and theirs.status_code == 404 and theirs.json()["code"] == "consent_not_found"
