"""Officer console pages for public-service dossiers: the unit's queue, the dossier page and the
claim / supplement / approve / reject forms (optimistic locking, errors write nothing), the
jurisdiction rule and the demo dossiers of ``popid seed``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from popid.registry.models import HistoryEntry, Residence, ResidenceKind
from popid.services.models import Dossier, DossierEvent, DossierState
from tests.conftest import HCM_COMMUNE
from tests.services.test_services_workflow import _submitted, make_account
from tests.web.test_web import assert_no_inline_code

S = DossierState


@pytest.fixture
def officer_client(client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    return client


@pytest.fixture
def dossier(family) -> Dossier:
    return _submitted(make_account(family["an"]))


def act(client, d: Dossier, action: str, **fields):
    data = {f"{action}-version": str(fields.pop("version", d.version))}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    return client.post(reverse("services:dossier_action", args=[d.code, action]), data)


def test_queue_shows_only_the_units_dossiers_with_deadline_classes(officer_client, dossier, family):
    other = _submitted(make_account(family["binh"]), commune_code=HCM_COMMUNE)
    response = officer_client.get(reverse("services:dossier_queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert dossier.code in html and other.code not in html
    assert "deadline-on_time" in html or "deadline-due_soon" in html
    assert "Hồ sơ dịch vụ công" in html
    assert_no_inline_code(html)
    filtered = officer_client.get(reverse("services:dossier_queue"), {"state": "approved"}).content.decode()
    assert dossier.code not in filtered


def test_detail_shows_data_attachments_and_history(officer_client, dossier):
    html = officer_client.get(reverse("services:dossier_detail", args=[dossier.code])).content.decode()
    assert "Đăng ký tạm trú" in html and "5 Hàng Gai" in html
    attachment = dossier.attachments.get()
    assert reverse("services:dossier_attachment", args=[dossier.code, attachment.pk]) in html
    assert 'name="claim-version"' in html
    download = officer_client.get(reverse("services:dossier_attachment", args=[dossier.code, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert_no_inline_code(html)


def test_claim_then_approve_through_the_forms_updates_the_registry(officer_client, dossier, family):
    response = act(officer_client, dossier, "claim")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.IN_REVIEW
    page = officer_client.get(response["Location"]).content.decode()
    assert "Đã nhận xử lý hồ sơ" in page
    response = act(officer_client, dossier, "approve", note="Đủ điều kiện")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.APPROVED
    residence = Residence.objects.get(person=family["an"], kind=ResidenceKind.TEMPORARY, ended_on__isnull=True)
    assert residence.address == "5 Hàng Gai"
    assert HistoryEntry.objects.filter(person=family["an"], command="register_temporary_residence").exists()


def test_reject_without_reason_shows_the_error_and_changes_nothing(officer_client, dossier):
    events = DossierEvent.objects.count()
    response = act(officer_client, dossier, "reject", reason="  ")
    assert response.status_code == 422
    assert "Cần ghi lý do từ chối" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.state == S.SUBMITTED and dossier.version == 1
    assert DossierEvent.objects.count() == events


def test_request_supplement_requires_a_note_then_succeeds(officer_client, dossier):
    act(officer_client, dossier, "claim")
    dossier.refresh_from_db()
    assert act(officer_client, dossier, "request-supplement", note="").status_code == 422
    response = act(officer_client, dossier, "request-supplement", note="Bổ sung hợp đồng")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.SUPPLEMENT_REQUESTED


def test_reject_with_reason(officer_client, dossier):
    assert act(officer_client, dossier, "reject", reason="Giấy tờ giả").status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.REJECTED and dossier.decision_note == "Giấy tờ giả"


def test_stale_version_shows_the_conflict(officer_client, dossier):
    response = act(officer_client, dossier, "claim", version=7)
    assert response.status_code == 409
    assert "Hồ sơ đã được người khác thay đổi" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.state == S.SUBMITTED and dossier.version == 1


def test_officer_of_another_unit_gets_404(client, officer_hcm, dossier):
    client.force_login(officer_hcm)
    assert client.get(reverse("services:dossier_detail", args=[dossier.code])).status_code == 404
    attachment = dossier.attachments.get()
    assert client.get(reverse("services:dossier_attachment", args=[dossier.code, attachment.pk])).status_code == 404
    assert act(client, dossier, "claim").status_code == 404
    assert dossier.code not in client.get(reverse("services:dossier_queue")).content.decode()
    dossier.refresh_from_db()
    assert dossier.state == S.SUBMITTED


def test_actions_require_csrf(officer_hoan_kiem, dossier):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer_hoan_kiem)
    assert act(client, dossier, "claim").status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == S.SUBMITTED


def test_pages_require_login(client, dossier):
    response = client.get(reverse("services:dossier_queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


@pytest.mark.django_db
def test_seed_creates_demo_dossiers_in_every_state_and_is_idempotent(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed", persons=300, seed=3, no_progress=True)
    current = Dossier.objects.filter(procedure_code="temporary_residence")  # the history behind statistics aside
    states = {(d.commune_code, d.state) for d in current}
    units = {code for code, _state in states}
    assert "00070" in units and len(units) == 2
    for unit in units:
        for state in (S.SUBMITTED, S.IN_REVIEW, S.SUPPLEMENT_REQUESTED, S.APPROVED, S.REJECTED):
            assert (unit, state) in states
    approved = current.filter(state=S.APPROVED, commune_code="00070").get()
    assert Residence.objects.filter(person=approved.subject, kind=ResidenceKind.TEMPORARY, commune_code="00070",
                                    ended_on__isnull=True).exists()
    assert current.filter(commune_code="00070", state=S.SUBMITTED, deadline__lt=approved.received_at.date()
                          ).exists()  # an overdue one
    count = Dossier.objects.count()
    call_command("seed", persons=300, if_empty=True, no_progress=True)
    call_command("seed", persons=0, no_progress=True)
    assert Dossier.objects.count() == count
