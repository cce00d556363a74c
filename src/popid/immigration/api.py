"""Immigration API (``/api/v1/immigration``).

* ``/accommodation/…``: property-management systems declare guests. Authenticated like every
  agency subsystem (client_credentials + private_key_jwt at ``/oidc/token``) and allowed only
  with the exchange ``accommodation`` grant, re-checked on every call; the subsystem may declare
  only for the establishments registered with it.
* ``/border/events``: border subsystems record entries and exits (grant ``border_events``).
* the rest: officers (staff token or console session): MRZ check, foreigners present per
  commune, a person's stay history, overstay alerts. Every error is RFC 9457 problem JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from popid.core.access import context_from_request
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.exchange.models import Service
from popid.exchange.services import active_grant
from popid.exchange.tokens import AGENCY_AUTH, require_scope
from popid.immigration import mrz, selectors, services
from popid.immigration.models import Stay
from popid.immigration.schemas import (
    ArrivalIn,
    BorderEventIn,
    BorderEventOut,
    DepartureIn,
    MrzIn,
    PersonLookupIn,
    StayOut,
)

router = Router(tags=["immigration"])
PROBLEMS = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 422: dict}


def _stay_out(stay: Stay) -> dict[str, Any]:
    return {"stay_id": stay.pk, "establishment": stay.establishment.code, "nationality": stay.document.nationality,
            "document_number": stay.document.number, "arrival_at": stay.arrival_at,
            "departure_at": stay.departure_at, "late": stay.arrival_late or stay.departure_late,
            "warnings": stay.warnings}


def _declarant(request: HttpRequest) -> services.Declarant:
    subsystem = require_scope(request, Service.ACCOMMODATION)
    active_grant(subsystem, Service.ACCOMMODATION)
    return services.Declarant.system(subsystem)


# --- property-management systems ------------------------------------------------------------------
@router.post("/accommodation/arrivals", auth=AGENCY_AUTH, response={201: StayOut, **PROBLEMS},
             summary="Khai báo khách nước ngoài đến (từ MRZ hoặc thông tin nhập)")
@operation_requires(Permission.AGENCY_EXCHANGE)
def arrival(request: HttpRequest, payload: ArrivalIn) -> Any:
    declarant = _declarant(request)
    if payload.mrz:
        guest = services.guest_from_mrz(payload.mrz)
    elif payload.guest is not None:
        guest = services.guest_from_fields(**payload.guest.model_dump())
    else:
        raise ValidationFailed([{"field": "mrz", "reason": "required", "message": "mrz hoặc guest là bắt buộc"}])
    visa = services.VisaIn(**payload.visa.model_dump()) if payload.visa else None
    stay = services.declare_arrival(declarant=declarant, establishment_code=payload.establishment, guest=guest,
                                    arrival_at=payload.arrival_at, room=payload.room, visa=visa)
    return 201, _stay_out(stay)


@router.post("/accommodation/departures", auth=AGENCY_AUTH, response={200: StayOut, **PROBLEMS},
             summary="Khai báo khách nước ngoài đi")
@operation_requires(Permission.AGENCY_EXCHANGE)
def departure(request: HttpRequest, payload: DepartureIn) -> Any:
    stay = services.declare_departure(declarant=_declarant(request), establishment_code=payload.establishment,
                                      nationality=payload.nationality, document_number=payload.document_number,
                                      departure_at=payload.departure_at)
    return _stay_out(stay)


# --- border subsystems ----------------------------------------------------------------------------
@router.post("/border/events", auth=AGENCY_AUTH, response={201: BorderEventOut, **PROBLEMS},
             summary="Ghi nhận nhập cảnh/xuất cảnh của người nước ngoài tại cửa khẩu")
@operation_requires(Permission.AGENCY_EXCHANGE)
def border_event(request: HttpRequest, payload: BorderEventIn) -> Any:
    subsystem = require_scope(request, Service.BORDER_EVENTS)
    active_grant(subsystem, Service.BORDER_EVENTS)
    visa = services.VisaIn(**payload.visa.model_dump()) if payload.visa else None
    event = services.record_border_event(recorded_by=f"border:{subsystem.agency.code}/{subsystem.code}",
                                         kind=payload.kind,
                                         guest=services.guest_from_mrz(payload.mrz), gate=payload.gate,
                                         at=payload.at, visa=visa)
    return 201, {"event_id": event.pk, "kind": event.kind, "gate": event.gate,
                 "nationality": event.document.nationality, "document_number": event.document.number,
                 "at": event.at}


# --- officers -------------------------------------------------------------------------------------
@router.post("/mrz/parse", response={200: dict, **PROBLEMS}, summary="Đọc và kiểm tra MRZ (ICAO 9303)")
@operation_requires(Permission.IMMIGRATION_READ)
def parse_mrz(request: HttpRequest, payload: MrzIn) -> Any:
    return mrz.parse(payload.mrz).as_json()


@router.get("/present", response={200: list[dict], **PROBLEMS}, summary="Số người nước ngoài đang lưu trú theo xã")
@operation_requires(Permission.IMMIGRATION_READ)
def present_counts(request: HttpRequest) -> Any:
    return selectors.present_counts(context_from_request(request, default_purpose="Quản lý cư trú người nước ngoài"))


@router.get("/communes/{commune_code}/present", response={200: list[StayOut], **PROBLEMS},
            summary="Người nước ngoài đang lưu trú tại một xã/phường")
@operation_requires(Permission.IMMIGRATION_READ)
def present(request: HttpRequest, commune_code: str) -> Any:
    ctx = context_from_request(request, default_purpose="Quản lý cư trú người nước ngoài")
    return [_stay_out(s) for s in selectors.present_in_commune(ctx, commune_code)]


@router.post("/persons/lookup", response={200: dict, **PROBLEMS}, summary="Lịch sử lưu trú của một người nước ngoài")
@operation_requires(Permission.IMMIGRATION_READ)
def person(request: HttpRequest, payload: PersonLookupIn) -> Any:
    ctx = context_from_request(request, default_purpose="Tra cứu người nước ngoài")
    history = selectors.person_history(ctx, payload.nationality, payload.document_number)
    p = history.person
    return {"surname": p.surname, "given_names": p.given_names, "nationality": p.nationality,
            "birth_date": p.birth_date, "sex": p.sex,
            "documents": [{"number": d.number, "kind": d.kind, "expiry_date": d.expiry_date}
                          for d in history.documents],
            "visas": [{"number": v.number, "kind": v.kind, "entries": v.entries, "valid_from": v.valid_from,
                       "valid_until": v.valid_until} for v in history.visas],
            "stays": [_stay_out(s) for s in history.stays]}


@router.get("/overstays", response={200: list[dict], **PROBLEMS}, summary="Cảnh báo quá hạn tạm trú")
@operation_requires(Permission.IMMIGRATION_READ)
def overstays(request: HttpRequest) -> Any:
    ctx = context_from_request(request, default_purpose="Kiểm tra quá hạn tạm trú")
    return [{"alert_id": a.pk, "days_over": a.days_over, "visa_valid_until": a.valid_until,
             "computed_on": a.computed_on, "stay": _stay_out(a.stay),
             "name": f"{a.person.surname} {a.person.given_names}".strip()} for a in selectors.overstay_alerts(ctx)]
