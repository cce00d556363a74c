"""Citizen portal pages (/dich-vu-cong/): catalogue, the form generated from the definition with
read-only registry values, uploads, payment through the sandbox bank page, receipt, my dossiers
with timeline and deadline, supplement, cancel, inbox — and every bad input shown as a message
with nothing changed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from popid.identity.models import CitizenAccount, Guardianship
from popid.services import dossiers
from popid.services.models import Dossier, Notification, Payment, SandboxCharge, Submission
from tests.conftest import HOAN_KIEM
from tests.ops.test_ops_tasks import run_worker

PDF = b"%PDF-1.4\n% test\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
BASE = "/dich-vu-cong"


def make_account(person, *, level: int = 1) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-thu-nghiem-1")
    return CitizenAccount.objects.create(user=user, person=person, level=level, phone="0912345678")


def login(client, account: CitizenAccount) -> Client:
    client.force_login(account.user)
    session = client.session
    session["popid_acr"] = "level-2" if account.level == 2 else "level-1"
    session.save()
    return client


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture
def an_account(family):
    return make_account(family["an"])


@pytest.fixture
def an_client(client, an_account):
    return login(client, an_account)


def form_data(**overrides):
    start = date.today()
    data = {"idempotency_key": "form-key-1", "commune_code": HOAN_KIEM, "address": "5 Hàng Gai",
            "valid_from": start.isoformat(), "valid_until": (start + timedelta(days=365)).isoformat(),
            "reason": "Đi làm", "file_proof_of_residence": SimpleUploadedFile("hop-dong.pdf", PDF,
                                                                              content_type="application/pdf")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pay_through_the_sandbox(client, submission_url: str) -> str:
    """Pay on the bank page; returns the final page URL after the return redirect."""
    response = client.post(submission_url, {"action": "pay"})
    assert response.status_code == 302, response.content
    bank = response["Location"]
    assert "/ngan-hang-thu-nghiem/" in bank
    page = client.get(bank)
    assert page.status_code == 200 and "7.000 ₫" in page.content.decode()
    response = client.post(bank, {"decision": "pay"})  # no server to call back here: the return page reconciles
    assert response.status_code == 302
    return client.get(response["Location"])["Location"]


# --- the whole citizen path --------------------------------------------------------------------
def test_pages_require_login(client):
    """All but the public catalogue (test_the_catalogue_is_public_...)."""
    for path in (f"{BASE}/ho-so/", f"{BASE}/thu-tuc/temporary_residence/"):
        response = client.get(path)
        assert response.status_code == 302 and "/tai-khoan/dang-nhap/" in response["Location"], path


def test_catalogue_lists_procedures_with_fees(an_client):
    body = an_client.get(f"{BASE}/").content.decode()
    assert "Đăng ký tạm trú" in body and "7.000 ₫" in body and "Miễn phí" in body
    assert 'href="/dich-vu-cong/"' in body  # the nav link of the citizen layout


def test_form_shows_registry_values_read_only_and_asks_only_the_rest(an_client, family):
    response = an_client.get(f"{BASE}/thu-tuc/temporary_residence/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nguyễn Văn An" in body and family["an"].id_number in body and "12 Hàng Bạc" in body
    assert 'name="full_name"' not in body and 'name="id_number"' not in body
    assert 'name="address"' in body and 'name="file_proof_of_residence"' in body
    assert 'enctype="multipart/form-data"' in body and "csrfmiddlewaretoken" in body


def test_submit_pay_and_receive_a_receipt(an_client, family):
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    submission = Submission.objects.get()
    assert response["Location"] == f"{BASE}/cho-nop/{submission.public_id}/"
    assert submission.data["full_name"] == "Nguyễn Văn An" and not Dossier.objects.exists()
    receipt = pay_through_the_sandbox(an_client, response["Location"])
    dossier = Dossier.objects.get()
    assert receipt == f"{BASE}/ho-so/{dossier.code}/bien-nhan/"
    body = an_client.get(receipt).content.decode()
    assert dossier.code in body and "đã thanh toán" in body
    assert "data-print hidden" in body  # "print or save as PDF", shown by portal.js
    assert SandboxCharge.objects.get().delivery_attempts == 1  # the callback was tried (no server in this test)
    assert Payment.objects.get().state == "paid" and Payment.objects.get().dossier == dossier
    # the same form posted again (double click, back button) gives the same dossier
    again = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data())
    assert again["Location"] == receipt and Dossier.objects.count() == 1


def test_free_procedure_goes_straight_to_the_receipt(an_client):
    response = an_client.post(f"{BASE}/thu-tuc/residence_confirmation/",
                              {"idempotency_key": "ct07-1", "purpose": "Nhập học cho con"})
    dossier = Dossier.objects.get()
    assert response["Location"] == f"{BASE}/ho-so/{dossier.code}/bien-nhan/" and not Payment.objects.exists()


def test_declined_payment_shows_the_message_and_allows_paying_again(an_client):
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data())
    submission_url = response["Location"]
    bank = an_client.post(submission_url, {"action": "pay"})["Location"]
    back = an_client.post(bank, {"decision": "decline"})["Location"]
    page = an_client.get(an_client.get(back)["Location"])
    assert "Thanh toán không thành công" in page.content.decode() and 'value="pay"' in page.content.decode()
    assert not Dossier.objects.exists()
    assert "/ngan-hang-thu-nghiem/" in an_client.post(submission_url, {"action": "pay"})["Location"]
    assert Payment.objects.count() == 2


# --- bad input on the form ---------------------------------------------------------------------
def test_missing_required_field_is_shown_and_nothing_saved(an_client):
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(address=None))
    assert response.status_code == 422
    assert "field-error" in response.content.decode() and not Submission.objects.exists()


def test_commune_that_does_not_exist_is_shown_beside_the_field(an_client):
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(commune_code="99999"))
    assert response.status_code == 422 and not Submission.objects.exists()
    assert re.search(r'has-error">\s*<label for="id_commune_code"', response.content.decode())


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("big.pdf", PDF + b"0" * (5121 * 1024), content_type="application/pdf"), "5120 KB"),
    (SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"), "Chỉ chấp nhận"),
    (SimpleUploadedFile("anh.gif", b"GIF89a\x00\x00", content_type="image/gif"), "Chỉ chấp nhận"),
])
def test_bad_attachments_are_refused_with_a_message(an_client, upload, message):
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(file_proof_of_residence=upload))
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body and re.search(r'has-error">\s*<label for="id_file_proof_of_residence"', body)
    assert not Submission.objects.exists() and not Dossier.objects.exists()


def test_png_attachment_is_accepted(an_client):
    upload = SimpleUploadedFile("so-do.png", PNG, content_type="image/png")
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(file_proof_of_residence=upload))
    assert response.status_code == 302 and Submission.objects.get().attachments.get().content_type == "image/png"


def test_wrong_level_gets_a_clear_message_and_no_form(an_client):
    response = an_client.get(f"{BASE}/thu-tuc/permanent_residence/")
    body = response.content.decode()
    assert "mức độ 2" in body and 'id="not-entitled"' in body and 'name="commune_code"' not in body
    response = an_client.post(f"{BASE}/thu-tuc/permanent_residence/", {"commune_code": HOAN_KIEM})
    assert response.status_code == 403 and not Submission.objects.exists()


def test_guardian_submits_for_a_ward_and_a_non_guardian_cannot(client, family, an_account):
    binh = make_account(family["binh"], level=2)
    khoi = make_account(family["khoi"])
    Guardianship.objects.create(guardian=binh, ward=khoi, kind="parent", valid_from=date(2018, 9, 2))
    binh_client = login(Client(), binh)
    page = binh_client.get(f"{BASE}/thu-tuc/temporary_residence/?cho={khoi.pk}").content.decode()
    assert "Nguyễn Minh Khôi" in page and f'name="cho" value="{khoi.pk}"' in page
    response = binh_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(cho=str(khoi.pk)))
    assert response.status_code == 302
    assert Submission.objects.get().on_behalf_of == khoi
    # An is Khôi's father but holds no guardianship in PopID: refused, nothing saved
    an_client = login(client, an_account)
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(cho=str(khoi.pk), idempotency_key="x"))
    assert response.status_code == 403 and "không phải người giám hộ" in response.content.decode()
    # household split does not allow guardians at all
    page = binh_client.get(f"{BASE}/thu-tuc/household_split/?cho={khoi.pk}").content.decode()
    assert "không cho phép người giám hộ" in page
    assert Submission.objects.count() == 1


def test_forms_require_csrf(an_account):
    client = login(Client(enforce_csrf_checks=True), an_account)
    response = client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data())
    assert response.status_code == 403 and not Submission.objects.exists()


# --- after submission ---------------------------------------------------------------------------
def _dossier(an_account) -> Dossier:
    dossier, _created = dossiers.submit_dossier(
        account=an_account, procedure_code="temporary_residence", data={
            k: v for k, v in form_data().items() if k in {"commune_code", "address", "valid_from", "valid_until"}},
        attachments=[dossiers.IncomingFile("proof_of_residence", "a.pdf", PDF, "application/pdf")])
    return dossier


def test_my_dossiers_detail_timeline_deadline_and_inbox(an_client, an_account, actor_hoan_kiem):
    dossier = _dossier(an_account)
    dossiers.claim(actor=actor_hoan_kiem, code=dossier.code)
    listing = an_client.get(f"{BASE}/ho-so/").content.decode()
    assert dossier.code in listing and "Đang xử lý" in listing
    run_worker()  # the portal's unread count is the notifications app's, written by the outbox consumer
    profile = an_client.get("/tai-khoan/").content.decode()
    assert re.search(r'id="unread-count">2<', profile)  # received + claimed
    detail = an_client.get(f"{BASE}/ho-so/{dossier.code}/").content.decode()
    assert "Quá trình xử lý" in detail and "Cán bộ nhận xử lý" in detail and "ngày làm việc" in detail
    assert Notification.objects.filter(account=an_account, read_at__isnull=True).count() == 0  # read by viewing
    dossiers.request_supplement(actor=actor_hoan_kiem, code=dossier.code, note="Thiếu hợp đồng thuê nhà")
    inbox = an_client.get(f"{BASE}/thong-bao/").content.decode()
    assert "Yêu cầu bổ sung" in inbox and "Thiếu hợp đồng thuê nhà" in inbox
    an_client.post(f"{BASE}/thong-bao/", {})
    assert not Notification.objects.filter(account=an_account, read_at__isnull=True).exists()


def test_answer_a_supplement_request_with_note_and_attachment(an_client, an_account, actor_hoan_kiem):
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=_dossier(an_account).code)
    dossier = dossiers.request_supplement(actor=actor_hoan_kiem, code=dossier.code, note="Thiếu hợp đồng")
    detail = an_client.get(f"{BASE}/ho-so/{dossier.code}/").content.decode()
    assert "Tạm dừng, chờ bổ sung" in detail and "Thiếu hợp đồng" in detail
    url = f"{BASE}/ho-so/{dossier.code}/bo-sung/"
    empty = an_client.post(url, {"supplement-version": dossier.version})
    assert empty.status_code == 422 and Dossier.objects.get().state == "supplement_requested"
    bad = an_client.post(url, {"supplement-version": dossier.version, "supplement-note": "Gửi",
                               "supplement-file_proof_of_residence": SimpleUploadedFile(
                                   "x.gif", b"GIF89a", content_type="image/gif")})
    assert bad.status_code == 422 and "Chỉ chấp nhận" in bad.content.decode()
    assert Dossier.objects.get().attachments.count() == 1
    ok = an_client.post(url, {"supplement-version": dossier.version, "supplement-note": "Gửi hợp đồng thuê",
                              "supplement-file_proof_of_residence": SimpleUploadedFile(
                                  "hd2.pdf", PDF, content_type="application/pdf")})
    assert ok.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == "in_review" and dossier.attachments.count() == 2
    assert dossier.events.last().note == "Gửi hợp đồng thuê"


def test_cancel_and_transitions_not_allowed(an_client, an_account, actor_hoan_kiem):
    dossier = _dossier(an_account)
    stale = an_client.post(f"{BASE}/ho-so/{dossier.code}/huy/", {"cancel-version": dossier.version + 5})
    assert stale.status_code == 409 and Dossier.objects.get().state == "submitted"
    response = an_client.post(f"{BASE}/ho-so/{dossier.code}/huy/", {"cancel-version": dossier.version})
    assert response.status_code == 302 and Dossier.objects.get().state == "cancelled"
    again = an_client.post(f"{BASE}/ho-so/{dossier.code}/huy/", {"cancel-version": dossier.version + 1})
    assert again.status_code == 409 and "Không thể chuyển hồ sơ" in again.content.decode()
    answer = an_client.post(f"{BASE}/ho-so/{dossier.code}/bo-sung/",
                            {"supplement-version": dossier.version + 1, "supplement-note": "x"})
    assert answer.status_code == 302 and Dossier.objects.get().state == "cancelled"


def test_other_citizens_dossier_is_404(client, family, an_account):
    dossier = _dossier(an_account)
    binh_client = login(client, make_account(family["binh"]))
    assert binh_client.get(f"{BASE}/ho-so/{dossier.code}/").status_code == 404
    assert binh_client.post(f"{BASE}/ho-so/{dossier.code}/huy/", {"cancel-version": 1}).status_code == 404
    assert binh_client.get(f"{BASE}/ho-so/{dossier.code}/tep/{dossier.attachments.get().pk}/").status_code == 404
    assert Dossier.objects.get().state == "submitted"


def test_attachment_download_for_the_owner(an_client, an_account):
    dossier = _dossier(an_account)
    response = an_client.get(f"{BASE}/ho-so/{dossier.code}/tep/{dossier.attachments.get().pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_officer_sees_whether_the_fee_was_paid_online(an_client, an_account, officer_hoan_kiem):
    from tests.conftest import bearer

    submission_url = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data())["Location"]
    pay_through_the_sandbox(an_client, submission_url)
    paid = Dossier.objects.get()
    unpaid = _dossier(an_account)  # the direct API path records the fee as owed
    officer = Client()
    officer.force_login(officer_hoan_kiem)
    assert "đã thanh toán trực tuyến" in officer.get(f"/services/dossiers/{paid.code}/").content.decode()
    assert "chưa thanh toán trực tuyến" in officer.get(f"/services/dossiers/{unpaid.code}/").content.decode()
    body = officer.get(f"/api/v1/services/officer/dossiers/{paid.code}", headers=bearer(officer_hoan_kiem)).json()
    assert body["fee_paid_online"] is True and body["paused_working_days"] == 0


# --- issue #19 item 5: a pre-fill is recorded once per draft -------------------------------------
def _prefill_records(person):
    from popid.core.models import AccessRecord

    return AccessRecord.objects.filter(person_id_number=person.id_number, purpose__startswith="Điền sẵn hồ sơ")


def test_a_prefill_is_recorded_once_per_draft_not_once_per_display(an_client, family):
    """Show the form, send it with an error, send it again, pay: one draft, one entry in the
    citizen's access history (before: one per display plus one per intake check)."""
    an = family["an"]
    page = an_client.get(f"{BASE}/thu-tuc/temporary_residence/").content.decode()
    draft = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    assert _prefill_records(an).count() == 1
    invalid = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(idempotency_key=draft, address=None))
    assert invalid.status_code == 422 and f'value="{draft}"' in invalid.content.decode()  # the same draft
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(idempotency_key=draft))
    assert response.status_code == 302
    pay_through_the_sandbox(an_client, response["Location"])
    assert Dossier.objects.get().data["full_name"] == "Nguyễn Văn An"  # the pre-filled values are still used
    records = list(_prefill_records(an))
    assert len(records) == 1 and "full_name" in records[0].fields
    # a new display of the form is a new draft: recorded again, once
    an_client.get(f"{BASE}/thu-tuc/temporary_residence/")
    assert _prefill_records(an).count() == 2


def test_a_draft_submitted_without_a_display_is_still_recorded_once(an_account, family):
    """A submission that never showed the form (API, another channel) reads and records once."""
    data = {"purpose": "Nhập học cho con"}
    dossiers.submit_dossier(account=an_account, procedure_code="residence_confirmation", data=data,
                            idempotency_key="api-draft-1")
    dossiers.submit_dossier(account=an_account, procedure_code="residence_confirmation", data=data,
                            idempotency_key="api-draft-1")  # the same request repeated
    assert _prefill_records(family["an"]).count() == 1


def test_the_catalogue_is_public_and_a_procedure_asks_for_the_login(client, db):
    """Issue #19 item 7: a visitor reads procedures, fees and deadlines before logging in."""
    response = client.get(f"{BASE}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Đăng ký tạm trú" in body and f'href="/tai-khoan/dang-nhap/?next={BASE}/"' in body
    assert "chưa đủ mức độ" not in body  # no account: no entitlement remark
    opened = client.get(f"{BASE}/thu-tuc/temporary_residence/")
    assert opened.status_code == 302 and "next=" in opened["Location"]


def test_the_commune_is_typed_by_its_name(an_client, family):
    """Issue #19 item 7: no number pad; "hoan kiem" without diacritics is the commune 00070."""
    page = an_client.get(f"{BASE}/thu-tuc/temporary_residence/").content.decode()
    field = re.search(r'<input[^>]*name="commune_code"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' not in field and 'list="communes"' in field
    response = an_client.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(commune_code="phuong hoan kiem"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Submission.objects.get().data["commune_code"] == HOAN_KIEM
