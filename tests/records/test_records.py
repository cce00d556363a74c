"""Records digitisation and search (issue #15 items 5–6): uploads checked by content and size,
background OCR (Tesseract, Vietnamese) with retries, person links proposed from the text and
decided by an officer, jurisdiction, accent-free search across digitised pages, reports and cases
(secret cases only for their investigators), the Plan 377 progress, access records, the CLI."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytesseract
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.police import services as police
from popid.records import ocr, pagegen, processing, selectors, services
from popid.records.errors import LinkAlreadyDecided, RecordNotFound, ScanRejected
from popid.records.models import LinkSource, LinkState, OcrState, PersonLink, RecordPage, ScannedRecord
from tests.conftest import HCM_COMMUNE, HOAN_KIEM, bearer, make_staff
from tests.ops.test_ops_tasks import run_worker

SMALL = (8.27, 3.0)  # inches: a strip of a page, enough for a few lines and quick to recognise


def png(lines: list[str], size=SMALL) -> bytes:
    return pagegen.to_bytes(pagegen.render(lines, size_in=size))


def upload(actor: Actor, content: bytes, **kw) -> ScannedRecord:
    fields = {"kind": "household_register", "title": "Sổ hộ khẩu 0125/HK", "original_ref": "HK-0125"} | kw
    return services.upload_record(actor=actor, content=content, file_name="scan.png", **fields)


def with_text(actor: Actor, *texts: str, **kw) -> ScannedRecord:
    """A stored record whose pages have the given text (OCR itself is tested separately)."""
    record = upload(actor, png(["x"]), **kw)
    with transaction.atomic():
        processing.store_pages(ScannedRecord.objects.select_for_update().get(pk=record.pk), list(texts))
    return ScannedRecord.objects.get(pk=record.pk)


# --- OCR -----------------------------------------------------------------------------------------------
def test_ocr_of_a_generated_a4_page_at_300_dpi_reads_the_known_text():
    """Measured on this machine: similarity 1.0 (every character) for this page; the bar is 0.95."""
    pages = ocr.recognise_pages(pagegen.to_bytes(pagegen.render(pagegen.HOUSEHOLD_PAGE)))
    assert len(pages) == 1
    assert pagegen.similarity("\n".join(pagegen.HOUSEHOLD_PAGE), pages[0]) >= 0.95
    assert "Hoàn Kiếm" in pages[0] and "14/02/1961" in pages[0]


def test_a_pdf_scan_is_read_page_by_page():
    first, second = pagegen.render(["Trang thứ nhất: Hàng Gai"], size_in=SMALL), pagegen.render(
        ["Trang thứ hai: Đồng Xuân"], size_in=SMALL)
    import io

    buffer = io.BytesIO()
    first.save(buffer, format="PDF", resolution=300.0, save_all=True, append_images=[second])
    pages = ocr.recognise_pages(buffer.getvalue())
    assert len(pages) == 2
    assert "Hàng Gai" in pages[0] and "Đồng Xuân" in pages[1]


def test_cli_prints_the_text_of_one_scan(tmp_path):
    scan = tmp_path / "trang.png"
    scan.write_bytes(png(["Quyết định xử phạt ngày 15/03/2019"]))
    out = StringIO()
    call_command("records", "ocr", str(scan), stdout=out)
    assert "15/03/2019" in out.getvalue() and "Quyết định" in out.getvalue()


@pytest.mark.parametrize("content", [b"MZ\x90\x00 not a scan", b"<html>%PDF-1.7</html>", "Tôi là văn bản".encode()])
def test_cli_refuses_a_file_that_is_not_a_pdf_or_image(tmp_path, content):
    scan = tmp_path / "trang.pdf"  # the name says PDF; the content decides
    scan.write_bytes(content)
    with pytest.raises(CommandError, match="PDF"):
        call_command("records", "ocr", str(scan), stdout=StringIO())


def test_cli_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("records", "ocr", str(tmp_path / "khong-co.png"))


# --- upload -------------------------------------------------------------------------------------------
def test_upload_stores_the_scan_with_its_digest_and_queues_ocr(actor_hoan_kiem):
    content = png(["Sổ hộ khẩu"])
    record = upload(actor_hoan_kiem, content)
    assert record.content_type == "image/png" and record.size == len(content)
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert record.unit_code == HOAN_KIEM and record.province_code == "01"
    assert record.ocr_state == OcrState.PENDING
    assert DBTaskResult.objects.filter(task_path="popid.records.tasks.ocr_record",
                                       args_kwargs__args=[record.pk]).exists()


@pytest.mark.parametrize(("content", "field"), [
    (b"GIF89a not a scan", "file"),  # an image type we do not take
    (b"PK\x03\x04 a zip named scan.pdf", "file"),
    (b"\x89PNG\r\n\x1a\n truncated", "file"),  # PNG magic, broken body
    (b"%PDF-1.7 truncated", "file"),
    (b"", "file"),
])
def test_bad_scans_are_refused_and_nothing_is_stored(actor_hoan_kiem, content, field):
    with pytest.raises(ScanRejected) as caught:
        upload(actor_hoan_kiem, content)
    assert caught.value.field == field
    assert ScannedRecord.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_oversize_scan_is_refused_before_reading():
    with pytest.raises(ScanRejected, match="30 MB"):
        services.check_upload_size(ocr.MAX_SCAN_BYTES + 1)
    services.check_upload_size(ocr.MAX_SCAN_BYTES)


def test_console_upload_refuses_an_oversize_file_unread(client, officer_hoan_kiem, monkeypatch):
    client.force_login(officer_hoan_kiem)
    monkeypatch.setattr(ocr, "MAX_SCAN_BYTES", 1000)  # a small limit, so the test sends a small file
    big = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, content_type="image/png")
    response = client.post("/cong-an/so-hoa/tai-len/", {"kind": "decision", "title": "Quyết định", "file": big})
    assert response.status_code == 422
    assert "MB" in response.content.decode()
    assert ScannedRecord.objects.count() == 0


def test_console_upload_refuses_a_text_file_named_pdf(client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    fake = SimpleUploadedFile("scan.pdf", "Không phải bản quét".encode(), content_type="application/pdf")
    response = client.post("/cong-an/so-hoa/tai-len/", {"kind": "decision", "title": "Quyết định", "file": fake})
    assert response.status_code == 422
    assert "PDF" in response.content.decode()
    assert ScannedRecord.objects.count() == 0


def test_console_upload_then_redirect_to_the_record(client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    scan = SimpleUploadedFile("so.png", png(["Sổ hộ khẩu"]), content_type="application/octet-stream")
    response = client.post("/cong-an/so-hoa/tai-len/", {"kind": "household_register", "title": "Sổ HK 12",
                                                        "original_ref": "HK-12", "file": scan})
    record = ScannedRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cong-an/so-hoa/{record.pk}/"
    page = client.get(f"/cong-an/so-hoa/{record.pk}/")
    assert page.status_code == 200 and "Sổ HK 12" in page.content.decode()
    download = client.get(f"/cong-an/so-hoa/{record.pk}/tep/")
    assert download["Content-Disposition"].startswith("attachment") and download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("kw", "field"), [
    ({"kind": "novel"}, "kind"), ({"title": "  "}, "title"), ({"original_ref": "x" * 121}, "original_ref"),
    ({"unit_code": "99999"}, "unit_code"), ({"unit_code": HCM_COMMUNE}, "unit_code"),
])
def test_bad_upload_fields_are_refused(actor_hoan_kiem, kw, field):
    with pytest.raises(ValidationFailed) as caught:
        upload(actor_hoan_kiem, png(["x"]), **kw)
    assert caught.value.errors()[0]["field"] == field
    assert ScannedRecord.objects.count() == 0


def test_a_supervisor_may_not_upload(supervisor_nation):
    with pytest.raises(PermissionDenied):
        upload(Actor.for_user(supervisor_nation), png(["x"]), unit_code=HOAN_KIEM)


def test_province_officer_uploads_for_a_commune_of_the_province(officer_hanoi_province):
    record = upload(Actor.for_user(officer_hanoi_province), png(["x"]), unit_code=HOAN_KIEM)
    assert record.unit_code == HOAN_KIEM


# --- background OCR, retries ---------------------------------------------------------------------------
def test_ocr_failure_leaves_the_record_marked_for_retry_then_failed(actor_hoan_kiem, monkeypatch):
    record = upload(actor_hoan_kiem, png(["Quyết định số 27"]))
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")  # OCR host broken
    run_worker(max_tasks=1)
    record.refresh_from_db()
    assert record.ocr_state == OcrState.RETRY and record.ocr_attempts == 1
    assert "records_ocr_failed" in record.ocr_error
    task = DBTaskResult.objects.get(task_path="popid.records.tasks.ocr_record")
    assert task.status == TaskResultStatus.READY and task.run_after > timezone.now()  # retried with back-off
    assert RecordPage.objects.count() == 0
    for _attempt in range(processing.OCR_MAX_ATTEMPTS - 1):  # the rest of the budget, without waiting
        DBTaskResult.objects.filter(pk=task.pk).update(run_after=timezone.now() - timedelta(seconds=1))
        run_worker(max_tasks=1)
    record.refresh_from_db()
    assert record.ocr_state == OcrState.FAILED and record.ocr_attempts == processing.OCR_MAX_ATTEMPTS
    assert DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.FAILED  # a dead letter
    monkeypatch.undo()  # the OCR host repaired: an officer queues it again
    services.retry_ocr(actor=actor_hoan_kiem, pk=record.pk)
    run_worker(max_tasks=1)
    record.refresh_from_db()
    assert record.ocr_state == OcrState.DONE and "27" in record.pages.get().text
    with pytest.raises(ValidationFailed):
        services.retry_ocr(actor=actor_hoan_kiem, pk=record.pk)  # nothing to retry


def test_background_ocr_proposes_registry_persons_and_an_officer_decides(family, actor_hoan_kiem):
    an, binh = family["an"], family["binh"]
    lines = ["SỔ ĐĂNG KÝ HỘ KHẨU", "Họ và tên chủ hộ: Nguyễn Văn An", "Sinh ngày: 12/05/1990, giới tính: Nam",
             f"Vợ: số định danh {binh.id_number}", "Người ở nhờ: số định danh 001099000001"]
    record = upload(actor_hoan_kiem, png(lines, size=(8.27, 3.5)))
    run_worker()
    record.refresh_from_db()
    assert record.ocr_state == OcrState.DONE and record.page_count == 1
    assert "Nguyễn Văn An" in record.pages.get().text
    links = {link.person_id: link for link in PersonLink.objects.filter(record=record)}
    assert set(links) == {an.pk, binh.pk}  # the unknown number is not proposed
    assert links[an.pk].source == LinkSource.NAME_BIRTH and links[an.pk].score > 0.95  # Splink probability
    assert links[binh.pk].source == LinkSource.ID_NUMBER
    services.decide_link(actor=actor_hoan_kiem, record_pk=record.pk, link_pk=links[an.pk].pk, decision="confirm")
    services.decide_link(actor=actor_hoan_kiem, record_pk=record.pk, link_pk=links[binh.pk].pk, decision="reject")
    with pytest.raises(LinkAlreadyDecided):
        services.decide_link(actor=actor_hoan_kiem, record_pk=record.pk, link_pk=links[an.pk].pk, decision="reject")
    assert PersonLink.objects.get(pk=links[an.pk].pk).state == LinkState.CONFIRMED
    [unit] = selectors.progress(actor=actor_hoan_kiem)
    assert (unit.unit_code, unit.records, unit.pages, unit.ocr_done, unit.linked, unit.proposals) == (
        HOAN_KIEM, 1, 1, 1, 1, 0)


def test_name_with_only_a_birth_year_and_an_old_cmnd_number(family, actor_hoan_kiem):
    an = family["an"]
    an.old_id_number = "012345678"
    an.save(update_fields=["old_id_number"])
    record = with_text(actor_hoan_kiem, "Ho va ten: NGUYEN VAN AN, nam sinh 1990\nCMND so 012345678")
    [link] = PersonLink.objects.filter(record=record)
    assert link.person_id == an.pk and link.source == LinkSource.ID_NUMBER  # both name the same person


def test_a_wrong_birth_date_is_not_proposed(family, actor_hoan_kiem):
    record = with_text(actor_hoan_kiem, "Họ và tên: Nguyễn Văn An\nSinh ngày: 01/01/1950")
    assert not PersonLink.objects.filter(record=record).exists()


def test_a_link_to_a_non_existent_id_number_is_refused(family, actor_hoan_kiem):
    record = with_text(actor_hoan_kiem, "Sổ hộ khẩu")
    before = AccessRecord.objects.count()
    for number in ("001099000001", "12345", "abc", "012345678"):
        with pytest.raises(ValidationFailed) as caught:
            services.link_person(actor=actor_hoan_kiem, record_pk=record.pk, id_number=number)
        assert caught.value.errors()[0]["field"] == "id_number"
    assert not PersonLink.objects.exists() and AccessRecord.objects.count() == before
    link = services.link_person(actor=actor_hoan_kiem, record_pk=record.pk, id_number=family["khoi"].id_number)
    assert link.state == LinkState.CONFIRMED and link.source == LinkSource.MANUAL
    assert AccessRecord.objects.filter(person_id_number=family["khoi"].id_number, actor="cb.hoankiem").exists()


# --- jurisdiction ---------------------------------------------------------------------------------------
def test_another_unit_sees_nothing_and_the_province_sees_its_communes(actor_hoan_kiem, actor_hcm,
                                                                     officer_hanoi_province, client, officer_hcm):
    record = with_text(actor_hoan_kiem, "Hộ khẩu số 12 Hàng Bạc")
    with pytest.raises(RecordNotFound):
        selectors.record_for_officer(actor=actor_hcm, pk=record.pk)
    with pytest.raises(RecordNotFound):
        services.link_person(actor=actor_hcm, record_pk=record.pk, id_number="001090000001")
    assert list(selectors.records_for(actor=actor_hcm)) == []
    assert selectors.search(actor=actor_hcm, query=selectors.SearchQuery(text="hang bac")).pages == []
    assert selectors.progress(actor=actor_hcm) == []
    province = Actor.for_user(officer_hanoi_province)
    assert selectors.record_for_officer(actor=province, pk=record.pk) == record
    assert len(selectors.search(actor=province, query=selectors.SearchQuery(text="hang bac")).pages) == 1
    client.force_login(officer_hcm)
    assert client.get(f"/cong-an/so-hoa/{record.pk}/").status_code == 404
    assert client.get(f"/cong-an/so-hoa/{record.pk}/tep/").status_code == 404
    api = Client(headers=bearer(officer_hcm))
    assert api.get(f"/api/v1/records/{record.pk}").status_code == 404


# --- search ---------------------------------------------------------------------------------------------
def test_search_without_diacritics(actor_hoan_kiem):
    record = with_text(actor_hoan_kiem, "SỔ ĐĂNG KÝ HỘ KHẨU\nĐịa chỉ: số 12 phố Hàng Bạc", "Trang hai: chợ Đồng Xuân")
    other = with_text(actor_hoan_kiem, "Quyết định xử phạt tại phố Hàng Gai", kind="decision", title="QĐ 27")

    def keys(**kw):
        return [(h.key, h.page) for h in selectors.search(actor=actor_hoan_kiem,
                                                          query=selectors.SearchQuery(**kw)).pages]

    assert keys(text="ho khau hang bac") == [(str(record.pk), 1)]
    assert keys(text="HỘ KHẨU hàng bạc") == [(str(record.pk), 1)]
    assert keys(text="dong xuan") == [(str(record.pk), 2)]
    assert sorted(keys(text="pho hang")) == sorted([(str(record.pk), 1), (str(other.pk), 1)])
    assert keys(text="hang bac gai") == []  # every word must be on the page
    assert keys(text="hang gai", category="decision") == [(str(other.pk), 1)]
    assert keys(text="hang gai", category="household_register") == []
    assert keys(text="ho khau", place="01") == [(str(record.pk), 1)]
    assert keys(text="ho khau", place=HCM_COMMUNE) == []
    today = timezone.localdate()
    assert keys(text="ho khau", date_from=today, date_to=today) == [(str(record.pk), 1)]
    assert keys(text="ho khau", date_from=today + timedelta(days=1)) == []
    assert keys(text="' & | ! ( ) :*") == keys(text="")  # operators are not passed to the query


def test_search_by_person_records_the_access(family, actor_hoan_kiem):
    an = family["an"]
    record = with_text(actor_hoan_kiem, "Hồ sơ không ghi tên")
    services.link_person(actor=actor_hoan_kiem, record_pk=record.pk, id_number=an.id_number)
    before = AccessRecord.objects.filter(person_id_number=an.id_number).count()
    results = selectors.search(actor=actor_hoan_kiem, query=selectors.SearchQuery(person=an.id_number))
    assert [h.key for h in results.pages] == [str(record.pk)] and results.person == an
    assert AccessRecord.objects.filter(person_id_number=an.id_number).count() == before + 1
    by_name = selectors.search(actor=actor_hoan_kiem, query=selectors.SearchQuery(person="nguyen van an"))
    assert [h.key for h in by_name.pages] == [str(record.pk)]


def test_search_covers_reports_and_cases_and_hides_secret_cases(family, officer_hoan_kiem, actor_hoan_kiem):
    colleague = Actor.for_user(make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM))
    now = timezone.now()
    report, _code = police.submit_report(anonymous=True, category_code="trom-cap", commune_code=HOAN_KIEM,
                                         occurred_at=now - timedelta(days=1),
                                         description="Xe máy bị lấy trộm trước cửa nhà số 5 Hàng Gai trong đêm.")
    secret_report, _code = police.submit_report(anonymous=True, category_code="lua-dao", commune_code=HOAN_KIEM,
                                                occurred_at=now - timedelta(days=2),
                                                description="Lừa đảo qua điện thoại ở Hàng Gai, đang xác minh.")
    normal = police.open_case(actor=actor_hoan_kiem, report_code=report.code, title="Trộm xe máy Hàng Gai")
    secret = police.open_case(actor=actor_hoan_kiem, report_code=secret_report.code, title="Lừa đảo Hàng Gai",
                              confidentiality="secret")
    police.link_person(actor=actor_hoan_kiem, number=secret.number, id_number=family["an"].id_number, role="suspect")

    mine = selectors.search(actor=actor_hoan_kiem, query=selectors.SearchQuery(text="hang gai"))
    assert {h.key for h in mine.reports} == {report.code, secret_report.code}
    assert {h.key for h in mine.cases} == {normal.number, secret.number}
    theirs = selectors.search(actor=colleague, query=selectors.SearchQuery(text="hang gai"))
    assert {h.key for h in theirs.cases} == {normal.number}  # not an investigator of the secret case
    by_person = selectors.search(actor=colleague, query=selectors.SearchQuery(person=family["an"].id_number))
    assert by_person.cases == []
    assert [h.key for h in selectors.search(actor=actor_hoan_kiem, query=selectors.SearchQuery(
        person=family["an"].id_number)).cases] == [secret.number]
    assert [h.key for h in selectors.search(actor=actor_hoan_kiem, query=selectors.SearchQuery(
        text="hang gai", category="trom-cap")).reports] == [report.code]
    hcm = Actor.for_user(make_staff("cb.sg2", role="officer", level="commune", unit_code=HCM_COMMUNE))
    elsewhere = selectors.search(actor=hcm, query=selectors.SearchQuery(text="hang gai"))
    assert elsewhere.reports == [] and elsewhere.cases == []


def test_search_page_and_api(client, officer_hoan_kiem, actor_hoan_kiem):
    with_text(actor_hoan_kiem, "SỔ ĐĂNG KÝ HỘ KHẨU số 12 Hàng Bạc")
    client.force_login(officer_hoan_kiem)
    page = client.get("/cong-an/tim-kiem/", {"text": "ho khau"})
    assert page.status_code == 200 and "Sổ hộ khẩu 0125/HK" in page.content.decode()
    bad = client.get("/cong-an/tim-kiem/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert bad.status_code == 422
    api = Client(headers=bearer(officer_hoan_kiem))
    body = api.get("/api/v1/records/search", {"text": "hang bac"}).json()
    assert [h["kind"] for h in body["pages"]] == ["page"]
    assert api.get("/api/v1/records/search", {"date_from": "hôm qua"}).status_code == 422
    assert api.get("/api/v1/records/search", {"date_from": "2026-02-01", "date_to": "2026-01-01"}).status_code == 422
    assert api.get("/api/v1/records/progress").json()[0]["records"] == 1


# --- access records -------------------------------------------------------------------------------------
def test_every_person_shown_is_an_access_record(family, client, officer_hoan_kiem, actor_hoan_kiem):
    an, binh = family["an"], family["binh"]
    record = with_text(actor_hoan_kiem, f"Họ và tên: Nguyễn Văn An\nSinh ngày 12/05/1990\nVợ: {binh.id_number}")
    assert PersonLink.objects.filter(record=record).count() == 2

    def count(person, channel):
        return AccessRecord.objects.filter(person_id_number=person.id_number, actor="cb.hoankiem",
                                           channel=channel).count()

    client.force_login(officer_hoan_kiem)
    before = (count(an, "console"), count(binh, "console"))
    page = client.get(f"/cong-an/so-hoa/{record.pk}/")
    assert page.status_code == 200 and an.full_name in page.content.decode()
    assert (count(an, "console"), count(binh, "console")) == (before[0] + 1, before[1] + 1)
    api = Client(headers=bearer(officer_hoan_kiem))
    before_api = count(an, "api")
    body = api.get(f"/api/v1/records/{record.pk}").json()
    assert {link["person_id_number"] for link in body["links"]} == {an.id_number, binh.id_number}
    assert count(an, "api") == before_api + 1
    link = next(link for link in body["links"] if link["person_id_number"] == binh.id_number)
    decided = api.post(f"/api/v1/records/{record.pk}/links/{link['id']}/decision", {"decision": "reject"},
                       content_type="application/json")
    assert decided.status_code == 200
    assert [x["person_id_number"] for x in decided.json()["links"] if x["id"] == link["id"]] == [None]
    again = api.post(f"/api/v1/records/{record.pk}/links/{link['id']}/decision", {"decision": "confirm"},
                     content_type="application/json")
    assert again.status_code == 409


def test_console_link_actions(family, client, officer_hoan_kiem, actor_hoan_kiem):
    record = with_text(actor_hoan_kiem, "Sổ hộ khẩu")
    client.force_login(officer_hoan_kiem)
    refused = client.post(f"/cong-an/so-hoa/{record.pk}/lien-ket/", {"id_number": "001099000001"}, follow=True)
    assert "Không có công dân" in refused.content.decode() and not PersonLink.objects.exists()
    client.post(f"/cong-an/so-hoa/{record.pk}/lien-ket/", {"id_number": family["an"].id_number})
    assert PersonLink.objects.get().state == LinkState.CONFIRMED
    progress = client.get("/cong-an/so-hoa/tien-do/")
    assert progress.status_code == 200 and "Hoàn Kiếm" in progress.content.decode()


def test_demo_seed_uploads_generated_scans(family, officer_hoan_kiem):
    from popid.records.demo import ensure_demo_records

    lines = ensure_demo_records()
    assert ScannedRecord.objects.count() == 3 and "/cong-an/so-hoa/" in lines[0]
    assert {r.content_type for r in ScannedRecord.objects.all()} == {"image/png", "application/pdf"}
    assert DBTaskResult.objects.filter(task_path="popid.records.tasks.ocr_record").count() == 3
    ensure_demo_records()
    assert ScannedRecord.objects.count() == 3
