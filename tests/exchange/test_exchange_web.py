"""Console pages for agencies (administrators only), the citizen's consent page, and officers
reading outside their jurisdiction (issue #5)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.core.models import AccessRecord
from popid.exchange import services
from popid.exchange.models import Agency, ConsentStatus, DataConsent, Grant, Subsystem
from tests.conftest import bearer, make_staff
from tests.exchange.test_exchange_services import _clear_cache, make_bank, rc  # noqa: F401
from tests.identity.test_oidc_flow import browser_login, make_account


@pytest.fixture
def admin(db):
    return make_staff("qt.chiase", role="admin", level="nation", unit_name="Cục Cảnh sát QLHC về TTXH")


def test_admin_manages_agency_subsystem_and_grant_in_the_console(client, admin):
    client.force_login(admin)
    assert client.get("/chia-se/quan-tri/").status_code == 200
    response = client.post("/chia-se/quan-tri/", {"code": "bhxh", "name": "Bảo hiểm xã hội Việt Nam",
                                                  "kind": "ministry", "rate_per_minute": 100, "daily_quota": 5000})
    assert response.status_code == 302 and response["Location"] == "/chia-se/quan-tri/co-quan/bhxh/"
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "bhxh-1"})
    response = client.post("/chia-se/quan-tri/co-quan/bhxh/", {
        "action": "subsystem", "sub-code": "chi-tra", "sub-name": "Hệ thống chi trả",
        "sub-jwk": json.dumps(key.as_dict(private=False))})
    assert response.status_code == 302
    subsystem = Subsystem.objects.get(code="chi-tra")
    assert subsystem.client.jwks["keys"][0]["kid"] == "bhxh-1" and subsystem.client.redirect_uris == []
    response = client.post("/chia-se/quan-tri/co-quan/bhxh/", {
        "action": "grant", "grant-subsystem": str(subsystem.pk), "grant-service": "life_status",
        "grant-legal_basis": "Luật Bảo hiểm xã hội 2024", "grant-expires_on": "2030-12-31"})
    assert response.status_code == 302
    grant = Grant.objects.get(subsystem=subsystem)
    assert grant.fields == ["life_status"]
    page = client.get("/chia-se/quan-tri/co-quan/bhxh/")
    assert "Luật Bảo hiểm xã hội 2024".encode() in page.content
    assert client.post("/chia-se/quan-tri/co-quan/bhxh/", {"action": "revoke", "grant": grant.pk}).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    client.post("/chia-se/quan-tri/co-quan/bhxh/", {"action": "suspend"})
    assert not Agency.objects.get(code="bhxh").is_active


def test_console_shows_errors_and_changes_nothing(client, admin):
    client.force_login(admin)
    client.post("/chia-se/quan-tri/", {"code": "bank", "name": "Ngân hàng", "rate_per_minute": 10, "daily_quota": 10})
    response = client.post("/chia-se/quan-tri/co-quan/bank/", {
        "action": "subsystem", "sub-code": "core", "sub-name": "Lõi",
        "sub-jwk": json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=True))})
    assert response.status_code == 422 and not Subsystem.objects.exists()
    assert "khóa bí mật".encode() in response.content
    duplicate = client.post("/chia-se/quan-tri/", {"code": "bank", "name": "Khác", "rate_per_minute": 1,
                                                   "daily_quota": 1})
    assert duplicate.status_code == 422 and Agency.objects.count() == 1


def test_console_form_needs_csrf(admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    assert browser.post("/chia-se/quan-tri/", {"code": "x1", "name": "X", "rate_per_minute": 1,
                                               "daily_quota": 1}).status_code == 403
    assert not Agency.objects.exists()


def test_officers_cannot_manage_agencies(client, officer_hoan_kiem, supervisor_nation):
    for user in (officer_hoan_kiem, supervisor_nation):
        client.force_login(user)
        assert client.get("/chia-se/quan-tri/").status_code == 403
        assert client.post("/chia-se/quan-tri/", {"code": "x1", "name": "X", "rate_per_minute": 1,
                                                  "daily_quota": 1}).status_code == 403
    assert not Agency.objects.exists()


def test_officer_reading_outside_jurisdiction_is_refused_and_leaves_no_access(client, family, officer_hcm):
    an = family["an"]
    before = AccessRecord.objects.filter(person_id_number=an.id_number).count()
    response = client.get(f"/api/v1/persons/{an.id_number}", **{"HTTP_" + k.upper(): v
                                                                 for k, v in bearer(officer_hcm).items()})
    assert response.status_code == 404 and response.json()["code"] == "person_not_found"
    client.force_login(officer_hcm)
    assert client.get(f"/persons/{an.id_number}/").status_code == 404
    assert AccessRecord.objects.filter(person_id_number=an.id_number).count() == before


def test_citizen_approves_refuses_and_revokes_in_the_portal(client, family):
    _agency, subsystem, _key = make_bank()
    an = family["an"]
    first = services.request_consent(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["blood_type"],
                                     valid_until=timezone.now() + timedelta(days=30))
    second = services.request_consent(subsystem=subsystem, rc=rc(purpose="Tiếp thị"), id_number=an.id_number,
                                      fields=["phone"], valid_until=timezone.now() + timedelta(days=30))
    assert client.get("/chia-se/dong-y/").status_code == 302  # login first
    browser_login(client, make_account(an))
    page = client.get("/chia-se/dong-y/")
    assert page.status_code == 200 and first.reference.encode() in page.content
    assert "Nhóm máu".encode() in page.content and "Ngân hàng thử nghiệm".encode() in page.content
    client.post("/chia-se/dong-y/", {"consent": first.pk, "decision": "approve"})
    client.post("/chia-se/dong-y/", {"consent": second.pk, "decision": "refuse"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ConsentStatus.APPROVED and second.status == ConsentStatus.REFUSED
    data = services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["blood_type"])
    assert data["consent_ref"] == first.reference
    client.post("/chia-se/dong-y/", {"consent": first.pk, "decision": "revoke"})
    first.refresh_from_db()
    assert first.status == ConsentStatus.REVOKED


def test_citizen_cannot_decide_someone_elses_request(client, family):
    _agency, subsystem, _key = make_bank()
    consent = services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                       fields=["phone"], valid_until=timezone.now() + timedelta(days=30))
    browser_login(client, make_account(family["binh"]))
    page = client.get("/chia-se/dong-y/")
    assert consent.reference.encode() not in page.content
    response = client.post("/chia-se/dong-y/", {"consent": consent.pk, "decision": "approve"}, follow=True)
    assert "Không có yêu cầu đồng ý này".encode() in response.content
    assert DataConsent.objects.get(pk=consent.pk).status == ConsentStatus.PENDING


def test_dead_letter_page_lists_nothing_personal(client, admin):
    client.force_login(admin)
    page = client.get("/chia-se/quan-tri/thu-loi/")
    assert page.status_code == 200 and "Không có thư lỗi".encode() in page.content


def test_consent_request_notifies_the_citizen_by_sms(family, settings, tmp_path, django_capture_on_commit_callbacks):
    from popid.core import messaging

    settings.DATA_DIR = tmp_path
    _agency, subsystem, _key = make_bank()
    account = make_account(family["an"])
    with django_capture_on_commit_callbacks(execute=True):
        consent = services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                           fields=["blood_type"], valid_until=timezone.now() + timedelta(days=30))
    [sms] = messaging.read_outbox(to=account.phone)
    assert consent.reference in sms["text"] and "Nhóm máu" in sms["text"] and "/chia-se/dong-y/" in sms["text"]
    assert family["an"].id_number not in sms["text"]
