"""Police operations (issue #15): crime reports from the public (logged in or anonymous with a
tracking code), intake by the commune unit with the art. 147 deadline, case files whose person
look-ups are sealed in the access log until the case's seal date, evidence with a hash-chained
chain of custody — and each bad input or attack refused with nothing changed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.models import AccessRecord
from popid.identity.models import CitizenAccount
from popid.ledger.selectors import access_history
from popid.police import citizen_views, selectors, services
from popid.police.errors import CaseNotFound, InvalidReportState
from popid.police.models import Case, CaseOpening, CasePerson, CustodyRecord, Report, ReportAttachment, ReportState
from tests.conftest import HOAN_KIEM, make_staff
from tests.police.helpers import triggers_off

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
TEXT = "Xe máy của tôi bị lấy trộm trước cửa nhà số 5 Hàng Gai lúc 22 giờ."


@pytest.fixture(autouse=True)
def _clean_cache(db):  # the default cache is the database cache
    cache.clear()
    yield
    cache.clear()


def form(**overrides):
    data = {"category_code": "trom-cap", "commune_code": HOAN_KIEM, "occurred_at": "2026-01-05T22:00",
            "description": TEXT, "latitude": "21.028500", "longitude": "105.852000"}
    data.update(overrides)
    return data


def citizen_client(person) -> tuple[Client, CitizenAccount]:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-thu-nghiem-1")
    account = CitizenAccount.objects.create(user=user, person=person, level=1, phone="0912345678")
    client = Client()
    client.force_login(user)
    session = client.session
    session["popid_acr"] = "level-1"
    session.save()
    return client, account


def file_report(**kwargs) -> tuple[Report, str]:
    args = {"anonymous": True, "category_code": "trom-cap", "commune_code": HOAN_KIEM,
            "occurred_at": timezone.now() - timedelta(days=1), "description": TEXT}
    args.update(kwargs)
    return services.submit_report(**args)


# --- reports from the public ---------------------------------------------------------------------
def test_anonymous_report_gets_a_receipt_and_follows_it_by_code_without_internal_notes(client, actor_hoan_kiem):
    upload = SimpleUploadedFile("anh.png", PNG, content_type="image/png")
    response = client.post("/to-giac/", {**form(), "attachments": [upload]})
    assert response.status_code == 201
    body = response.content.decode()
    code = re.search(r'id="tracking-code">([^<]+)<', body).group(1)
    report = Report.objects.get()
    assert report.anonymous and report.reporter_account is None and report.attachments.count() == 1
    assert report.tracking_hash == services.hash_code(code) and code not in report.tracking_hash
    assert report.code in body
    services.classify(actor=actor_hoan_kiem, code=report.code, category_code="trom-cap",
                      note="Nghi vấn đối tượng Tư ở ngõ 12")
    services.assign(actor=actor_hoan_kiem, code=report.code, username="cb.hoankiem")
    status = client.post("/to-giac/tra-cuu/", {"tracking_code": code})
    assert status.status_code == 200
    page = status.content.decode()
    assert report.code in page and "Đang giải quyết" in page and "phân công cán bộ" in page
    assert "Nghi vấn đối tượng" not in page and "cb.hoankiem" not in page


def test_logged_in_citizen_report_is_in_my_reports_and_not_in_anothers(family):
    an, _account = citizen_client(family["an"])
    assert an.post("/to-giac/", form()).status_code == 201
    report = Report.objects.get()
    assert report.reporter_account is not None and not report.anonymous
    assert report.code in an.get("/to-giac/cua-toi/").content.decode()
    assert an.get(f"/to-giac/cua-toi/{report.code}/").status_code == 200
    binh, _ = citizen_client(family["binh"])
    assert binh.get(f"/to-giac/cua-toi/{report.code}/").status_code == 404
    assert report.code not in binh.get("/to-giac/cua-toi/").content.decode()
    an.post("/to-giac/", {**form(), "anonymous": "on"})
    assert Report.objects.filter(anonymous=True, reporter_account=None).count() == 1


def test_my_reports_requires_the_national_account(client):
    response = client.get("/to-giac/cua-toi/")
    assert response.status_code == 302 and "/tai-khoan/" in response["Location"]


@pytest.mark.parametrize("overrides, field_message", [
    ({"description": ""}, "Cần mô tả sự việc"),
    ({"commune_code": "99999"}, "Xã/phường không tồn tại"),
    ({"latitude": "95.000000"}, "Tọa độ không hợp lệ"),
    ({"longitude": ""}, "Cần cả vĩ độ và kinh độ"),
    ({"occurred_at": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}, "ở tương lai"),
])
def test_bad_reports_are_refused_with_a_message_and_nothing_saved(client, db, overrides, field_message):
    response = client.post("/to-giac/", form(**overrides))
    assert response.status_code == 422
    assert field_message in response.content.decode()
    assert not Report.objects.exists()


def test_empty_report_is_refused(client, db):
    response = client.post("/to-giac/", {})
    assert response.status_code == 422 and not Report.objects.exists()
    with pytest.raises(ValidationFailed):
        file_report(description="   ")
    assert not Report.objects.exists()


def test_attachment_that_is_not_an_image_or_pdf_is_refused(client, db):
    upload = SimpleUploadedFile("virus.png", b"MZ\x90\x00 not a png", content_type="image/png")
    response = client.post("/to-giac/", {**form(), "attachments": [upload]})
    assert response.status_code == 422 and "không phải PDF, PNG hoặc JPEG" in response.content.decode()
    assert not Report.objects.exists() and not ReportAttachment.objects.exists()


class _NeverRead(TemporaryUploadedFile):
    def read(self, *args):  # an oversized upload must be refused before anything is read
        raise AssertionError("the oversized upload was read")


def test_a_100_mb_attachment_is_refused_from_its_size_before_it_is_read(db):
    upload = _NeverRead("video.png", "image/png", 100 * 1024 * 1024, None)
    upload.file.truncate(100 * 1024 * 1024)  # sparse: 100 MB on disk as far as the upload knows
    with pytest.raises(ValidationFailed) as exc:
        citizen_views._attachments([upload])
    assert exc.value.errors()[0]["reason"] == "too_large" and "10 MB" in exc.value.errors()[0]["message"]
    upload.close()


def test_oversized_attachment_on_the_page_is_refused_cleanly(client, db, monkeypatch):
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024)
    upload = SimpleUploadedFile("anh.png", PNG + b"\0" * 2048, content_type="image/png")
    response = client.post("/to-giac/", {**form(), "attachments": [upload]})
    assert response.status_code == 422 and "vượt quá" in response.content.decode()
    assert not Report.objects.exists()


def test_a_guessed_tracking_code_reveals_nothing_and_guessing_is_rate_limited(client, db):
    report, code = file_report()
    guess = client.post("/to-giac/tra-cuu/", {"tracking_code": code[:-2] + ("AA" if code[-2:] != "AA" else "BB")})
    assert guess.status_code == 404
    assert report.code not in guess.content.decode() and "Không tìm thấy" in guess.content.decode()
    assert client.post("/to-giac/tra-cuu/", {"tracking_code": "x"}).status_code == 404
    # the receipt number is not a key
    assert client.post("/to-giac/tra-cuu/", {"tracking_code": report.code}).status_code == 404
    assert client.post("/to-giac/tra-cuu/", {"tracking_code": "A" * 32}).status_code == 404
    blocked = client.post("/to-giac/tra-cuu/", {"tracking_code": code})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    assert report.code not in blocked.content.decode()
    other_ip = Client(REMOTE_ADDR="10.9.9.9")
    assert other_ip.post("/to-giac/tra-cuu/", {"tracking_code": code}).status_code == 200


def test_tracking_codes_are_unguessable(db):
    codes = {file_report()[1] for _ in range(5)}
    assert len(codes) == 5 and all(len(c) >= 32 for c in codes)


# --- intake ----------------------------------------------------------------------------------------
def test_queue_per_commune_unit_and_another_unit_cannot_open_the_report(client, officer_hoan_kiem, officer_hcm):
    report, _ = file_report()
    client.force_login(officer_hoan_kiem)
    assert report.code in client.get("/cong-an/tin-bao/").content.decode()
    other = Client()
    other.force_login(officer_hcm)
    assert report.code not in other.get("/cong-an/tin-bao/").content.decode()
    assert other.get(f"/cong-an/tin-bao/{report.code}/").status_code == 404
    response = other.post(f"/cong-an/tin-bao/{report.code}/classify/", {"category_code": "lua-dao"})
    assert response.status_code == 404
    assert Report.objects.get().category_code == "trom-cap"


def test_officer_records_a_report_taken_by_phone_within_the_unit_only(client, officer_hoan_kiem, officer_hcm):
    client.force_login(officer_hoan_kiem)
    response = client.post("/cong-an/tin-bao/moi/", {**form(), "channel": "phone"})
    assert response.status_code == 201 and 'id="tracking-code"' in response.content.decode()
    report = Report.objects.get()
    assert report.channel == "phone" and report.events.get().actor == "cb.hoankiem"
    other = Client()
    other.force_login(officer_hcm)
    refused = other.post("/cong-an/tin-bao/moi/", {**form(), "channel": "counter"})
    assert refused.status_code == 403 and Report.objects.count() == 1
    assert client.post("/cong-an/tin-bao/moi/", {**form(description=""), "channel": "counter"}).status_code == 422
    assert Report.objects.count() == 1


def test_officer_downloads_an_attachment_of_their_unit_only(client, officer_hoan_kiem, officer_hcm):
    report, _ = file_report(attachments=[services.Attachment(name="anh.png", content_type="image/png",
                                                             content=PNG)])
    item = report.attachments.get()
    client.force_login(officer_hoan_kiem)
    url = f"/cong-an/tin-bao/{report.code}/tep/{item.pk}/"
    assert url in client.get(f"/cong-an/tin-bao/{report.code}/").content.decode()
    response = client.get(f"/cong-an/tin-bao/{report.code}/tep/{item.pk}/")
    assert response.status_code == 200 and response.content == PNG
    assert response["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/cong-an/tin-bao/{report.code}/tep/{item.pk + 1}/").status_code == 404
    other = Client()
    other.force_login(officer_hcm)
    assert other.get(f"/cong-an/tin-bao/{report.code}/tep/{item.pk}/").status_code == 404


def test_art_147_deadline_with_two_extensions_and_no_third(actor_hoan_kiem):
    report, _ = file_report()
    received = timezone.localdate(report.received_at)
    assert services.deadline(report) == received + timedelta(days=20)
    services.extend_deadline(actor=actor_hoan_kiem, code=report.code, reason="Cần xác minh nhiều nơi")
    assert services.deadline(Report.objects.get()) == received + relativedelta(months=2)
    services.extend_deadline(actor=actor_hoan_kiem, code=report.code, reason="Viện kiểm sát gia hạn")
    assert services.deadline(Report.objects.get()) == received + relativedelta(months=4)
    with pytest.raises(InvalidReportState):
        services.extend_deadline(actor=actor_hoan_kiem, code=report.code, reason="lần ba")
    assert Report.objects.get().extensions == 2


def test_officer_pages_classify_assign_decide_with_legal_reference(client, officer_hoan_kiem):
    report, code = file_report()
    client.force_login(officer_hoan_kiem)
    page = client.get(f"/cong-an/tin-bao/{report.code}/").content.decode()
    assert (timezone.localdate(report.received_at) + timedelta(days=20)).strftime("%d/%m/%Y") in page
    assert client.post(f"/cong-an/tin-bao/{report.code}/classify/",
                       {"category_code": "lua-dao", "note": "ghi chú"}).status_code == 302
    bad = client.post(f"/cong-an/tin-bao/{report.code}/assign/", {"username": "khong.ton.tai"})
    assert bad.status_code == 422 and "Không có cán bộ này" in bad.content.decode()
    assert client.post(f"/cong-an/tin-bao/{report.code}/assign/", {"username": "cb.hoankiem"}).status_code == 302
    assert client.post(f"/cong-an/tin-bao/{report.code}/decide/", {"outcome_code": "khong-khoi-to"}).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED and report.category_code == "lua-dao"
    assert "Điều 157" in report.outcome_legal_ref
    status = Client().post("/to-giac/tra-cuu/", {"tracking_code": code}).content.decode()
    assert "Quyết định không khởi tố vụ án hình sự" in status and "ghi chú" not in status
    again = client.post(f"/cong-an/tin-bao/{report.code}/extend/", {"reason": "muộn"})
    assert again.status_code == 422 and Report.objects.get().extensions == 0


def test_transfer_to_the_province_moves_the_report_out_of_the_commune_queue(actor_hoan_kiem, officer_hanoi_province):
    report, _ = file_report()
    services.transfer_to_province(actor=actor_hoan_kiem, code=report.code, note="Vượt thẩm quyền")
    report.refresh_from_db()
    assert report.unit_code == "01" and report.state == ReportState.TRANSFERRED
    assert not selectors.report_queue(actor=actor_hoan_kiem).exists()
    assert list(selectors.report_queue(actor=Actor.for_user(officer_hanoi_province))) == [report]


# --- case files and the sealed access log ----------------------------------------------------------
def _case(actor, **kwargs) -> Case:
    report, _ = file_report()
    return services.open_case(actor=actor, report_code=report.code, title="Trộm cắp xe máy", **kwargs)


def test_person_look_ups_for_a_case_are_sealed_until_the_seal_date(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    suspect = family["binh"]
    services.link_person(actor=actor_hoan_kiem, number=case.number, id_number=suspect.id_number, role="suspect")
    record = AccessRecord.objects.get(person_id_number=suspect.id_number, purpose__contains=case.number)
    assert record.hidden_until == case.sealed_until and record.legal_basis.startswith("BLTTHS")
    assert case.sealed_until > timezone.now() + timedelta(days=100)
    during = access_history(person=suspect)
    assert not any(case.number in row.record.purpose for row in during.rows)
    after = access_history(person=suspect, now=case.sealed_until + timedelta(seconds=1))
    assert any(case.number in row.record.purpose for row in after.rows)


def test_link_to_a_non_existent_id_number_is_refused_and_leaves_nothing(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    before = AccessRecord.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.link_person(actor=actor_hoan_kiem, number=case.number, id_number="001090000000", role="suspect")
    assert exc.value.errors()[0]["field"] == "id_number"
    assert not CasePerson.objects.exists() and AccessRecord.objects.count() == before


def test_case_page_link_person_and_refusal(client, family, officer_hoan_kiem):
    case = _case(Actor.for_user(officer_hoan_kiem))
    client.force_login(officer_hoan_kiem)
    bad = client.post(f"/cong-an/vu-viec/{case.number}/link-person/", {"id_number": "12345", "role": "victim"})
    assert bad.status_code == 422 and "Không có công dân" in bad.content.decode()
    ok = client.post(f"/cong-an/vu-viec/{case.number}/link-person/",
                     {"id_number": family["an"].id_number, "role": "victim"})
    assert ok.status_code == 302
    assert "Nguyễn Văn An" in client.get(f"/cong-an/vu-viec/{case.number}/").content.decode()


def test_officer_of_another_unit_cannot_open_the_case(actor_hoan_kiem, actor_hcm, client, officer_hcm):
    case = _case(actor_hoan_kiem)
    with pytest.raises(CaseNotFound):
        selectors.case_for(actor=actor_hcm, number=case.number)
    client.force_login(officer_hcm)
    assert client.get(f"/cong-an/vu-viec/{case.number}/").status_code == 404
    assert case.number not in client.get("/cong-an/vu-viec/").content.decode()
    assert not CaseOpening.objects.filter(allowed=True, actor="cb.saigon").exists()
    assert CaseOpening.objects.filter(allowed=False, actor="cb.saigon").count() == 2


def test_secret_case_only_for_assigned_investigators_and_the_supervisor_audits(
        actor_hoan_kiem, supervisor_nation, client):
    colleague = Actor.for_user(make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM,
                                          unit_name="Công an phường Hoàn Kiếm"))
    case = _case(actor_hoan_kiem, confidentiality="secret")
    assert selectors.case_for(actor=actor_hoan_kiem, number=case.number) == case
    with pytest.raises(CaseNotFound):
        selectors.case_for(actor=colleague, number=case.number)
    assert case not in selectors.cases_for(actor=colleague)
    normal = _case(actor_hoan_kiem)
    assert selectors.case_for(actor=colleague, number=normal.number) == normal  # same unit, normal case
    services.add_investigator(actor=actor_hoan_kiem, number=case.number, username="cb.hoankiem2")
    assert selectors.case_for(actor=colleague, number=case.number) == case
    client.force_login(supervisor_nation)
    page = client.get("/cong-an/giam-sat/").content.decode()
    assert page.count(case.number) == 3 and "cb.hoankiem2" in page and "Bị từ chối" in page
    officer = Client()
    officer.force_login(get_user_model().objects.get(username="cb.hoankiem2"))
    assert officer.get("/cong-an/giam-sat/").status_code == 403


def test_closing_the_case_unseals_its_look_ups_at_once(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    suspect = family["binh"]
    services.link_person(actor=actor_hoan_kiem, number=case.number, id_number=suspect.id_number, role="suspect")
    assert not any(case.number in row.record.purpose for row in access_history(person=suspect).rows)
    services.close_case(actor=actor_hoan_kiem, number=case.number)
    rows = [row for row in access_history(person=suspect).rows if case.number in row.record.purpose]
    assert [row.record.purpose for row in rows] == [f"Giải quyết vụ việc {case.number}"]
    record = rows[0].record
    assert record.hidden_until == case.sealed_until and record.hidden_until > timezone.now()  # unchanged record
    assert rows[0].proof is not None or access_history(person=suspect).checkpoint is None


def test_closed_case_takes_no_more_links(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    services.close_case(actor=actor_hoan_kiem, number=case.number)
    with pytest.raises(Exception, match="đã đóng"):
        services.link_person(actor=actor_hoan_kiem, number=case.number, id_number=family["an"].id_number,
                             role="witness")
    assert not CasePerson.objects.exists()


# --- chain of custody ------------------------------------------------------------------------------
def test_custody_chain_verifies_and_an_edited_row_is_named(actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    services.record_evidence(actor=actor_hoan_kiem, number=case.number, label="VC-01",
                             description="Điện thoại Samsung", holder="cb.hoankiem")
    services.hand_over(actor=actor_hoan_kiem, number=case.number, label="VC-01", to_holder="Kho vật chứng",
                       purpose="Lưu kho")
    services.hand_over(actor=actor_hoan_kiem, number=case.number, label="VC-01", to_holder="Viện khoa học hình sự",
                       purpose="Giám định")
    records = list(CustodyRecord.objects.order_by("seq"))
    assert [r.from_holder for r in records] == ["", "cb.hoankiem", "Kho vật chứng"]
    assert records[1].prev_hash == records[0].hash and records[2].prev_hash == records[1].hash
    assert services.verify_custody() == (3, [])
    out = StringIO()
    call_command("police", "verify-custody", stdout=out)
    assert "3 record(s) verified" in out.getvalue()

    with triggers_off("police_custodyrecord"):
        CustodyRecord.objects.filter(seq=2).update(to_holder="Nhà riêng cán bộ")
    count, problems = services.verify_custody()
    assert count == 3 and [(p.seq, p.reason) for p in problems] == [(2, "content does not match its hash")]
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("police", "verify-custody", stdout=StringIO(), stderr=err)
    assert "seq=2" in err.getvalue()


def test_custody_row_with_recomputed_hash_breaks_the_next_link(actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    services.record_evidence(actor=actor_hoan_kiem, number=case.number, label="VC-01", description="Dao",
                             holder="cb.hoankiem")
    services.hand_over(actor=actor_hoan_kiem, number=case.number, label="VC-01", to_holder="Kho", purpose="Lưu kho")
    first = CustodyRecord.objects.get(seq=1)
    first.to_holder = "người khác"
    forged = services.custody_hash(first, case_number=case.number, label="VC-01")
    with triggers_off("police_custodyrecord"):
        CustodyRecord.objects.filter(seq=1).update(to_holder="người khác", hash=forged)
    assert [(p.seq, p.reason) for p in services.verify_custody()[1]] == [
        (2, "prev_hash does not match the previous record")]
    with triggers_off("police_custodyrecord"):
        CustodyRecord.objects.filter(seq=1).delete()
    assert any(p.seq == 2 and "missing" in p.reason for p in services.verify_custody()[1])


def test_bad_evidence_input_changes_nothing(actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    with pytest.raises(ValidationFailed):
        services.record_evidence(actor=actor_hoan_kiem, number=case.number, label="VC-01", description="Dao",
                                 holder="  ")
    with pytest.raises(ValidationFailed):
        services.hand_over(actor=actor_hoan_kiem, number=case.number, label="VC-99", to_holder="Kho", purpose="x")
    assert not CustodyRecord.objects.exists()


def test_demo_seeding_creates_reports_and_a_case(family, officer_hoan_kiem):
    from popid.police.demo import ensure_demo_police

    lines = ensure_demo_police()
    assert Report.objects.count() == 3 and Case.objects.count() == 2
    assert CustodyRecord.objects.count() == 2 and services.verify_custody()[1] == []
    secret = Case.objects.get(confidentiality="secret")
    assert secret.documents.count() == 1 and secret.notes.count() == 1 and secret.report.extensions == 1
    assert secret.persons.get().method == "matcher"  # the suspect linked through the matcher
    assert any("Hồ sơ vụ việc" in line for line in lines)
    ensure_demo_police()
    assert Report.objects.count() == 3


def test_deadline_date_helper_is_a_date(db):
    report, _ = file_report()
    assert isinstance(services.deadline(report), date)
