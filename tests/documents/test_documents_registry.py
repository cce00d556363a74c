"""Document registries: licence status commands with jurisdiction, roles, versions and history;
the officer pages; the API; demo seeding (the level-2 demo citizen gets a driving licence)."""

from __future__ import annotations

from datetime import date

import pytest

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.documents import services
from popid.documents.demo import seed_documents
from popid.documents.errors import DocumentNotFound, InvalidDocumentState, InvalidLicenceClass
from popid.documents.models import DocumentEvent, DrivingLicence, HealthInsuranceCard, VehicleRegistration
from popid.registry.errors import StaleVersion
from popid.registry.models import OutboxEvent
from tests.conftest import bearer


@pytest.fixture
def licence(family, admin_actor) -> DrivingLicence:
    return services.issue_licence(actor=admin_actor, person=family["an"], number="010111222333",
                                  classes=[{"class": "B", "issued_on": "2015-03-01", "valid_until": "2035-03-01"}],
                                  issued_on=date(2015, 3, 1), valid_until=date(2035, 3, 1), issued_by="CSGT Hà Nội")


def test_suspend_and_reinstate_write_history_and_outbox(licence, actor_hoan_kiem):
    services.suspend_licence(actor=actor_hoan_kiem, number=licence.number, reason="Tước 2 tháng",
                             expected_version=licence.version)
    licence.refresh_from_db()
    assert licence.status == "suspended" and licence.version == 2
    event = OutboxEvent.objects.filter(topic="documents.licence_status").latest("id")
    assert event.aggregate_id == licence.number and event.payload["status"] == "suspended"
    with pytest.raises(InvalidDocumentState):
        services.suspend_licence(actor=actor_hoan_kiem, number=licence.number, reason="Lần hai")
    with pytest.raises(StaleVersion):
        services.reinstate_licence(actor=actor_hoan_kiem, number=licence.number, reason="x", expected_version=1)
    services.reinstate_licence(actor=actor_hoan_kiem, number=licence.number, reason="Hết hạn tước")
    assert list(DocumentEvent.objects.filter(document_number=licence.number).values_list("action", flat=True)) == [
        "reinstate", "suspend", "issue"]


def test_refusals_change_nothing(licence, actor_hcm, supervisor_nation):
    with pytest.raises(DocumentNotFound):  # outside the Sài Gòn officer's jurisdiction: looks missing
        services.suspend_licence(actor=actor_hcm, number=licence.number, reason="x")
    with pytest.raises(PermissionDenied):  # a supervisor reads, never writes
        services.suspend_licence(actor=Actor.for_user(supervisor_nation), number=licence.number, reason="x")
    with pytest.raises(ValidationFailed):
        services.revoke_licence(actor=Actor.system(), number=licence.number, reason="x", legal_ref="")
    licence.refresh_from_db()
    assert licence.status == "active" and licence.version == 1
    assert not OutboxEvent.objects.filter(topic="documents.licence_status").exists()


def test_licence_classes_are_checked(family, admin_actor):
    with pytest.raises(InvalidLicenceClass):
        services.issue_licence(actor=admin_actor, person=family["an"], number="1", classes=[{"class": "Z9",
                               "issued_on": "2020-01-01"}], issued_on=date(2020, 1, 1), valid_until=None,
                               issued_by="x")
    assert not DrivingLicence.objects.exists()


def test_console_pages_and_access_records(client, licence, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    before = AccessRecord.objects.count()
    listing = client.get("/giay-to/")
    assert listing.status_code == 200 and licence.number in listing.content.decode()
    detail = client.get(f"/giay-to/gplx/{licence.number}/")
    assert detail.status_code == 200 and "12 / 12" in detail.content.decode()
    assert AccessRecord.objects.count() == before + 2
    bad = client.post(f"/giay-to/gplx/{licence.number}/tam-giu/", {"reason": "", "version": 1})
    assert bad.status_code == 422
    stale = client.post(f"/giay-to/gplx/{licence.number}/tam-giu/", {"reason": "x", "version": 9})
    assert stale.status_code == 422 and DrivingLicence.objects.get(pk=licence.pk).status == "active"
    ok = client.post(f"/giay-to/gplx/{licence.number}/tam-giu/", {"reason": "Tạm giữ", "version": 1})
    assert ok.status_code == 302 and DrivingLicence.objects.get(pk=licence.pk).status == "suspended"
    client.logout()
    assert client.get("/giay-to/").status_code == 302  # login required


def test_api_reads_and_changes_status(client, licence, officer_hoan_kiem, officer_hcm):
    response = client.get(f"/api/v1/documents/licences/{licence.number}", headers=bearer(officer_hoan_kiem))
    assert response.status_code == 200 and response.json()["points"] == 12
    assert client.get(f"/api/v1/documents/licences/{licence.number}",
                      headers=bearer(officer_hcm)).status_code == 404
    denied = client.post(f"/api/v1/documents/licences/{licence.number}/suspend", {"reason": "x"},
                         content_type="application/json", headers=bearer(officer_hcm))
    assert denied.status_code == 404 and denied["Content-Type"] == "application/problem+json"
    ok = client.post(f"/api/v1/documents/licences/{licence.number}/suspend", {"reason": "Tạm giữ"},
                     content_type="application/json", headers=bearer(officer_hoan_kiem))
    assert ok.status_code == 200 and ok.json()["status"] == "suspended"
    deducted = client.post(f"/api/v1/documents/licences/{licence.number}/deduct-points",
                           {"points": 2, "reason": "Chạy quá tốc độ"}, content_type="application/json",
                           headers=bearer(officer_hoan_kiem))
    assert deducted.status_code == 200 and deducted.json()["points"] == 10
    unknown = client.post(f"/api/v1/documents/licences/{licence.number}/reinstate", {"reason": "x", "bogus": 1},
                          content_type="application/json", headers=bearer(officer_hoan_kiem))
    assert unknown.status_code == 422


def test_seed_gives_demo_citizens_documents_and_is_idempotent(family):
    an = family["an"]
    counts = seed_documents(demo_id_numbers=[an.id_number])
    licence = DrivingLicence.objects.get(person=an)
    assert {"A1", "B"} <= set(licence.class_codes) and licence.points == 12
    assert VehicleRegistration.objects.filter(owner=an).exists()
    assert HealthInsuranceCard.objects.filter(person=an).exists()
    assert not DrivingLicence.objects.filter(person=family["khoi"]).exists()  # a child has no licence
    assert counts["licences"] >= 1
    assert seed_documents(demo_id_numbers=[an.id_number]) == {"licences": 0, "vehicles": 0, "health_cards": 0}




def test_person_documents_page_is_jurisdiction_checked(client, family, officer_hoan_kiem, officer_hcm):
    an = family["an"]
    seed_documents(demo_id_numbers=[an.id_number])
    client.force_login(officer_hoan_kiem)
    before = AccessRecord.objects.count()
    page = client.get(f"/giay-to/cong-dan/{an.id_number}/")
    body = page.content.decode()
    assert page.status_code == 200 and "person-vehicles" in body and "person-health-cards" in body
    assert VehicleRegistration.objects.get(owner=an).chassis_number in body
    assert AccessRecord.objects.count() == before + 2  # the registry read and the documents read
    client.force_login(officer_hcm)
    assert client.get(f"/giay-to/cong-dan/{an.id_number}/").status_code == 404


def test_points_are_deducted_and_restored_after_twelve_months(licence, actor_hoan_kiem, client, officer_hoan_kiem):
    from datetime import timedelta

    from django.utils import timezone

    services.deduct_points(actor=actor_hoan_kiem, number=licence.number, points=4, reason="Vượt đèn đỏ")
    licence.refresh_from_db()
    assert (licence.points, licence.current_points, licence.last_deducted_on) == (8, 8, timezone.localdate())
    services.deduct_points(actor=actor_hoan_kiem, number=licence.number, points=10, reason="Nồng độ cồn")
    licence.refresh_from_db()
    assert licence.current_points == 0  # never below zero
    assert licence.points_on(licence.last_deducted_on + timedelta(days=364)) == 0
    assert licence.points_on(licence.last_deducted_on + timedelta(days=366)) == 12
    DrivingLicence.objects.filter(pk=licence.pk).update(last_deducted_on=date(2020, 1, 1), points=2)
    services.deduct_points(actor=actor_hoan_kiem, number=licence.number, points=2, reason="Không đội mũ bảo hiểm")
    licence.refresh_from_db()
    assert licence.points == 10  # restored to 12 first, then 2 deducted
    with pytest.raises(ValidationFailed):
        services.deduct_points(actor=actor_hoan_kiem, number=licence.number, points=13, reason="x")
    client.force_login(officer_hoan_kiem)
    response = client.post(f"/giay-to/gplx/{licence.number}/tru-diem/",
                           {"deduct-points": 3, "deduct-reason": "Đi sai làn", "deduct-legal_ref": "",
                            "deduct-version": licence.version})
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.points == 7
    assert "Trừ điểm" in client.get(f"/giay-to/gplx/{licence.number}/").content.decode()
