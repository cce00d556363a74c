"""Residence cards as their own record (bad input refused, nothing written), visas capped at 90
days single or multiple entry, overstays that follow a residence card, and the watch list through
the probabilistic matcher: names in another order or with diacritics, a birth date with day and
month swapped, hits in the officers' review queue, every guest compared in the access ledger."""

from __future__ import annotations

from datetime import date

import pytest

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.immigration import errors, screening, services
from popid.immigration.models import OverstayAlert, TemporaryResidenceCard, Visa, WatchHit, WatchScreening
from tests.conftest import HOAN_KIEM, bearer
from tests.immigration.fixtures import NOW, guest_mrz, hotels_fixture, hours_ago  # noqa: F401

pytestmark = pytest.mark.django_db
API = "/api/v1/immigration"


def arrive(h, lines=None, *, at=None, visa=None, code="ks-hoan-kiem", declarant=None):
    return services.declare_arrival(declarant=declarant or h["declarant"], establishment_code=code,
                                    guest=services.guest_from_mrz(lines or guest_mrz()),
                                    arrival_at=at or hours_ago(2), room="1", visa=visa, now=NOW)


def card(**overrides):
    values = {"nationality": "FRA", "document_number": "X1234567", "number": "TT0012345", "purpose": "LĐ1",
              "valid_from": date(2026, 12, 1), "valid_until": date(2028, 11, 30),
              "issuing_unit": "Cục Quản lý xuất nhập cảnh", "commune_code": HOAN_KIEM, "address": "1 Hàng Khay"}
    values.update(overrides)
    return values


# --- residence cards ------------------------------------------------------------------------------
def test_residence_card_is_its_own_record(hotels, admin_actor):
    arrive(hotels)
    issued = services.issue_residence_card(actor=admin_actor, **card())
    assert issued.person.surname == "DUPONT" and issued.purpose == "LĐ1" and issued.province_code
    assert not Visa.objects.filter(kind="trc").exists()


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"number": "x"}, "number", "invalid"),
    ({"number": "TT-001/2"}, "number", "invalid"),
    ({"purpose": "DL"}, "purpose", "invalid"),  # a tourist visa symbol gives no residence card
    ({"valid_until": date(2026, 11, 30)}, "valid_until", "invalid"),  # ends before it starts
    ({"valid_until": date(2029, 12, 2)}, "valid_until", "too_long"),  # LĐ1: at most 2 years
    ({"purpose": "ĐT1", "valid_until": date(2030, 4, 15)}, "valid_until", "passport_validity"),  # passport 2030-05-01
    ({"issuing_unit": "  "}, "issuing_unit", "required"),
    ({"kind": "forever"}, "kind", "invalid"),
])
def test_residence_card_bad_input_changes_nothing(hotels, admin_actor, change, field, reason):
    arrive(hotels)
    with pytest.raises(ValidationFailed) as caught:
        services.issue_residence_card(actor=admin_actor, **card(**change))
    assert (field, reason) in [(e["field"], e["reason"]) for e in caught.value.errors()]
    assert not TemporaryResidenceCard.objects.exists()


def test_residence_card_other_refusals(hotels, admin_actor, actor_hcm):
    with pytest.raises(errors.ForeignPersonNotFound):  # nobody known under that passport
        services.issue_residence_card(actor=admin_actor, **card())
    arrive(hotels)
    with pytest.raises(ValidationFailed):
        services.issue_residence_card(actor=admin_actor, **card(commune_code="99999"))
    with pytest.raises(PermissionDenied):  # outside the officer's jurisdiction
        services.issue_residence_card(actor=actor_hcm, **card())
    services.issue_residence_card(actor=admin_actor, **card())
    with pytest.raises(ValidationFailed) as duplicate:
        services.issue_residence_card(actor=admin_actor, **card())
    assert duplicate.value.errors()[0]["reason"] == "duplicate"
    assert TemporaryResidenceCard.objects.count() == 1


def test_residence_card_api(client, hotels, officer_hoan_kiem, officer_hcm):
    arrive(hotels)
    body = {**card(), "valid_from": "2026-12-01", "valid_until": "2028-11-30"}
    auth = bearer(officer_hoan_kiem)["Authorization"]
    other = client.post(f"{API}/residence-cards", body, content_type="application/json",
                        HTTP_AUTHORIZATION=bearer(officer_hcm)["Authorization"])
    assert other.status_code == 403 and not TemporaryResidenceCard.objects.exists()
    bad = client.post(f"{API}/residence-cards", {**body, "valid_until": "2031-01-01"}, content_type="application/json",
                      HTTP_AUTHORIZATION=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "valid_until"
    unknown = client.post(f"{API}/residence-cards", {**body, "colour": "blue"}, content_type="application/json",
                          HTTP_AUTHORIZATION=auth)
    assert unknown.status_code == 422
    made = client.post(f"{API}/residence-cards", body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert made.status_code == 201 and made.json()["number"] == "TT0012345"
    history = client.post(f"{API}/persons/lookup", {"nationality": "FRA", "document_number": "X1234567"},
                          content_type="application/json", HTTP_AUTHORIZATION=auth).json()
    assert [c["number"] for c in history["residence_cards"]] == ["TT0012345"]


def test_overstay_follows_the_latest_permission_visa_or_card(hotels, admin_actor):
    visa = services.VisaIn(number="EV9", valid_from=date(2026, 11, 1), valid_until=date(2026, 12, 10),
                           entries="multiple")
    stay = arrive(hotels, visa=visa)
    services.issue_residence_card(actor=admin_actor, **card(valid_from=date(2026, 12, 5),
                                                            valid_until=date(2026, 12, 20), number="TT77777"))
    assert services.compute_overstays(today=date(2026, 12, 15)).created == 0  # the card still runs
    result = services.compute_overstays(today=date(2026, 12, 22))
    alert = OverstayAlert.objects.get()
    assert result.created == 1 and alert.residence_card.number == "TT77777" and alert.visa is None
    assert alert.stay == stay and alert.days_over == 2 and alert.valid_until == date(2026, 12, 20)
    assert services.compute_overstays(today=date(2026, 12, 23)).created == 0  # idempotent


# --- visas ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["visa", "e_visa", "exemption"])
@pytest.mark.parametrize("entries", ["single", "multiple"])
def test_visas_up_to_90_days(hotels, kind, entries):
    too_long = services.VisaIn(number="V1", kind=kind, entries=entries, valid_from=date(2026, 12, 1),
                               valid_until=date(2027, 3, 1))  # 91 days
    with pytest.raises(errors.InvalidVisa):
        arrive(hotels, visa=too_long)
    assert not Visa.objects.exists()
    ninety = services.VisaIn(number="V1", kind=kind, entries=entries, valid_from=date(2026, 12, 1),
                             valid_until=date(2027, 2, 28))
    arrive(hotels, visa=ninety)
    assert Visa.objects.get().entries == entries


def test_visa_bad_entries_or_card_as_visa_refused(hotels):
    for visa in (services.VisaIn(number="V1", valid_until=date(2026, 12, 30), entries="twice"),
                 services.VisaIn(number="V1", valid_until=date(2026, 12, 30), kind="trc")):
        with pytest.raises(errors.InvalidVisa):
            arrive(hotels, visa=visa)
    assert not Visa.objects.exists()


# --- the watch list through the matcher ---------------------------------------------------------------
def test_matcher_finds_what_exact_rules_miss(hotels, admin_actor):
    # the list has the name in another order, with diacritics, and the birth day/month swapped
    entry = services.add_watch_entry(actor=admin_actor, nationality="FRA", surname="Marie",
                                     given_names="Dupônt", birth_date=date(1988, 2, 3), reason="Truy nã")
    far = services.add_watch_entry(actor=admin_actor, nationality="FRA", surname="DUPONT", given_names="MARIE",
                                   birth_date=date(1950, 7, 7), reason="Người khác cùng tên")
    stay = arrive(hotels, guest_mrz(birth=date(1988, 3, 2)))  # DUPONT MARIE, 1988-03-02
    other = arrive(hotels, guest_mrz("Z7654321", surname="SMITH", given="JOHN", nationality="GBR"))
    assert not WatchHit.objects.exists()  # the exact check saw nothing
    before = AccessRecord.objects.count()
    result = screening.screen_new_stays()
    assert (result.guests, result.entries, result.hits) == (2, 2, 1)
    hit = WatchHit.objects.get()
    assert hit.entry == entry and hit.stay == stay and hit.matched_on == "matcher" and hit.score >= 0.5
    levels = {e["comparison"]: e["level"] for e in hit.evidence}
    assert levels["name"] == "same words in another order" and levels["birth"] == "day and month swapped"
    assert levels["nationality"] == "same nationality"
    assert far.pk not in set(WatchHit.objects.values_list("entry_id", flat=True))  # same name, other birth date
    keys = set(AccessRecord.objects.order_by("pk")[before:].values_list("person_id_number", flat=True))
    assert keys == {"FRAX1234567", f"GBR{other.document.number}"}
    assert screening.screen_new_stays().guests == 0  # the cursor moved: nobody compared twice
    assert WatchScreening.objects.get().hits == 1


def test_new_entry_is_screened_against_guests_present(hotels, admin_actor):
    stay = arrive(hotels, guest_mrz(surname="MULLER", given="HANS PETER", nationality="AUT"))
    arrive(hotels, guest_mrz("Y1111111"), code="nn-cua-nam", declarant=hotels["other_declarant"])
    services.declare_departure(declarant=hotels["other_declarant"], establishment_code="nn-cua-nam",
                               nationality="FRA", document_number="Y1111111", departure_at=hours_ago(1), now=NOW)
    entry = services.add_watch_entry(actor=admin_actor, nationality="AUT", surname="Müller",
                                     given_names="Hans-Peter", birth_date=date(1988, 3, 14), reason="Cảnh báo")
    result = screening.screen_present_against(entry, actor=Actor.system("test"))
    assert result.guests == 1 and result.hits == 1  # the departed guest is not compared
    hit = WatchHit.objects.get()
    assert hit.stay == stay and hit.commune_code == HOAN_KIEM


def test_exact_hit_is_not_duplicated_by_the_matcher(hotels, admin_actor):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", document_number="X1234567", surname="Dupont",
                             given_names="Marie", birth_date=date(1988, 3, 14), reason="Truy nã")
    arrive(hotels)
    assert WatchHit.objects.get().matched_on == "document"
    assert screening.screen_new_stays().hits == 0
    assert WatchHit.objects.count() == 1


def test_review_queue_api_by_jurisdiction(client, hotels, admin_actor, officer_hoan_kiem, officer_hcm):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", surname="DUPONT MARIE", reason="Truy nã",
                             birth_date=date(1988, 3, 14))
    arrive(hotels)
    screening.screen_new_stays()
    auth = bearer(officer_hoan_kiem)["Authorization"]
    queue = client.get(f"{API}/watch-hits", HTTP_AUTHORIZATION=auth).json()
    assert len(queue) == 1 and queue[0]["stay"]["document_number"] == "X1234567" and queue[0]["evidence"]
    hit_id = queue[0]["hit_id"]
    assert AccessRecord.objects.filter(actor="cb.hoankiem", person_id_number="FRAX1234567").exists()
    assert client.get(f"{API}/watch-hits", HTTP_AUTHORIZATION=bearer(officer_hcm)["Authorization"]).json() == []
    foreign = client.post(f"{API}/watch-hits/{hit_id}/review", {"note": "Đã xác minh"},
                          content_type="application/json", HTTP_AUTHORIZATION=bearer(officer_hcm)["Authorization"])
    assert foreign.status_code == 404
    empty = client.post(f"{API}/watch-hits/{hit_id}/review", {"note": ""}, content_type="application/json",
                        HTTP_AUTHORIZATION=auth)
    assert empty.status_code == 422 and WatchHit.objects.get().status == "open"
    done = client.post(f"{API}/watch-hits/{hit_id}/review", {"note": "Không phải đối tượng"},
                       content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert done.status_code == 200 and done.json()["status"] == "reviewed"
    assert client.get(f"{API}/watch-hits", HTTP_AUTHORIZATION=auth).json() == []


def test_console_shows_matcher_hits_with_their_score(client, hotels, admin_actor, officer_hoan_kiem):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", surname="MARIE", given_names="DUPONT",
                             reason="Truy nã", birth_date=date(1988, 3, 14))
    arrive(hotels)
    screening.screen_new_stays()
    client.force_login(officer_hoan_kiem)
    page = client.get("/xuat-nhap-canh/").content.decode()
    assert 'data-hit-matched="matcher"' in page and "same words in another order" in page
