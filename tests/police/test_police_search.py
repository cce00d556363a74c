"""Free-text search of crime reports and case files in the database (issue #15 item 6): the
accent-free ``search_text`` kept up to date by every write (report steps with their notes, case
notes, documents, evidence), the data migration for existing rows, every row of the officer's
jurisdiction searched (not only the newest ones), paging, a constant number of queries, the
secret-case and unit rules of the police selectors; and documents uploaded through the API."""

from __future__ import annotations

import hashlib
import importlib
import json
import secrets
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from popid.core.access import Actor
from popid.core.fulltext import search_text
from popid.police import searchtext, selectors, services
from popid.police.models import Case, CaseDocument, Report
from popid.records import selectors as records
from tests.conftest import HCM_COMMUNE, HOAN_KIEM, bearer, make_staff
from tests.police.test_police import PNG, file_report

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _search(actor: Actor, text: str = "", **kw) -> records.SearchResults:
    return records.search(actor=actor, query=records.SearchQuery(text=text, **kw))


def _reports(actor: Actor, text: str, **kw) -> list[str]:
    return [h.key for h in _search(actor, text, kind="reports", **kw).reports]


def _cases(actor: Actor, text: str, **kw) -> list[str]:
    return [h.key for h in _search(actor, text, kind="cases", **kw).cases]


def _bulk_reports(n: int, *, unit: str = HOAN_KIEM, description: str = "Mất trộm tài sản tại nhà riêng số {i}.",
                  start: int = 0) -> None:
    """Many reports at once (the services file one at a time); their search text as the services
    would write it."""
    now = timezone.now()
    rows = []
    for i in range(start, start + n):
        row = Report(code=f"TG-BULK-{i:07d}", tracking_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                     anonymous=True, category_code="trom-cap", commune_code=unit, occurred_at=now,
                     description=description.format(i=i), unit_code=unit)
        row.search_text = search_text(row.code, row.description)  # report_text of a report without notes
        rows.append(row)
    Report.objects.bulk_create(rows, batch_size=1000)


# --- kept up to date on every write ------------------------------------------------------------------
def test_every_write_updates_the_search_text(actor_hoan_kiem):
    report, _ = file_report(description="Xe máy Wave màu đỏ bị lấy trộm trước cửa nhà số 5 Hàng Gai.")
    assert _reports(actor_hoan_kiem, "WAVE mau do") == [report.code]
    assert _reports(actor_hoan_kiem, report.code) == [report.code]  # the receipt number too
    services.classify(actor=actor_hoan_kiem, code=report.code, category_code="trom-cap",
                      note="Nghi đối tượng đi xe Exciter biển 29")
    assert _reports(actor_hoan_kiem, "exciter") == [report.code]  # an officer's note of a step
    services.extend_deadline(actor=actor_hoan_kiem, code=report.code, reason="Chờ trích xuất camera an ninh")
    assert _reports(actor_hoan_kiem, "trich xuat camera") == [report.code]

    case = services.open_case(actor=actor_hoan_kiem, report_code=report.code, title="Trộm cắp xe máy Hàng Gai")
    assert _cases(actor_hoan_kiem, "hang gai wave") == [case.number]  # the title and the report's description
    assert _cases(actor_hoan_kiem, "quang trung") == []
    services.add_note(actor=actor_hoan_kiem, number=case.number, text="Nhân chứng ở số 7 Quang Trung")
    assert _cases(actor_hoan_kiem, "quang trung") == [case.number]
    services.add_document(actor=actor_hoan_kiem, number=case.number, kind="statement", title="Lời khai bà Thuỷ",
                          attachment=services.Attachment("loi-khai.pdf", "application/pdf", PDF))
    assert _cases(actor_hoan_kiem, "loi khai thuy") == [case.number]
    services.record_evidence(actor=actor_hoan_kiem, number=case.number, label="VC-07",
                             description="Mũ bảo hiểm màu xanh", holder="cb.hoankiem")
    assert _cases(actor_hoan_kiem, "mu bao hiem xanh") == [case.number]
    stored = Case.objects.get(pk=case.pk).search_text
    assert stored == searchtext.case_text(Case.objects.get(pk=case.pk))  # the one builder
    assert "thuy" in stored and "ũ" not in stored and "-" not in stored


def test_the_data_migration_fills_existing_rows(actor_hoan_kiem):
    report, _ = file_report(description="Cháy nhà kho ở ngõ Tạm Thương, nghi có người đốt.")
    case = services.open_case(actor=actor_hoan_kiem, report_code=report.code, title="Cháy kho Tạm Thương")
    services.add_note(actor=actor_hoan_kiem, number=case.number, text="Đã mời giám định cháy nổ")
    Report.objects.update(search_text="")
    Case.objects.update(search_text="")
    assert _reports(actor_hoan_kiem, "tam thuong") == [] and _cases(actor_hoan_kiem, "giam dinh") == []
    migration = importlib.import_module("popid.police.migrations.0004_report_case_search_text")
    migration.fill(apps, None)
    assert _reports(actor_hoan_kiem, "tam thuong") == [report.code]
    assert _cases(actor_hoan_kiem, "giam dinh chay no") == [case.number]


# --- every row, paged, in the database -------------------------------------------------------------
def test_the_search_reaches_beyond_the_newest_five_thousand(actor_hoan_kiem):
    oldest, _ = file_report(description="Mất trộm con chó giống Phú Quốc ở phố Hàng Bè.")
    Report.objects.filter(pk=oldest.pk).update(received_at=timezone.now() - timedelta(days=400))
    _bulk_reports(5_100)
    assert _reports(actor_hoan_kiem, "cho giong phu quoc") == [oldest.code]


def test_results_are_paged_newest_first(client, officer_hoan_kiem, actor_hoan_kiem):
    _bulk_reports(records.PAGE_SIZE + 7)
    first = _search(actor_hoan_kiem, "mat trom", kind="reports")
    second = _search(actor_hoan_kiem, "mat trom", kind="reports", page=2)
    assert len(first.reports) == records.PAGE_SIZE and first.more["reports"]
    assert len(second.reports) == 7 and not second.more["reports"]
    keys = [h.key for h in first.reports + second.reports]
    assert len(set(keys)) == records.PAGE_SIZE + 7
    assert keys == sorted(keys, reverse=True)  # bulk codes grow with the id: newest first
    assert first.pages == [] and first.cases == []  # kind restricts the search to one list

    api = Client(headers=bearer(officer_hoan_kiem))
    body = api.get("/api/v1/records/search", {"text": "mat trom", "kind": "reports", "page": 2}).json()
    assert [h["key"] for h in body["reports"]] == [h.key for h in second.reports]
    assert body["page"] == 2 and body["page_size"] == records.PAGE_SIZE and body["more_reports"] is False
    assert api.get("/api/v1/records/search", {"text": "mat trom"}).json()["more_reports"] is True
    for bad in ({"text": "x", "page": 0}, {"text": "x", "page": "hai"}, {"text": "x", "kind": "people"}):
        refused = api.get("/api/v1/records/search", bad)
        assert refused.status_code == 422 and refused["Content-Type"].startswith("application/problem+json")

    client.force_login(officer_hoan_kiem)
    page = client.get("/cong-an/tim-kiem/", {"text": "mất trộm"}).content.decode()
    assert "Trang sau" in page and "kind=reports" in page and "page=2" in page
    page2 = client.get("/cong-an/tim-kiem/", {"text": "mất trộm", "kind": "reports", "page": 2}).content.decode()
    assert "Trang trước" in page2 and second.reports[0].key in page2


def test_the_number_of_queries_does_not_grow_with_the_rows(actor_hoan_kiem):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            results = _search(actor_hoan_kiem, "mat trom")
        assert results.reports
        return len(captured)

    report, _ = file_report(description="Mất trộm điện thoại ở chợ Đồng Xuân.")
    case = services.open_case(actor=actor_hoan_kiem, report_code=report.code, title="Mất trộm điện thoại")
    assert case.number in [h.key for h in _search(actor_hoan_kiem, "mat trom").cases]
    few = queries()
    _bulk_reports(200)
    for i in range(5):
        more, _ = file_report(description=f"Mất trộm xe đạp lần {i} ở chợ Đồng Xuân.")
        services.open_case(actor=actor_hoan_kiem, report_code=more.code, title=f"Mất trộm xe đạp {i}")
    assert queries() == few
    assert few <= 4  # pages, reports, cases (+ the province's communes when not cached)


# --- jurisdiction and secret cases stay in the police selectors -------------------------------------
def test_secret_cases_and_other_units_stay_out_of_the_search(actor_hoan_kiem, officer_hanoi_province,
                                                             supervisor_nation):
    report, _ = file_report(description="Đánh bạc trái phép tại quán nước phố Lò Sũ.")
    secret = services.open_case(actor=actor_hoan_kiem, report_code=report.code, title="Đánh bạc Lò Sũ",
                                confidentiality="secret")
    colleague = Actor.for_user(make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM))
    elsewhere = Actor.for_user(make_staff("cb.sg9", role="officer", level="commune", unit_code=HCM_COMMUNE))
    assert _cases(actor_hoan_kiem, "lo su") == [secret.number]  # its investigator
    assert _cases(colleague, "lo su") == []  # same unit, not assigned
    assert _reports(colleague, "lo su") == [report.code]  # the report itself is the unit's
    assert _cases(Actor.for_user(supervisor_nation), "lo su") == [secret.number]  # may open it (may_open_case)
    assert _cases(Actor.for_user(officer_hanoi_province), "lo su") == []  # secret, not assigned
    assert _reports(Actor.for_user(officer_hanoi_province), "lo su") == [report.code]
    assert _reports(elsewhere, "lo su") == [] and _cases(elsewhere, "lo su") == []
    assert [c.number for c in selectors.visible_cases(colleague)] == []
    assert [c.number for c in selectors.cases_for(actor=actor_hoan_kiem)] == [secret.number]


# --- documents through the API ---------------------------------------------------------------------
def _case(actor: Actor, **kw) -> Case:
    report, _ = file_report()
    return services.open_case(actor=actor, report_code=report.code, title="Trộm cắp xe máy", **kw)


def _upload(api: Client, number: str, content: bytes, *, name: str = "bien-ban.pdf", ctype: str = "application/pdf",
            **fields):
    data = {"kind": "record", "title": "Biên bản khám nghiệm hiện trường"} | fields
    return api.post(f"/api/v1/police/cases/{number}/documents",
                    {**data, "file": SimpleUploadedFile(name, content, content_type=ctype)})


def test_api_document_upload(officer_hoan_kiem, officer_hcm, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    api = Client(headers=bearer(officer_hoan_kiem))
    created = _upload(api, case.number, PDF)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF) and body["uploaded_by"] == "cb.hoankiem"
    # the type comes from the content, not the declared type or the name
    photo = _upload(api, case.number, PNG, name="anh.pdf", ctype="application/pdf", kind="photo", title="Ảnh")
    assert photo.status_code == 201 and photo.json()["content_type"] == "image/png"
    detail = api.get(f"/api/v1/police/cases/{case.number}").json()
    assert [d["sha256"] for d in detail["documents"]] == [body["sha256"], hashlib.sha256(PNG).hexdigest()]
    assert {i["kind"] for i in api.get(f"/api/v1/police/cases/{case.number}/timeline").json()} >= {"document"}
    assert _cases(actor_hoan_kiem, "kham nghiem hien truong") == [case.number]


def test_api_document_upload_bad_input(officer_hoan_kiem, officer_hcm, actor_hoan_kiem, monkeypatch):
    case = _case(actor_hoan_kiem)
    api = Client(headers=bearer(officer_hoan_kiem))

    def problem(response, status: int, code: str | None = None) -> dict:
        assert response.status_code == status, response.content
        assert response["Content-Type"].startswith("application/problem+json")
        body = response.json()
        if code:
            assert body["code"] == code
        return body

    bad = problem(_upload(api, case.number, b"<html><script>alert(1)</script>"), 422, "validation_failed")
    assert bad["errors"][0]["reason"] == "bad_type"
    problem(_upload(api, case.number, b"GIF89a" + b"\0" * 20, name="a.png", ctype="image/png"), 422)
    problem(_upload(api, case.number, b""), 422)
    problem(_upload(api, case.number, PDF, kind="bi-mat"), 422)  # not a document kind
    problem(_upload(api, case.number, PDF, title=""), 422)
    extra = problem(_upload(api, case.number, PDF, uploaded_by="người khác"), 422)
    assert extra["errors"][0]["field"] == "uploaded_by"  # unknown fields are refused, as in the JSON inputs
    no_file = api.post(f"/api/v1/police/cases/{case.number}/documents", {"kind": "record", "title": "x"})
    problem(no_file, 422)
    over = problem(_upload(api, case.number, PDF + b"\0" * (services.MAX_ATTACHMENT_BYTES + 1 - len(PDF))), 413,
                   "police_document_too_large")
    assert "10 MB" in over["detail"]

    read = []
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024)
    from django.core.files.uploadedfile import InMemoryUploadedFile

    monkeypatch.setattr(InMemoryUploadedFile, "read", property(lambda self: (read.append(self), self.file.read)[1]))
    sent = SimpleUploadedFile("to.pdf", PDF + b"\0" * 2048, content_type="application/pdf")
    problem(api.post(f"/api/v1/police/cases/{case.number}/documents", {"kind": "record", "title": "x", "file": sent}),
            413)
    assert read and all(f is sent for f in read)  # the test client read it to send it; the server never did
    monkeypatch.undo()

    problem(_upload(Client(headers=bearer(officer_hcm)), case.number, PDF), 404, "police_case_not_found")
    problem(_upload(api, "VV-00070-2026-9999", PDF), 404, "police_case_not_found")
    secret = _case(actor_hoan_kiem, confidentiality="secret")
    colleague = make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM)
    problem(_upload(Client(headers=bearer(colleague)), secret.number, PDF), 404)
    supervisor = make_staff("gs.hoankiem", role="supervisor", level="commune", unit_code=HOAN_KIEM)
    problem(_upload(Client(headers=bearer(supervisor)), case.number, PDF), 403)  # reads only
    services.close_case(actor=actor_hoan_kiem, number=case.number)
    problem(_upload(api, case.number, PDF), 409, "police_case_closed")
    assert not CaseDocument.objects.exists()
    anonymous = Client().post(f"/api/v1/police/cases/{case.number}/documents", {"kind": "record", "title": "x"})
    assert anonymous.status_code == 401
    assert json.loads(anonymous.content)["status"] == 401


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the tsvector column and GIN index are PostgreSQL's")
def test_postgresql_searches_through_the_gin_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                       "('police_report_fts', 'police_case_fts') ORDER BY indexname")
        rows = cursor.fetchall()
    assert [name for name, _ in rows] == ["police_case_fts", "police_report_fts"]
    assert all("gin (search_tsv)" in definition for _, definition in rows)
