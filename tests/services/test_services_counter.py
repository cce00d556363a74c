"""Counter intake: an officer registers a dossier received in person. Rule for non-residents:
procedures processed where the person registers accept a subject registered anywhere (read by ID
number, the read recorded with its purpose) while the dossier stays in the officer's unit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.registry.errors import PersonNotFound
from popid.registry.models import Residence, ResidenceKind
from popid.services import dossiers
from popid.services.errors import DossierNotFound
from popid.services.models import Dossier, DossierState
from tests.conftest import HCM_COMMUNE, HOAN_KIEM, bearer
from tests.services.test_services_workflow import PDF, make_account, temp_data
from tests.web.test_web import assert_no_inline_code


def _files():
    return [dossiers.IncomingFile("proof_of_residence", "hop-dong.pdf", PDF, "application/pdf")]


def test_resident_dossier_at_the_counter(family, actor_hoan_kiem):
    an = family["an"]
    account = make_account(an)
    dossier = dossiers.register_counter_dossier(actor=actor_hoan_kiem, procedure_code="temporary_residence",
                                                subject_id_number=an.id_number, data=temp_data(), attachments=_files())
    assert dossier.channel == "counter" and dossier.fee == 15000 and dossier.commune_code == HOAN_KIEM
    assert dossier.received_by == "cb.hoankiem" and dossier.applicant == account
    assert dossier.data["full_name"] == "Nguyễn Văn An"  # from the registry, not typed
    assert dossier.events.get().actor == "cb.hoankiem"


def test_non_resident_is_accepted_where_they_register_and_stays_in_that_unit(family, actor_hcm, actor_hoan_kiem):
    an = family["an"]  # permanent resident of Hoàn Kiếm, registering a temporary residence in Sài Gòn
    dossier = dossiers.register_counter_dossier(
        actor=actor_hcm, procedure_code="temporary_residence", subject_id_number=an.id_number,
        data=temp_data(commune_code=HCM_COMMUNE, address="12 Đồng Khởi"), attachments=_files())
    assert dossier.commune_code == HCM_COMMUNE and dossier.province_code == "79"
    assert dossier.data["permanent_address"] == "12 Hàng Bạc"
    record = AccessRecord.objects.get(person_id_number=an.id_number, actor="cb.saigon")
    assert record.channel == "counter" and "nơi đăng ký cư trú" in record.purpose
    assert set(record.fields) >= {"id_number", "full_name", "permanent_address"}
    # the home unit neither sees nor acts on it
    with pytest.raises(DossierNotFound):
        dossiers.claim(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    with pytest.raises(DossierNotFound):
        dossiers.reject(actor=actor_hoan_kiem, code=dossier.code, reason="x", expected_version=dossier.version)
    # the receiving unit processes it, and approval registers the temporary residence
    dossier = dossiers.claim(actor=actor_hcm, code=dossier.code, expected_version=dossier.version)
    dossier = dossiers.approve(actor=actor_hcm, code=dossier.code, expected_version=dossier.version)
    assert dossier.state == DossierState.APPROVED
    residence = Residence.objects.get(person=an, kind=ResidenceKind.TEMPORARY, ended_on__isnull=True)
    assert residence.commune_code == HCM_COMMUNE and residence.address == "12 Đồng Khởi"


def test_target_outside_the_unit_is_refused_before_any_read(family, actor_hoan_kiem):
    an = family["an"]
    with pytest.raises(PermissionDenied) as caught:
        dossiers.register_counter_dossier(actor=actor_hoan_kiem, procedure_code="temporary_residence",
                                          subject_id_number=an.id_number,
                                          data=temp_data(commune_code=HCM_COMMUNE), attachments=_files())
    assert caught.value.errors()[0]["field"] == "data.commune_code"
    assert not AccessRecord.objects.filter(actor="cb.hoankiem").exists()
    assert not Dossier.objects.exists()


def test_procedures_of_the_residence_commune_need_a_resident(family, actor_hcm, actor_hoan_kiem):
    an = family["an"]
    with pytest.raises(PersonNotFound):
        dossiers.register_counter_dossier(actor=actor_hcm, procedure_code="residence_confirmation",
                                          subject_id_number=an.id_number, data={"purpose": "Nộp hồ sơ xin việc"})
    assert not Dossier.objects.exists()
    dossier = dossiers.register_counter_dossier(actor=actor_hoan_kiem, procedure_code="residence_confirmation",
                                                subject_id_number=an.id_number, data={"purpose": "Xin việc"})
    assert dossier.commune_code == HOAN_KIEM and dossier.fee == 0


@pytest.mark.parametrize(("id_number", "error"), [("001099999999", PersonNotFound), ("12ab", ValidationFailed)])
def test_unknown_or_malformed_id_number(family, actor_hcm, id_number, error):
    with pytest.raises(error):
        dossiers.register_counter_dossier(actor=actor_hcm, procedure_code="temporary_residence",
                                          subject_id_number=id_number, data=temp_data(commune_code=HCM_COMMUNE),
                                          attachments=_files())
    assert not Dossier.objects.exists()


def test_missing_attachment_changes_nothing(family, actor_hcm):
    with pytest.raises(ValidationFailed):
        dossiers.register_counter_dossier(actor=actor_hcm, procedure_code="temporary_residence",
                                          subject_id_number=family["an"].id_number,
                                          data=temp_data(commune_code=HCM_COMMUNE))
    assert not Dossier.objects.exists()


def test_api_counter_for_a_non_resident(client, family, officer_hcm, officer_hoan_kiem):
    import base64

    body = {"procedure": "temporary_residence", "subject_id_number": family["binh"].id_number,
            "data": temp_data(commune_code=HCM_COMMUNE),
            "attachments": [{"kind": "proof_of_residence", "name": "a.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(PDF).decode()}]}
    response = client.post("/api/v1/services/officer/counter", body, content_type="application/json",
                           headers=bearer(officer_hcm))
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    assert response.json()["channel"] == "counter"
    hidden = client.get(f"/api/v1/services/officer/dossiers/{code}", headers=bearer(officer_hoan_kiem))
    assert hidden.status_code == 404


# --- console form --------------------------------------------------------------------------------
def test_console_form_registers_a_dossier(client, family, officer_hcm):
    client.force_login(officer_hcm)
    url = reverse("services:counter_intake")
    page = client.get(url, {"procedure": "temporary_residence"})
    html = page.content.decode()
    assert page.status_code == 200 and 'name="data.address"' in html and 'name="data.full_name"' not in html
    assert f'value="{HCM_COMMUNE}"' in html and 'enctype="multipart/form-data"' in html
    assert_no_inline_code(html)
    start = date.today()
    response = client.post(f"{url}?procedure=temporary_residence", {
        "id_number": family["an"].id_number, "data.commune_code": HCM_COMMUNE, "data.address": "3 Lê Lợi",
        "data.valid_from": start.isoformat(), "data.valid_until": (start + timedelta(days=90)).isoformat(),
        "data.reason": "Công tác", "attachments.proof_of_residence": SimpleUploadedFile(
            "hop-dong.pdf", PDF, content_type="application/pdf")})
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("services:dossier_detail", args=[dossier.code])
    assert dossier.channel == "counter" and dossier.data["address"] == "3 Lê Lợi"
    assert dossier.attachments.get().size == len(PDF)


def test_console_form_shows_refusals_next_to_the_field(client, family, officer_hcm):
    client.force_login(officer_hcm)
    url = reverse("services:counter_intake") + "?procedure=temporary_residence"
    start = date.today()
    response = client.post(url, {
        "id_number": family["an"].id_number, "data.commune_code": HOAN_KIEM, "data.address": "3 Lê Lợi",
        "data.valid_from": start.isoformat(), "data.valid_until": (start + timedelta(days=90)).isoformat(),
        "attachments.proof_of_residence": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 422
    assert "Hồ sơ thuộc thẩm quyền của đơn vị khác" in response.content.decode()
    response = client.post(url, {
        "id_number": family["an"].id_number, "data.commune_code": HCM_COMMUNE, "data.address": "3 Lê Lợi",
        "data.valid_from": start.isoformat(), "data.valid_until": (start + timedelta(days=90)).isoformat(),
        "attachments.proof_of_residence": SimpleUploadedFile("a.png", b"not a png", content_type="image/png")})
    assert response.status_code == 422 and "Chỉ chấp nhận" in response.content.decode()
    assert not Dossier.objects.exists()


def test_read_only_staff_cannot_open_the_counter(client, family, supervisor_nation):
    client.force_login(supervisor_nation)
    assert client.get(reverse("services:counter_intake")).status_code == 403
