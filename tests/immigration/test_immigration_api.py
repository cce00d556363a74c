"""Immigration API: property-management systems declare with a client_credentials token and the
``accommodation`` grant; officers read foreigners present, a person's history and overstays, each
look-up in the access records; every refusal is RFC 9457 problem JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.core.access import Actor
from popid.core.models import AccessRecord
from popid.exchange import management_services as manage
from popid.exchange.models import Grant
from popid.immigration import services
from popid.immigration.models import OverstayAlert, Stay
from tests.conftest import bearer
from tests.exchange.test_exchange_api import get_token
from tests.immigration.fixtures import guest_mrz, hotels_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test-admin")
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]


def make_pms(code="pms", *, grant=True):
    key = ECKey.generate_key("P-256", parameters={"kid": f"{code}-1", "alg": "ES256"}, private=True)
    agency = manage.create_agency(actor=ADMIN, code=code, name="Phần mềm quản lý khách sạn", kind="company")
    subsystem = manage.create_subsystem(actor=ADMIN, agency=agency, code="pms", name="PMS",
                                        jwks={"keys": [key.as_dict(private=False)]})
    until = timezone.now() + timedelta(days=365)
    if grant:
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="accommodation", legal_basis="Luật 47/2014/QH13",
                            expires_at=until, fields=["full_name"])
    else:
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="life_status", legal_basis="Luật",
                            expires_at=until, fields=[])
    return subsystem, key


def post(client, token, path, body):
    return client.post(f"/api/v1/immigration{path}", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def arrival_body(mrz_text=None, **extra):
    body = {"establishment": "ks-hoan-kiem", "mrz": (mrz_text or guest_mrz()).split("\n"),
            "arrival_at": (timezone.now() - timedelta(hours=1)).isoformat(), "room": "302"}
    return body | extra


@pytest.fixture
def pms(hotels):
    subsystem, key = make_pms()
    hotels["hotel"].subsystem = subsystem
    hotels["hotel"].save()
    return subsystem, key


def test_grant_has_no_registry_fields(pms):
    assert Grant.objects.get(service="accommodation").fields == []


def test_pms_declares_arrival_and_departure(client, pms):
    token = get_token(client, *pms)
    response = post(client, token, "/accommodation/arrivals", arrival_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["document_number"] == "X1234567" and body["late"] is False and body["warnings"] == []
    assert Stay.objects.get().declared_by == "pms:pms/pms"
    departure = post(client, token, "/accommodation/departures", {
        "establishment": "ks-hoan-kiem", "nationality": "FRA", "document_number": "X1234567",
        "departure_at": timezone.now().isoformat()})
    assert departure.status_code == 200 and departure.json()["departure_at"]


def test_typed_guest_without_mrz(client, pms):
    token = get_token(client, *pms)
    body = arrival_body(mrz=None, guest={"nationality": "JPN", "document_number": "TK1234567", "surname": "Tanaka",
                                         "given_names": "Yuki", "sex": "F", "document_expiry": "2030-01-01"},
                        visa={"number": "EV-1", "valid_until": (date.today() + timedelta(days=30)).isoformat()})
    response = post(client, token, "/accommodation/arrivals", body)
    assert response.status_code == 201, response.content


def test_call_without_the_grant_is_refused(client, hotels):
    subsystem, key = make_pms("other", grant=False)
    hotels["hotel"].subsystem = subsystem
    hotels["hotel"].save()
    token = get_token(client, subsystem, key)
    response = post(client, token, "/accommodation/arrivals", arrival_body())
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_scope" and not Stay.objects.exists()


def test_grant_revoked_after_token_is_refused(client, pms):
    token = get_token(client, *pms)
    manage.revoke_grant(actor=ADMIN, grant=Grant.objects.get(service="accommodation"))
    response = post(client, token, "/accommodation/arrivals", arrival_body())
    assert response.status_code == 403 and response.json()["code"] == "service_not_granted"


def test_no_token_is_401(client, hotels):
    response = post(client, "nope", "/accommodation/arrivals", arrival_body())
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_pms_declaring_for_another_establishment_is_refused(client, pms):
    token = get_token(client, *pms)
    response = post(client, token, "/accommodation/arrivals", arrival_body(establishment="nn-cua-nam"))
    assert response.status_code == 403 and response.json()["code"] == "not_establishment_staff"
    assert not Stay.objects.exists()


@pytest.mark.parametrize("body_change,code", [
    ({"mrz": [TD3[0], TD3[1][:-1] + "9"]}, "mrz_invalid"),
    ({"mrz": [TD3[0], TD3[1][:40]]}, "mrz_invalid"),
    ({"mrz": TD3}, "passport_expired"),
    ({"unexpected": 1}, "validation_failed"),
    ({"mrz": None}, "validation_failed"),
])
def test_bad_declarations_are_problems(client, pms, body_change, code):
    token = get_token(client, *pms)
    response = post(client, token, "/accommodation/arrivals", arrival_body() | body_change)
    assert response.status_code in (409, 422) and response.json()["code"] == code
    assert not Stay.objects.exists()


def test_mrz_check_names_the_failed_check(client, officer_hoan_kiem):
    ok = client.post("/api/v1/immigration/mrz/parse", {"mrz": TD3}, content_type="application/json",
                     **{"HTTP_" + k.upper(): v for k, v in bearer(officer_hoan_kiem).items()})
    assert ok.status_code == 200 and ok.json()["document_number"] == "L898902C3"
    bad = client.post("/api/v1/immigration/mrz/parse", {"mrz": [TD3[0], TD3[1][:9] + "7" + TD3[1][10:]]},
                      content_type="application/json",
                      **{"HTTP_" + k.upper(): v for k, v in bearer(officer_hoan_kiem).items()})
    assert bad.status_code == 422 and bad.json()["errors"][0]["reason"] == "document_number_check_digit"


def _officer_get(client, user, path):
    return client.get(f"/api/v1/immigration{path}", HTTP_AUTHORIZATION=bearer(user)["Authorization"])


def test_police_see_present_guests_by_jurisdiction_and_every_lookup_is_recorded(client, hotels, officer_hoan_kiem,
                                                                                officer_hcm):
    services.declare_arrival(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                             guest=services.guest_from_mrz(guest_mrz()),
                             arrival_at=timezone.now() - timedelta(hours=1))
    response = _officer_get(client, officer_hoan_kiem, "/communes/00070/present")
    assert response.status_code == 200 and [s["document_number"] for s in response.json()] == ["X1234567"]
    assert AccessRecord.objects.filter(person_id_number="FRAX1234567", actor="cb.hoankiem").count() == 1
    assert _officer_get(client, officer_hcm, "/communes/00070/present").status_code == 404
    lookup = {"nationality": "FRA", "document_number": "X1234567"}
    history = client.post("/api/v1/immigration/persons/lookup", lookup, content_type="application/json",
                          HTTP_AUTHORIZATION=bearer(officer_hoan_kiem)["Authorization"])
    assert history.status_code == 200 and history.json()["stays"][0]["establishment"] == "ks-hoan-kiem"
    hidden = client.post("/api/v1/immigration/persons/lookup", lookup, content_type="application/json",
                         HTTP_AUTHORIZATION=bearer(officer_hcm)["Authorization"])
    assert hidden.status_code == 404
    assert AccessRecord.objects.filter(person_id_number="FRAX1234567").count() == 2
    counts = _officer_get(client, officer_hoan_kiem, "/present").json()
    assert counts == [{"commune_code": "00070", "commune_name": counts[0]["commune_name"], "present": 1}]


def test_overstay_alerts_api(client, hotels, officer_hoan_kiem, officer_hcm):
    services.declare_arrival(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                             guest=services.guest_from_mrz(guest_mrz()),
                             arrival_at=timezone.now() - timedelta(days=20),
                             visa=services.VisaIn(number="EV7", valid_from=date.today() - timedelta(days=30),
                                                  valid_until=date.today() - timedelta(days=3)))
    services.compute_overstays()
    alerts = _officer_get(client, officer_hoan_kiem, "/overstays").json()
    assert len(alerts) == 1 and alerts[0]["days_over"] == 3
    assert _officer_get(client, officer_hcm, "/overstays").json() == []


# --- border gates -------------------------------------------------------------------------------
def make_border(code="xnc"):
    key = ECKey.generate_key("P-256", parameters={"kid": f"{code}-1", "alg": "ES256"}, private=True)
    agency = manage.create_agency(actor=ADMIN, code=code, name="Cục Quản lý xuất nhập cảnh", kind="ministry")
    subsystem = manage.create_subsystem(actor=ADMIN, agency=agency, code="cua-khau", name="Cửa khẩu",
                                        jwks={"keys": [key.as_dict(private=False)]})
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="border_events", legal_basis="Luật 47/2014/QH13",
                        expires_at=timezone.now() + timedelta(days=30), fields=[])
    return subsystem, key


def test_border_entry_and_exit_end_the_overstay(client, hotels):
    token = get_token(client, *make_border())
    entered = timezone.now() - timedelta(days=20)
    visa = {"number": "EV55", "valid_from": (date.today() - timedelta(days=20)).isoformat(),
            "valid_until": (date.today() - timedelta(days=2)).isoformat()}
    body = {"kind": "entry", "gate": "NOI-BAI", "mrz": guest_mrz().split("\n"), "at": entered.isoformat(),
            "visa": visa}
    response = post(client, token, "/border/events", body)
    assert response.status_code == 201, response.content
    services.declare_arrival(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                             guest=services.guest_from_mrz(guest_mrz()), arrival_at=entered + timedelta(hours=2))
    assert services.compute_overstays().created == 1
    early = post(client, token, "/border/events", body | {"kind": "exit", "at": (entered - timedelta(1)).isoformat()})
    assert early.status_code == 422 and early.json()["code"] == "border_event_order"
    left = post(client, token, "/border/events", body | {"kind": "exit", "at": timezone.now().isoformat(),
                                                         "visa": None})
    assert left.status_code == 201
    OverstayAlert.objects.all().delete()
    assert services.compute_overstays().created == 0  # left the country: no alert


def test_border_entry_with_expired_passport_refused(client, hotels):
    token = get_token(client, *make_border())
    body = {"kind": "entry", "gate": "NOI-BAI", "mrz": guest_mrz(expiry=date(2025, 1, 1)).split("\n"),
            "at": timezone.now().isoformat()}
    response = post(client, token, "/border/events", body)
    assert response.status_code == 422 and response.json()["code"] == "passport_expired"


def test_border_events_need_their_grant(client, pms):
    token = get_token(client, *pms)  # accommodation grant only
    body = {"kind": "entry", "gate": "NOI-BAI", "mrz": guest_mrz().split("\n"), "at": timezone.now().isoformat()}
    response = post(client, token, "/border/events", body)
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


# --- batches of up to 100 arrivals ------------------------------------------------------------------
def test_batch_takes_good_items_and_reports_bad_ones_by_position(client, pms):
    token = get_token(client, *pms)
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    items = [{"mrz": guest_mrz(f"B{i:07d}").split("\n"), "arrival_at": at, "room": str(i)} for i in range(100)]
    bad_mrz = guest_mrz("B0000003").split("\n")
    items[3]["mrz"] = [bad_mrz[0], bad_mrz[1][:-1] + ("1" if bad_mrz[1][-1] != "1" else "2")]  # composite digit
    items[10]["mrz"] = guest_mrz("B0000010", expiry=date.today() - timedelta(days=3)).split("\n")  # expired
    items[20] = {"arrival_at": at}  # neither MRZ nor typed guest
    items[30]["visa"] = {"number": "EV1", "valid_from": "2026-01-01", "valid_until": "2026-06-01"}  # > 90 days
    response = post(client, token, "/accommodation/arrivals/batch", {"establishment": "ks-hoan-kiem",
                                                                     "arrivals": items})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {e["line"]: e["code"] for e in body["errors"]} == {4: "mrz:composite_check_digit", 11: "passport_expired",
                                                               21: "validation_failed", 31: "invalid_visa"}
    assert body["accepted"] == 96 == Stay.objects.count()
    assert not Stay.objects.filter(document__number__in=["B0000003", "B0000010", "B0000030"]).exists()


def test_batch_limits_and_refusals(client, pms, hotels):
    token = get_token(client, *pms)
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    item = {"mrz": guest_mrz().split("\n"), "arrival_at": at}
    too_many = post(client, token, "/accommodation/arrivals/batch", {"establishment": "ks-hoan-kiem",
                                                                        "arrivals": [item] * 101})
    assert too_many.status_code == 422
    other = post(client, token, "/accommodation/arrivals/batch", {"establishment": "nn-cua-nam", "arrivals": [item]})
    assert other.status_code == 403 and other.json()["code"] == "not_establishment_staff"
    outsider, key = make_pms("pms-khac", grant=False)
    no_grant = post(client, get_token(client, outsider, key), "/accommodation/arrivals/batch",
                    {"establishment": "ks-hoan-kiem", "arrivals": [item]})
    assert no_grant.status_code == 403
    assert not Stay.objects.exists()
