"""Case files, second slice (issue #15 items 3–4): persons linked through the matcher with an
officer confirming, the look-ups sealed until the case closes and then shown in the person's access
history (end to end), notes, documents, the timeline, supervisors and secret cases, transfer of an
open case, the append-only history tables, the supervisor's audit from the access log, and the
police API."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client

from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.models import AccessRecord
from popid.ledger.models import AccessReveal
from popid.ledger.selectors import access_history
from popid.police import selectors, services
from popid.police.errors import CaseClosed, CaseNotFound
from popid.police.models import (
    Case,
    CaseDocument,
    CaseNote,
    CaseOpening,
    CasePerson,
    CustodyRecord,
    LinkMethod,
)
from tests.conftest import HCM_COMMUNE, HOAN_KIEM, bearer, make_staff
from tests.police.test_police import PNG, file_report

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _case(actor, **kwargs) -> Case:
    report, _ = file_report()
    services.assign(actor=actor, code=report.code, username=actor.label)
    return services.open_case(actor=actor, report_code=report.code, title="Trộm cắp xe máy", **kwargs)


def _purpose(case: Case) -> str:
    return f"Giải quyết vụ việc {case.number}"


# --- persons through the matcher, sealed until the case closes ---------------------------------------
def test_matcher_ranks_the_person_known_by_name_and_year_and_the_confirmed_link_is_unsealed_on_close(
        family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    an = family["an"]
    # no diacritics, as a witness wrote it down; the birth year only
    candidates = services.find_candidates(actor=actor_hoan_kiem, number=case.number, full_name="Nguyen Van An",
                                          birth_year=1990, commune_code=HOAN_KIEM)
    assert candidates and candidates[0].person == an
    assert candidates[0].probability > 0.5
    assert all(candidates[i].weight >= candidates[i + 1].weight for i in range(len(candidates) - 1))
    shown = AccessRecord.objects.filter(purpose=_purpose(case))
    assert {r.person_id_number for r in shown} == {c.person.id_number for c in candidates}
    assert all(r.hidden_until == case.sealed_until and r.channel == "console" for r in shown)

    link = services.confirm_candidate(actor=actor_hoan_kiem, number=case.number, full_name="Nguyen Van An",
                                      birth_year=1990, commune_code=HOAN_KIEM, id_number=an.id_number,
                                      role="suspect")
    assert link.method == LinkMethod.MATCHER and link.person == an and link.match_probability > 0.5
    assert link.query == {"full_name": "Nguyen Van An", "birth_year": 1990, "commune_code": HOAN_KIEM}

    # while the case is open the person's access history shows none of it
    assert not any(case.number in row.record.purpose for row in access_history(person=an).rows)
    services.close_case(actor=actor_hoan_kiem, number=case.number)
    rows = [row for row in access_history(person=an).rows if row.record.purpose == _purpose(case)]
    assert len(rows) == AccessRecord.objects.filter(purpose=_purpose(case), person_id_number=an.id_number).count()
    assert len(rows) >= 3  # shown as a candidate twice (search, confirmation) and looked up for the link
    assert AccessReveal.objects.filter(record_id__in=[r.record.pk for r in rows]).count() == len(rows)
    # every other candidate shown for the case sees the look-up too
    for record in AccessRecord.objects.filter(purpose=_purpose(case)):
        assert AccessReveal.objects.filter(record_id=record.pk).exists()


def test_telex_leftovers_and_swapped_name_order_still_find_the_person(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    for typed in ("Nguyeenx Vawn An", "Văn An Nguyễn"):
        found = services.find_candidates(actor=actor_hoan_kiem, number=case.number, full_name=typed, birth_year=1990)
        assert found and found[0].person == family["an"], typed


def test_confirming_someone_who_is_not_a_candidate_is_refused(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    with pytest.raises(ValidationFailed) as exc:
        services.confirm_candidate(actor=actor_hoan_kiem, number=case.number, full_name="Nguyen Van An",
                                   birth_year=1990, id_number=family["binh"].id_number, role="suspect")
    assert exc.value.errors()[0]["reason"] == "not_a_candidate"
    assert not CasePerson.objects.exists()


def test_bad_candidate_queries_are_refused_and_record_nothing(family, actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    before = AccessRecord.objects.count()
    for name, year, commune in [("A", 1990, ""), ("Nguyễn Văn An", 1800, ""), ("Nguyễn Văn An", 1990, "99999"),
                                ("Nguyễn Văn An", None, "")]:
        with pytest.raises(ValidationFailed):
            services.find_candidates(actor=actor_hoan_kiem, number=case.number, full_name=name, birth_year=year,
                                     commune_code=commune)
    assert AccessRecord.objects.count() == before
    assert services.find_candidates(actor=actor_hoan_kiem, number=case.number, full_name="Hoàng Thị Không Có",
                                    birth_year=1950) == []


def test_case_page_find_and_confirm_a_person(client, family, officer_hoan_kiem):
    case = _case(Actor.for_user(officer_hoan_kiem))
    client.force_login(officer_hoan_kiem)
    page = client.post(f"/cong-an/vu-viec/{case.number}/find-person/",
                       {"full_name": "Nguyen Van An", "birth_year": "1990", "commune_code": HOAN_KIEM,
                        "role": "witness"})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="candidates"' in body and "Nguyễn Văn An" in body
    assert family["an"].id_number in body and "Xác nhận là người này" in body
    confirmed = client.post(f"/cong-an/vu-viec/{case.number}/confirm-person/",
                            {"full_name": "Nguyen Van An", "birth_year": "1990", "commune_code": HOAN_KIEM,
                             "role": "witness", "id_number": family["an"].id_number})
    assert confirmed.status_code == 302
    link = CasePerson.objects.get()
    assert link.role == "witness" and link.method == LinkMethod.MATCHER
    bad = client.post(f"/cong-an/vu-viec/{case.number}/find-person/",
                      {"full_name": "Nguyen Van An", "birth_year": "1990", "commune_code": "00", "role": "witness"})
    assert bad.status_code == 422


# --- notes, documents, timeline --------------------------------------------------------------------------
def test_notes_documents_and_the_timeline(client, family, officer_hoan_kiem, officer_hcm):
    actor = Actor.for_user(officer_hoan_kiem)
    case = _case(actor)
    services.link_person(actor=actor, number=case.number, id_number=family["binh"].id_number, role="victim")
    services.add_note(actor=actor, number=case.number, text="Đã làm việc với bảo vệ tòa nhà.")
    services.record_evidence(actor=actor, number=case.number, label="VC-01", description="Camera", holder="cb.hoankiem")
    services.hand_over(actor=actor, number=case.number, label="VC-01", to_holder="Kho vật chứng", purpose="Lưu kho")
    client.force_login(officer_hoan_kiem)
    upload = SimpleUploadedFile("bien-ban.pdf", PDF, content_type="application/pdf")
    response = client.post(f"/cong-an/vu-viec/{case.number}/document/",
                           {"kind": "record", "title": "Biên bản khám nghiệm", "file": upload})
    assert response.status_code == 302
    document = CaseDocument.objects.get()
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    import hashlib

    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    download = client.get(f"/cong-an/vu-viec/{case.number}/tai-lieu/{document.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff" and download.content == PDF
    services.decide(actor=actor, code=case.report.code, outcome_code="khoi-to")
    page = client.get(f"/cong-an/vu-viec/{case.number}/dien-bien/").content.decode()
    for text in ("Tiếp nhận tin báo", "Phân công", "Lập hồ sơ vụ việc", "Liên kết người tham gia", "Trần Thị Bình",
                 "Kho vật chứng", "Đã làm việc với bảo vệ", "Biên bản khám nghiệm", "Kết quả giải quyết", "Điều 143"):
        assert text in page, text
    case_page = client.get(f"/cong-an/vu-viec/{case.number}/").content.decode()
    assert "Đã làm việc với bảo vệ" in case_page and document.sha256[:16] in case_page
    other = Client()
    other.force_login(officer_hcm)
    assert other.get(f"/cong-an/vu-viec/{case.number}/tai-lieu/{document.pk}/").status_code == 404
    assert other.get(f"/cong-an/vu-viec/{case.number}/dien-bien/").status_code == 404


def test_a_document_that_is_not_pdf_or_image_or_too_large_is_refused(client, officer_hoan_kiem, monkeypatch):
    case = _case(Actor.for_user(officer_hoan_kiem))
    client.force_login(officer_hoan_kiem)
    fake = SimpleUploadedFile("bien-ban.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf")
    response = client.post(f"/cong-an/vu-viec/{case.number}/document/",
                           {"kind": "record", "title": "Giả", "file": fake})
    assert response.status_code == 422 and "không phải PDF, PNG hoặc JPEG" in response.content.decode()
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024)
    big = SimpleUploadedFile("anh.png", PNG + b"\0" * 2048, content_type="image/png")
    response = client.post(f"/cong-an/vu-viec/{case.number}/document/", {"kind": "photo", "title": "Ảnh", "file": big})
    assert response.status_code == 422 and "vượt quá" in response.content.decode()
    assert not CaseDocument.objects.exists()


def test_empty_note_and_writes_to_a_closed_case_are_refused(actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    with pytest.raises(ValidationFailed):
        services.add_note(actor=actor_hoan_kiem, number=case.number, text="   ")
    services.close_case(actor=actor_hoan_kiem, number=case.number)
    with pytest.raises(CaseClosed):
        services.add_note(actor=actor_hoan_kiem, number=case.number, text="Muộn")
    with pytest.raises(CaseClosed):
        services.find_candidates(actor=actor_hoan_kiem, number=case.number, full_name="Nguyễn Văn An",
                                 birth_year=1990)
    assert not CaseNote.objects.exists()


# --- access control --------------------------------------------------------------------------------------
def test_secret_case_opens_for_its_investigators_and_the_supervisor_only(actor_hoan_kiem):
    supervisor = Actor.for_user(make_staff("gs.hoankiem", role="supervisor", level="commune", unit_code=HOAN_KIEM,
                                           unit_name="Công an phường Hoàn Kiếm"))
    colleague = Actor.for_user(make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM))
    other_supervisor = Actor.for_user(make_staff("gs.saigon", role="supervisor", level="commune",
                                                 unit_code=HCM_COMMUNE))
    case = _case(actor_hoan_kiem, confidentiality="secret")
    assert selectors.case_for(actor=supervisor, number=case.number) == case
    assert case in selectors.cases_for(actor=supervisor)
    for refused in (colleague, other_supervisor):
        with pytest.raises(CaseNotFound):
            selectors.case_for(actor=refused, number=case.number)
        assert case not in selectors.cases_for(actor=refused)
    assert CaseOpening.objects.filter(case=case, allowed=False).count() == 2


def test_transfer_to_the_province_takes_the_open_case_along(actor_hoan_kiem, officer_hanoi_province):
    case = _case(actor_hoan_kiem)
    services.transfer_to_province(actor=actor_hoan_kiem, code=case.report.code, note="Vượt thẩm quyền")
    case.refresh_from_db()
    assert case.unit_code == "01"
    assert selectors.case_for(actor=Actor.for_user(officer_hanoi_province), number=case.number) == case
    with pytest.raises(CaseNotFound):  # the commune no longer handles it
        selectors.case_for(actor=actor_hoan_kiem, number=case.number)


def test_supervisor_audit_shows_case_look_ups_from_the_access_log(client, family, actor_hoan_kiem, supervisor_nation):
    case = _case(actor_hoan_kiem)
    services.link_person(actor=actor_hoan_kiem, number=case.number, id_number=family["binh"].id_number, role="victim")
    client.force_login(supervisor_nation)
    page = client.get("/cong-an/giam-sat/").content.decode()
    assert "audit-lookups" in page and family["binh"].id_number in page and _purpose(case) in page


# --- append-only history ---------------------------------------------------------------------------------
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the append-only triggers exist on PostgreSQL")
def test_editing_custody_or_case_openings_in_the_database_is_refused(actor_hoan_kiem):
    case = _case(actor_hoan_kiem)
    services.record_evidence(actor=actor_hoan_kiem, number=case.number, label="VC-01", description="Dao",
                             holder="cb.hoankiem")
    selectors.case_for(actor=actor_hoan_kiem, number=case.number)
    services.add_note(actor=actor_hoan_kiem, number=case.number, text="Ghi chú")
    statements = ["UPDATE police_custodyrecord SET to_holder = 'Nhà riêng' WHERE seq = 1",
                  "DELETE FROM police_custodyrecord",
                  "UPDATE police_caseopening SET allowed = false",
                  "DELETE FROM police_caseopening",
                  "UPDATE police_casenote SET text = 'khác'",
                  "UPDATE police_caseevent SET actor = 'ai đó'"]
    for sql in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert CustodyRecord.objects.get().to_holder == "cb.hoankiem"
    assert CaseOpening.objects.filter(allowed=True).count() == 1
    assert services.verify_custody() == (1, [])


# --- the police API ------------------------------------------------------------------------------------
def _api(user) -> Client:
    return Client(headers=bearer(user))


def _post(client: Client, path: str, body: dict | None = None):
    return client.post(f"/api/v1/police{path}", json.dumps(body or {}), content_type="application/json")


def test_api_handles_a_report_into_a_case_and_closes_it(family, officer_hoan_kiem, officer_hcm):
    api = _api(officer_hoan_kiem)
    report, _ = file_report()
    queue = api.get("/api/v1/police/reports").json()
    assert [r["code"] for r in queue] == [report.code] and queue[0]["deadline"]
    assert _post(api, f"/reports/{report.code}/classify", {"category_code": "trom-cap"}).json()["state"] == "classified"
    assert _post(api, f"/reports/{report.code}/assign", {"username": "cb.hoankiem"}).status_code == 200
    extended = _post(api, f"/reports/{report.code}/extend", {"reason": "Chờ giám định"}).json()
    assert extended["extensions"] == 1
    opened = _post(api, f"/reports/{report.code}/case", {"title": "Trộm xe máy", "confidentiality": "normal"})
    assert opened.status_code == 201
    number = opened.json()["number"]
    missing = _post(api, f"/cases/{number}/persons", {"id_number": "001090000000", "role": "suspect"})
    assert missing.status_code == 422 and missing["Content-Type"].startswith("application/problem+json")
    assert missing.json()["errors"][0]["field"] == "id_number"
    assert _post(api, f"/cases/{number}/persons", {"id_number": family["binh"].id_number,
                                                   "role": "victim"}).status_code == 201
    found = _post(api, f"/cases/{number}/candidates", {"full_name": "Nguyen Van An", "birth_year": 1990}).json()
    assert found[0]["id_number"] == family["an"].id_number
    confirmed = _post(api, f"/cases/{number}/persons/confirm", {"full_name": "Nguyen Van An", "birth_year": 1990,
                                                                "id_number": family["an"].id_number,
                                                                "role": "suspect"})
    assert confirmed.status_code == 201 and confirmed.json()["method"] == "matcher"
    assert _post(api, f"/cases/{number}/notes", {"text": "Đã lấy lời khai"}).status_code == 201
    assert _post(api, f"/cases/{number}/evidence", {"label": "VC-01", "description": "Mũ bảo hiểm",
                                                    "holder": "cb.hoankiem"}).json()["seq"] == 1
    handed = _post(api, f"/cases/{number}/hand-overs", {"label": "VC-01", "to_holder": "Kho", "purpose": "Lưu kho"})
    assert handed.status_code == 201 and handed.json()["from_holder"] == "cb.hoankiem"
    detail = api.get(f"/api/v1/police/cases/{number}").json()
    assert {p["role"] for p in detail["persons"]} == {"victim", "suspect"} and len(detail["custody"]) == 2
    kinds = {item["kind"] for item in api.get(f"/api/v1/police/cases/{number}/timeline").json()}
    assert {"report", "case", "custody", "note"} <= kinds
    extra = _post(api, f"/cases/{number}/notes", {"text": "x", "author": "người khác"})
    assert extra.status_code == 422  # unknown fields are refused
    other = _api(officer_hcm)
    assert other.get(f"/api/v1/police/cases/{number}").status_code == 404
    assert _post(other, f"/cases/{number}/notes", {"text": "chen ngang"}).status_code == 404
    assert other.get(f"/api/v1/police/reports/{report.code}").status_code == 404
    closed = _post(api, f"/cases/{number}/close")
    assert closed.status_code == 200 and closed.json()["closed_at"]
    assert _post(api, f"/cases/{number}/close").status_code == 409
    rows = access_history(person=family["an"]).rows
    assert any(row.record.purpose == f"Giải quyết vụ việc {number}" for row in rows)


def test_api_secret_case_is_missing_for_an_unassigned_investigator(actor_hoan_kiem):
    case = _case(actor_hoan_kiem, confidentiality="secret")
    colleague = make_staff("cb.hoankiem2", role="officer", level="commune", unit_code=HOAN_KIEM)
    response = _api(colleague).get(f"/api/v1/police/cases/{case.number}")
    assert response.status_code == 404 and response.json()["code"] == "police_case_not_found"
    assert case.number not in json.dumps(_api(colleague).get("/api/v1/police/cases").json())
    assert CaseOpening.objects.filter(actor="cb.hoankiem2", allowed=False).exists()
    assert get_user_model().objects.filter(username="cb.hoankiem2").exists()
