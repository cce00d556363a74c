"""Public-service API: the procedure catalogue and dossiers for citizens (PopID session), the
queue and workflow actions for commune police (staff auth). Errors are problem JSON."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.params import functions as param
from pydantic import ConfigDict, Field

from popid.core.access import AccessContext, Actor, context_from_request
from popid.core.auth import STAFF_AUTH
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.core.schema_types import NonBlank, OptionalCommuneCode, OptionalProvinceCode
from popid.identity.auth import acting_for
from popid.identity.models import CitizenAccount
from popid.services import dossiers, selectors, statistics
from popid.services.citizen_api import router as citizen_router
from popid.services.citizen_auth import CITIZEN_AUTH
from popid.services.errors import DossierNotFound
from popid.services.models import Dossier, DossierState
from popid.services.procedures import Procedure, catalogue, get_procedure

PROBLEM = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 422: dict}


router = Router(tags=["services"])


# --- schemas -----------------------------------------------------------------------------------
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class AttachmentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=64)
    name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content_base64: str = Field(max_length=30_000_000, pattern=BASE64_PATTERN)


class SubmitIn(Schema):
    model_config = ConfigDict(extra="forbid")
    procedure: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2_000_000_000)
    note: str = Field(default="", max_length=2000)


class RejectIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2_000_000_000)
    reason: NonBlank(2000)  # type: ignore[valid-type]


class SupplementRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2_000_000_000)
    note: NonBlank(2000) = Field(description="Giấy tờ, thông tin công dân cần bổ sung")  # type: ignore[valid-type]


class SupplementIn(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2_000_000_000)
    data: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    note: str = Field(default="", max_length=2000)


class CounterIn(Schema):
    model_config = ConfigDict(extra="forbid")
    procedure: str = Field(max_length=64)
    subject_id_number: str = Field(max_length=12)
    data: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


# --- serialisation -----------------------------------------------------------------------------
def procedure_out(procedure: Procedure) -> dict[str, Any]:
    return {
        "code": procedure.code, "name": procedure.name, "legal_basis": procedure.legal_basis,
        "min_level": procedure.min_level, "guardian_allowed": procedure.guardian_allowed,
        "fee": {"in_person": procedure.fee_in_person, "online": procedure.fee_online, "currency": "VND"},
        "deadline_working_days": procedure.deadline_working_days, "processing_unit": procedure.processing_unit,
        "fields": [{"name": f.name, "type": f.type, "required": f.required, "label": f.label,
                    "prefilled": bool(f.prefill)} for f in procedure.fields],
        "attachments": [{"kind": a.kind, "label": a.label, "required": a.required, "max_size_kb": a.max_size_kb,
                         "types": list(a.types)} for a in procedure.attachments],
    }


def dossier_out(dossier: Dossier, *, events: bool = False) -> dict[str, Any]:
    status, left = selectors.deadline_status(dossier)
    body: dict[str, Any] = {
        "code": dossier.code, "procedure": dossier.procedure_code, "state": dossier.state,
        "state_label": str(DossierState(dossier.state).label), "channel": dossier.channel,
        "subject_id_number": dossier.subject.id_number, "data": dossier.data,
        "commune_code": dossier.commune_code, "received_at": dossier.received_at.isoformat(),
        "deadline": dossier.deadline.isoformat(), "deadline_status": status, "working_days_left": left,
        "fee": dossier.fee, "late_notification": dossier.late_notification, "version": dossier.version,
        "paused_working_days": dossier.paused_working_days,
        "decision_note": dossier.decision_note,
        "attachments": [{"kind": a.kind, "name": a.original_name, "content_type": a.content_type, "size": a.size}
                        for a in dossier.attachments.all()],
    }
    if events:
        body["fee_paid_online"] = dossier.payments.filter(state="paid").exists()
        body["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "actor_unit": e.actor_unit,
                           "from": e.from_state, "to": e.to_state, "note": e.note} for e in dossier.events.all()]
    return body


def _files(items: list[AttachmentIn]) -> list[dossiers.IncomingFile]:
    files = []
    for i, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed([{"field": f"attachments[{i}].content_base64", "reason": "base64",
                                     "message": _("Nội dung tệp không phải base64 hợp lệ")}]) from None
        files.append(dossiers.IncomingFile(kind=item.kind, name=item.name, content=content,
                                           content_type=item.content_type))
    return files


def _account(request: HttpRequest) -> CitizenAccount:
    # set by CITIZEN_AUTH (ninja's request.auth); HttpRequest does not declare it
    account: CitizenAccount = request.auth  # type: ignore[attr-defined]
    return account


def _actor(request: HttpRequest) -> Actor:
    # set by STAFF_AUTH; HttpRequest does not declare it
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


# --- catalogue ---------------------------------------------------------------------------------
@router.get("/procedures", auth=None, response={200: list[dict[str, Any]], **PROBLEM}, summary="Danh mục thủ tục")
@operation_requires(Permission.PUBLIC)
def list_procedures(request: HttpRequest) -> list[dict[str, Any]]:
    return [procedure_out(p) for p in catalogue().values()]


@router.get("/procedures/{code}", auth=CITIZEN_AUTH, response={200: dict, **PROBLEM},
            summary="Thủ tục, kèm dữ liệu điền sẵn từ CSDL dân cư cho công dân đăng nhập")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def procedure_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    procedure = get_procedure(code)
    account = _account(request)
    ward = acting_for(request)
    return {**procedure_out(procedure),
            "prefilled": selectors.prefilled_fields(account=account, procedure=procedure, subject=ward)}


# --- citizen dossiers --------------------------------------------------------------------------
@router.post("/dossiers", auth=CITIZEN_AUTH, response={200: dict, 201: dict, **PROBLEM},
             summary="Nộp hồ sơ trực tuyến (Idempotency-Key: cùng khóa trả lại cùng hồ sơ)")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def submit(request: HttpRequest, payload: SubmitIn,
           idempotency_key: str = param.Header("", alias="Idempotency-Key", max_length=100),
           ) -> tuple[int, dict[str, Any]]:
    dossier, created = dossiers.submit_dossier(
        account=_account(request), procedure_code=payload.procedure, data=payload.data,
        idempotency_key=idempotency_key, on_behalf_of=acting_for(request), attachments=_files(payload.attachments))
    return (201 if created else 200), dossier_out(dossier, events=True)


@router.get("/dossiers", auth=CITIZEN_AUTH, response={200: list[dict[str, Any]], **PROBLEM}, summary="Hồ sơ của tôi")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def my_dossiers(request: HttpRequest) -> list[dict[str, Any]]:
    qs = selectors.own_dossiers(_account(request)).select_related("subject").prefetch_related("attachments")
    return [dossier_out(d) for d in qs[:200]]


@router.get("/dossiers/{code}", auth=CITIZEN_AUTH, response={200: dict, **PROBLEM}, summary="Tra cứu hồ sơ")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def my_dossier(request: HttpRequest, code: str) -> dict[str, Any]:
    dossier = selectors.own_dossiers(_account(request)).filter(code=code).select_related("subject").first()
    if dossier is None:
        raise DossierNotFound()
    return dossier_out(dossier, events=True)


@router.post("/dossiers/{code}/cancel", auth=CITIZEN_AUTH, response={200: dict, **PROBLEM}, summary="Hủy hồ sơ")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def cancel(request: HttpRequest, code: str, payload: VersionIn) -> dict[str, Any]:
    dossier = dossiers.cancel(account=_account(request), code=code, expected_version=payload.version,
                              note=payload.note)
    return dossier_out(dossier, events=True)


@router.post("/dossiers/{code}/supplement", auth=CITIZEN_AUTH, response={200: dict, **PROBLEM},
             summary="Bổ sung hồ sơ theo yêu cầu")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def supplement(request: HttpRequest, code: str, payload: SupplementIn) -> dict[str, Any]:
    dossier = dossiers.answer_supplement(account=_account(request), code=code, data=payload.data,
                                         attachments=_files(payload.attachments), expected_version=payload.version,
                                         note=payload.note)
    return dossier_out(dossier, events=True)


# --- officers ----------------------------------------------------------------------------------
@router.get("/officer/queue", auth=STAFF_AUTH, response={200: list[dict[str, Any]], **PROBLEM},
            summary="Hàng đợi hồ sơ của đơn vị, kèm tình trạng thời hạn")
@operation_requires(Permission.DOSSIER_READ)
def queue(request: HttpRequest, state: str = "", include_closed: bool = False) -> list[dict[str, Any]]:
    rows = selectors.officer_queue(actor=_actor(request), state=state or None, include_closed=include_closed)
    return [{**dossier_out(r.dossier), "deadline_status": r.deadline_status,
             "working_days_left": r.working_days_left} for r in rows]


@router.get("/officer/dossiers/{code}", auth=STAFF_AUTH, response={200: dict, **PROBLEM}, summary="Chi tiết hồ sơ")
@operation_requires(Permission.DOSSIER_READ)
def officer_dossier(request: HttpRequest, code: str) -> dict[str, Any]:
    dossier = selectors.access_dossier_for_officer(
        ctx=context_from_request(request, default_purpose="Xem hồ sơ thủ tục hành chính"), code=code)
    return dossier_out(dossier, events=True)


@router.post("/officer/dossiers/{code}/claim", auth=STAFF_AUTH, response={200: dict, **PROBLEM},
             summary="Nhận xử lý hồ sơ")
@operation_requires(Permission.DOSSIER_PROCESS)
def claim(request: HttpRequest, code: str, payload: VersionIn) -> dict[str, Any]:
    return dossier_out(dossiers.claim(actor=_actor(request), code=code, expected_version=payload.version),
                       events=True)


@router.post("/officer/dossiers/{code}/approve", auth=STAFF_AUTH, response={200: dict, **PROBLEM},
             summary="Phê duyệt (chạy lệnh đăng ký dân cư trong cùng giao dịch)")
@operation_requires(Permission.DOSSIER_PROCESS)
def approve(request: HttpRequest, code: str, payload: VersionIn) -> dict[str, Any]:
    return dossier_out(dossiers.approve(actor=_actor(request), code=code, expected_version=payload.version,
                                        note=payload.note), events=True)


@router.post("/officer/dossiers/{code}/reject", auth=STAFF_AUTH, response={200: dict, **PROBLEM},
             summary="Từ chối hồ sơ (bắt buộc ghi lý do)")
@operation_requires(Permission.DOSSIER_PROCESS)
def reject(request: HttpRequest, code: str, payload: RejectIn) -> dict[str, Any]:
    return dossier_out(dossiers.reject(actor=_actor(request), code=code, reason=payload.reason,
                                       expected_version=payload.version), events=True)


@router.post("/officer/dossiers/{code}/request-supplement", auth=STAFF_AUTH, response={200: dict, **PROBLEM},
             summary="Yêu cầu công dân bổ sung hồ sơ")
@operation_requires(Permission.DOSSIER_PROCESS)
def request_supplement(request: HttpRequest, code: str, payload: SupplementRequestIn) -> dict[str, Any]:
    return dossier_out(dossiers.request_supplement(actor=_actor(request), code=code, note=payload.note,
                                                   expected_version=payload.version), events=True)


@router.post("/officer/counter", auth=STAFF_AUTH, response={201: dict, **PROBLEM},
             summary="Tiếp nhận hồ sơ nộp trực tiếp tại cơ quan")
@operation_requires(Permission.DOSSIER_PROCESS)
def counter(request: HttpRequest, payload: CounterIn) -> tuple[int, dict[str, Any]]:
    dossier = dossiers.register_counter_dossier(
        actor=_actor(request), procedure_code=payload.procedure, subject_id_number=payload.subject_id_number,
        data=payload.data, attachments=_files(payload.attachments))
    return 201, dossier_out(dossier, events=True)


# --- statistics (services/statistics.py) -------------------------------------------------------
class FiguresOut(Schema):
    received: int
    online: int
    counter: int
    online_rate: float | None = Field(description="Tỷ lệ hồ sơ trực tuyến, %")
    decided: int
    decided_on_time: int
    open_overdue: int
    on_time_rate: float | None = Field(description="Tỷ lệ giải quyết đúng hạn, %")
    avg_processing_days: float | None


class UnitOut(Schema):
    rank: int
    commune_code: str
    commune_name: str
    province_code: str
    province_name: str
    figures: FiguresOut


class ProvinceOut(Schema):
    province_code: str
    province_name: str
    figures: FiguresOut


class TrendOut(Schema):
    start: date
    label: str
    figures: FiguresOut


class ScopeOut(Schema):
    level: str
    code: str
    name: str


class StatisticsOut(Schema):
    scope: ScopeOut
    date_from: date
    date_to: date
    granularity: str
    today: date
    totals: FiguresOut
    provinces: list[ProvinceOut]
    units: list[UnitOut]
    trend: list[TrendOut]


class StatisticsQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    date_from: date | None = Field(default=None, description="Mặc định: đầu tháng, 5 tháng trước")
    date_to: date | None = Field(default=None, description="Không trước date_from, cách date_from tối đa 3 năm "
                                                            "(ngoài ra: 422 before_start / too_long)")
    granularity: Literal["week", "month"] = "month"
    province: OptionalProvinceCode = ""
    commune: OptionalCommuneCode = ""


def _report(request: HttpRequest, q: StatisticsQuery) -> statistics.Report:
    return statistics.report(actor=_actor(request), date_from=q.date_from, date_to=q.date_to,
                             granularity=q.granularity, province_code=q.province, commune_code=q.commune)


def _figures(f: statistics.Figures) -> dict[str, Any]:
    return f.as_dict()


def statistics_out(r: statistics.Report) -> dict[str, Any]:
    return {
        "scope": {"level": r.scope_level, "code": r.scope_code, "name": r.scope_name},
        "date_from": r.date_from, "date_to": r.date_to, "granularity": r.granularity, "today": r.today,
        "totals": _figures(r.totals),
        "provinces": [{"province_code": p.province_code, "province_name": p.province_name,
                       "figures": _figures(p.figures)} for p in r.provinces],
        "units": [{"rank": u.rank, "commune_code": u.commune_code, "commune_name": u.commune_name,
                   "province_code": u.province_code, "province_name": u.province_name,
                   "figures": _figures(u.figures)} for u in r.units],
        "trend": [{"start": t.start, "label": t.label, "figures": _figures(t.figures)} for t in r.trend],
    }


@router.get("/statistics", auth=STAFF_AUTH, response={200: StatisticsOut, **PROBLEM},
            summary="Thống kê hồ sơ: trực tuyến/trực tiếp, đúng hạn, thời gian xử lý, theo đơn vị và xu hướng")
@operation_requires(Permission.STATISTICS_READ)
def statistics_report(request: HttpRequest, q: Query[StatisticsQuery]) -> dict[str, Any]:
    return statistics_out(_report(request, q))


@router.get("/statistics/ranking", auth=STAFF_AUTH, response={200: list[UnitOut], **PROBLEM},
            summary="Xếp hạng các đơn vị cấp xã trong địa bàn")
@operation_requires(Permission.STATISTICS_READ)
def statistics_ranking(request: HttpRequest, q: Query[StatisticsQuery]) -> list[dict[str, Any]]:
    units: list[dict[str, Any]] = statistics_out(_report(request, q))["units"]  # a value of a dict[str, Any]
    return units


@router.get("/statistics/trend", auth=STAFF_AUTH, response={200: list[TrendOut], **PROBLEM},
            summary="Xu hướng theo tuần hoặc theo tháng")
@operation_requires(Permission.STATISTICS_READ)
def statistics_trend(request: HttpRequest, q: Query[StatisticsQuery]) -> list[dict[str, Any]]:
    trend: list[dict[str, Any]] = statistics_out(_report(request, q))["trend"]  # a value of a dict[str, Any]
    return trend


# --- paid online submissions, payments and the inbox (services/citizen_api.py) ---------------------
router.add_router("", citizen_router)


# --- CT07 residence confirmation (services/ct07.py) --------------------------------------------
class Ct07VerificationOut(Schema):
    status: str = Field(description="genuine | expired | revoked | invalid")
    genuine: bool
    message: str
    code: str = ""
    full_name: str = ""
    id_number_masked: str = ""
    permanent_address: str = ""
    commune_code: str = ""
    issued_on: date | None = None
    valid_until: date | None = None


PDF_OPENAPI = {"responses": {"200": {"description": "Giấy xác nhận CT07 (PDF)",
                                   "content": {"application/pdf": {"schema": {"type": "string",
                                                                              "format": "binary"}}}}}}


def _ct07_pdf(request: HttpRequest, dossier: Dossier, ctx: Any) -> Any:
    from popid.services.ct07 import pdf_for
    from popid.services.ct07_http import pdf_response, verify_url_builder

    return pdf_response(dossier, pdf_for(dossier, ctx=ctx, verify_url_for=verify_url_builder(request)))


@router.get("/dossiers/{code}/ct07.pdf", auth=CITIZEN_AUTH, response={200: None, **PROBLEM},
            url_name="services_my_ct07", openapi_extra=PDF_OPENAPI,
            summary="Tải giấy xác nhận thông tin về cư trú (CT07, PDF có mã QR xác minh)")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def my_ct07(request: HttpRequest, code: str) -> Any:
    from popid.identity.auth import citizen_actor

    account = _account(request)
    dossier = selectors.own_dossiers(account).filter(code=code).select_related("subject").first()
    if dossier is None:
        raise DossierNotFound()
    ctx = AccessContext(actor=citizen_actor(account), purpose="Tải giấy xác nhận thông tin về cư trú (CT07)",
                        legal_basis="Luật Cư trú 2020; Thông tư 66/2023/TT-BCA", channel="portal")
    return _ct07_pdf(request, dossier, ctx)


@router.get("/officer/dossiers/{code}/ct07.pdf", auth=STAFF_AUTH, response={200: None, **PROBLEM},
            openapi_extra=PDF_OPENAPI, summary="Giấy xác nhận CT07 của hồ sơ thuộc đơn vị")
@operation_requires(Permission.DOSSIER_READ)
def officer_ct07(request: HttpRequest, code: str) -> Any:
    ctx = AccessContext(actor=_actor(request), purpose="Cấp giấy xác nhận thông tin về cư trú (CT07)",
                        legal_basis="Luật Cư trú 2020; Thông tư 66/2023/TT-BCA", channel="api")
    dossier = selectors.access_dossier_for_officer(ctx=ctx, code=code)
    return _ct07_pdf(request, dossier, ctx)


@router.get("/ct07/verify", auth=None, response={200: Ct07VerificationOut, **PROBLEM},
            summary="Xác minh mã QR của giấy xác nhận cư trú (công khai)")
@operation_requires(Permission.PUBLIC)
def verify_ct07(request: HttpRequest, token: str = param.Query(..., max_length=4000)) -> dict[str, Any]:
    from popid.services.ct07 import verify

    result = verify(token)
    claims = result.claims
    return {"status": result.status, "genuine": result.genuine, "message": result.message,
            "code": claims.get("jti", ""), "full_name": claims.get("name", ""),
            "id_number_masked": claims.get("idm", ""), "permanent_address": claims.get("addr", ""),
            "commune_code": claims.get("unit", ""), "issued_on": result.issued_on, "valid_until": result.valid_until}
