"""Police API (``/api/v1/police``) for officers and the police unit's own subsystems (staff token or
console session): the unit's report queue and the handling steps (classify, assign, transfer to the
province, extend the art. 147 deadline, outcome, open a case), and case files (read, timeline,
persons linked by ID number or through the matcher, notes, evidence and hand-overs, close).

The same rules as the console pages, because the same services and selectors run: another unit's
report or case, and a secret case one is not assigned to, answer 404 like a missing one (the
refused opening is recorded for the supervisor); every person look-up carries the case number as
its purpose and is sealed in the access log until the case closes. Every error is RFC 9457
problem JSON."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.files import UploadedFile
from ninja.params import functions as param

from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.police import selectors, services
from popid.police.errors import DocumentTooLarge
from popid.police.models import Case, CaseDocument, CasePerson, CustodyRecord, Report
from popid.police.schemas import (
    DOCUMENT_KIND,
    AssignIn,
    CandidateOut,
    CandidatesIn,
    CaseDetailOut,
    CaseOut,
    CasePersonOut,
    ClassifyIn,
    ConfirmCandidateIn,
    CustodyOut,
    DecideIn,
    DocumentOut,
    EvidenceIn,
    ExtendIn,
    HandOverIn,
    LinkPersonIn,
    NoteIn,
    NoteOut,
    OpenCaseIn,
    ReportDetailOut,
    ReportOut,
    TimelineItemOut,
    TransferIn,
)

router = Router(tags=["police"])
PROBLEMS = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 422: dict}
DOCUMENT_PROBLEMS = {**PROBLEMS, 413: dict}
DOCUMENT_FILE = param.File(..., description="PDF, PNG hoặc JPEG (xét theo nội dung), tối đa 10 MB")
DOCUMENT_KIND_FIELD = param.Form(..., description="Loại tài liệu")
DOCUMENT_FIELDS = {"kind", "title"}
DOCUMENT_TITLE_FIELD = param.Form(..., min_length=1, max_length=200, description="Tên tài liệu")
STATES = Literal["received", "classified", "assigned", "transferred", "suspended", "resolved"]


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _report_out(report: Report, case_numbers: dict[int, str] | None = None) -> dict[str, Any]:
    if case_numbers is None:
        case = Case.objects.filter(report=report).values_list("number", flat=True).first()
    else:
        case = case_numbers.get(report.pk)
    return {"code": report.code, "channel": report.channel, "category_code": report.category_code,
            "commune_code": report.commune_code, "unit_code": report.unit_code, "state": report.state,
            "received_at": report.received_at, "occurred_at": report.occurred_at,
            "assigned_to": report.assigned_to.get_username() if report.assigned_to else None,
            "deadline": services.deadline(report), "extensions": report.extensions,
            "outcome_code": report.outcome_code, "outcome_legal_ref": report.outcome_legal_ref, "case_number": case}


def _case_out(case: Case) -> dict[str, Any]:
    return {"number": case.number, "title": case.title, "unit_code": case.unit_code,
            "confidentiality": case.confidentiality, "opened_at": case.opened_at, "closed_at": case.closed_at,
            "sealed_until": case.sealed_until, "report_code": case.report.code if case.report is not None else None}


def _person_out(link: CasePerson) -> dict[str, Any]:
    return {"role": link.role, "id_number": link.id_number, "full_name": link.person.full_name,
            "method": link.method, "match_probability": link.match_probability, "linked_by": link.linked_by,
            "linked_at": link.linked_at}


def _custody_out(record: CustodyRecord) -> dict[str, Any]:
    return {"seq": record.seq, "item": record.item.label, "at": record.at, "from_holder": record.from_holder,
            "to_holder": record.to_holder, "purpose": record.purpose, "recorded_by": record.recorded_by,
            "hash": record.hash}


# --- reports --------------------------------------------------------------------------------------
@router.get("/reports", response={200: list[ReportOut], **PROBLEMS}, summary="Tin báo do đơn vị giải quyết")
@operation_requires(Permission.POLICE_READ)
def report_queue(request: HttpRequest, state: STATES | None = None) -> Any:
    reports = list(selectors.report_queue(actor=_actor(request), state=state or "")[:500])
    numbers = dict(Case.objects.filter(report__in=reports).values_list("report_id", "number"))
    return [_report_out(r, numbers) for r in reports]


@router.get("/reports/{code}", response={200: ReportDetailOut, **PROBLEMS}, summary="Một tin báo (cán bộ)")
@operation_requires(Permission.POLICE_READ)
def report_detail(request: HttpRequest, code: str) -> Any:
    report = selectors.report_for_officer(actor=_actor(request), code=code)
    events = [{"at": e.at, "actor": e.actor, "action": e.action, "public_text": e.public_text,
               "internal_note": e.internal_note} for e in report.events.all()]
    return {**_report_out(report), "description": report.description, "anonymous": report.anonymous,
            "events": events}


@router.post("/reports/{code}/classify", response={200: ReportOut, **PROBLEMS}, summary="Phân loại tin báo")
@operation_requires(Permission.POLICE_HANDLE)
def classify(request: HttpRequest, code: str, payload: ClassifyIn) -> Any:
    return _report_out(services.classify(actor=_actor(request), code=code, **payload.model_dump()))


@router.post("/reports/{code}/assign", response={200: ReportOut, **PROBLEMS}, summary="Phân công cán bộ")
@operation_requires(Permission.POLICE_HANDLE)
def assign(request: HttpRequest, code: str, payload: AssignIn) -> Any:
    return _report_out(services.assign(actor=_actor(request), code=code, username=payload.username))


@router.post("/reports/{code}/transfer", response={200: ReportOut, **PROBLEMS},
             summary="Chuyển tin báo (và hồ sơ vụ việc đang mở) lên Công an tỉnh")
@operation_requires(Permission.POLICE_HANDLE)
def transfer(request: HttpRequest, code: str, payload: TransferIn) -> Any:
    return _report_out(services.transfer_to_province(actor=_actor(request), code=code, note=payload.note))


@router.post("/reports/{code}/extend", response={200: ReportOut, **PROBLEMS},
             summary="Gia hạn giải quyết (Điều 147 khoản 2, 3 BLTTHS 2015)")
@operation_requires(Permission.POLICE_HANDLE)
def extend(request: HttpRequest, code: str, payload: ExtendIn) -> Any:
    return _report_out(services.extend_deadline(actor=_actor(request), code=code, reason=payload.reason))


@router.post("/reports/{code}/decide", response={200: ReportOut, **PROBLEMS},
             summary="Ghi kết quả giải quyết kèm căn cứ pháp lý")
@operation_requires(Permission.POLICE_HANDLE)
def decide(request: HttpRequest, code: str, payload: DecideIn) -> Any:
    return _report_out(services.decide(actor=_actor(request), code=code, **payload.model_dump()))


@router.post("/reports/{code}/case", response={201: CaseOut, **PROBLEMS}, summary="Lập hồ sơ vụ việc từ tin báo")
@operation_requires(Permission.POLICE_HANDLE)
def open_case(request: HttpRequest, code: str, payload: OpenCaseIn) -> Any:
    case = services.open_case(actor=_actor(request), report_code=code, title=payload.title,
                              confidentiality=payload.confidentiality)
    return 201, _case_out(case)


# --- case files -----------------------------------------------------------------------------------
@router.get("/cases", response={200: list[CaseOut], **PROBLEMS}, summary="Hồ sơ vụ việc cán bộ được xem")
@operation_requires(Permission.POLICE_READ)
def case_list(request: HttpRequest) -> Any:
    return [_case_out(c) for c in selectors.cases_for(actor=_actor(request))[:500]]


@router.get("/cases/{number}", response={200: CaseDetailOut, **PROBLEMS},
            summary="Mở một hồ sơ vụ việc (lượt mở được ghi nhật ký giám sát)")
@operation_requires(Permission.POLICE_READ)
def case_detail(request: HttpRequest, number: str) -> Any:
    case = selectors.case_for(actor=_actor(request), number=number)
    custody = CustodyRecord.objects.filter(item__case=case).select_related("item").order_by("seq")
    return {**_case_out(case),
            "investigators": [u.get_username() for u in case.investigators.all()],
            "persons": [_person_out(p) for p in case.persons.select_related("person")],
            "evidence": [{"label": e.label, "description": e.description, "recorded_at": e.recorded_at}
                         for e in case.evidence.all()],
            "custody": [_custody_out(r) for r in custody],
            "notes": [{"at": n.at, "author": n.author, "text": n.text} for n in case.notes.all()],
            "documents": [{"id": d.pk, "kind": d.kind, "title": d.title, "content_type": d.content_type,
                           "size": d.size, "sha256": d.sha256, "at": d.at, "uploaded_by": d.uploaded_by}
                          for d in case.documents.only("kind", "title", "content_type", "size", "sha256", "at",
                                                       "uploaded_by")]}


@router.get("/cases/{number}/timeline", response={200: list[TimelineItemOut], **PROBLEMS},
            summary="Diễn biến hồ sơ: tin báo, hồ sơ, người tham gia, vật chứng, ghi chú, tài liệu")
@operation_requires(Permission.POLICE_READ)
def case_timeline(request: HttpRequest, number: str) -> Any:
    case = selectors.case_for(actor=_actor(request), number=number)
    return [{"at": i.at, "kind": i.kind, "actor": i.actor, "text": str(i.text)} for i in selectors.case_timeline(case)]


@router.post("/cases/{number}/persons", response={201: CasePersonOut, **PROBLEMS},
             summary="Liên kết người tham gia theo số định danh (tra cứu được niêm phong đến khi đóng hồ sơ)")
@operation_requires(Permission.POLICE_HANDLE)
def link_person(request: HttpRequest, number: str, payload: LinkPersonIn) -> Any:
    link = services.link_person(actor=_actor(request), number=number, id_number=payload.id_number,
                                role=payload.role)
    return 201, _person_out(link)


@router.post("/cases/{number}/candidates", response={200: list[CandidateOut], **PROBLEMS},
             summary="Ứng viên trong sổ đăng ký cho người chỉ biết họ tên, năm sinh (đối sánh xác suất)")
@operation_requires(Permission.POLICE_HANDLE)
def candidates(request: HttpRequest, number: str, payload: CandidatesIn) -> Any:
    found = services.find_candidates(actor=_actor(request), number=number, full_name=payload.full_name,
                                     birth_year=payload.birth_year, commune_code=payload.commune_code)
    return [{"id_number": c.person.id_number, "full_name": c.person.full_name, "birth_year": c.person.birth_year,
             "commune_code": c.person.commune_code, "match_probability": round(c.probability, 6),
             "match_weight": round(c.weight, 3)} for c in found]


@router.post("/cases/{number}/persons/confirm", response={201: CasePersonOut, **PROBLEMS},
             summary="Xác nhận một ứng viên đối sánh là người tham gia")
@operation_requires(Permission.POLICE_HANDLE)
def confirm_person(request: HttpRequest, number: str, payload: ConfirmCandidateIn) -> Any:
    link = services.confirm_candidate(actor=_actor(request), number=number, **payload.model_dump())
    return 201, _person_out(link)


@router.post("/cases/{number}/notes", response={201: NoteOut, **PROBLEMS}, summary="Thêm ghi chú vào hồ sơ")
@operation_requires(Permission.POLICE_HANDLE)
def add_note(request: HttpRequest, number: str, payload: NoteIn) -> Any:
    note = services.add_note(actor=_actor(request), number=number, text=payload.text)
    return 201, {"id": note.pk, "at": note.at, "author": note.author, "text": note.text}


def _document_out(document: CaseDocument) -> dict[str, Any]:
    return {"id": document.pk, "kind": document.kind, "title": document.title, "name": document.name,
            "content_type": document.content_type, "size": document.size, "sha256": document.sha256,
            "at": document.at, "uploaded_by": document.uploaded_by}


@router.post("/cases/{number}/documents", response={201: DocumentOut, **DOCUMENT_PROBLEMS},
             summary="Thêm tài liệu vào hồ sơ (multipart: kind, title, file; PDF/PNG/JPEG theo nội dung, ≤ 10 MB)",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "schema": {"additionalProperties": False}}}}})
@operation_requires(Permission.POLICE_HANDLE)
def add_document(request: HttpRequest, number: str, kind: DOCUMENT_KIND = DOCUMENT_KIND_FIELD,
                 title: str = DOCUMENT_TITLE_FIELD, file: UploadedFile = DOCUMENT_FILE) -> Any:
    """The same command as the case page's upload (``services.add_document``): the type is decided
    by the content (magic bytes), the SHA-256 is kept, documents are append-only, a closed case is
    409, another unit's or a secret case one may not open is 404. The size is checked from the
    upload's declared size before the file is read (413). Unknown fields are refused (422), as in
    every JSON input of this API."""
    unknown = sorted((set(request.POST) - DOCUMENT_FIELDS) | (set(request.FILES) - {"file"}))
    if unknown:
        raise ValidationFailed([{"field": name[:60], "reason": "extra_forbidden", "message": _("Trường không hợp lệ")}
                                for name in unknown[:10]])
    if (file.size or 0) > services.MAX_ATTACHMENT_BYTES:
        raise DocumentTooLarge(_("Tệp vượt quá %(mb)d MB") % {"mb": services.MAX_ATTACHMENT_BYTES // 2**20},
                               field="file")
    document = services.add_document(
        actor=_actor(request), number=number, kind=kind, title=title,
        attachment=services.Attachment(name=file.name or "tai-lieu", content=file.read(),
                                       content_type=file.content_type or ""))
    return 201, _document_out(document)


@router.post("/cases/{number}/evidence", response={201: CustodyOut, **PROBLEMS},
             summary="Ghi nhận vật chứng (bản ghi đầu tiên của chuỗi giao nhận)")
@operation_requires(Permission.POLICE_HANDLE)
def record_evidence(request: HttpRequest, number: str, payload: EvidenceIn) -> Any:
    item = services.record_evidence(actor=_actor(request), number=number, **payload.model_dump())
    return 201, _custody_out(item.custody.select_related("item").get())


@router.post("/cases/{number}/hand-overs", response={201: CustodyOut, **PROBLEMS},
             summary="Ghi nhận giao nhận vật chứng (nối vào chuỗi băm)")
@operation_requires(Permission.POLICE_HANDLE)
def hand_over(request: HttpRequest, number: str, payload: HandOverIn) -> Any:
    record = services.hand_over(actor=_actor(request), number=number, **payload.model_dump())
    return 201, _custody_out(record)


@router.post("/cases/{number}/close", response={200: CaseOut, **PROBLEMS},
             summary="Đóng hồ sơ: các lượt tra cứu cho hồ sơ được công khai với công dân")
@operation_requires(Permission.POLICE_HANDLE)
def close_case(request: HttpRequest, number: str) -> Any:
    return _case_out(services.close_case(actor=_actor(request), number=number))
