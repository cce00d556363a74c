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
from popid.core.errors import DomainError, ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.exchange.models import Service
from popid.exchange.services import active_grant
from popid.exchange.tokens import AGENCY_AUTH, require_scope
from popid.immigration import mrz, selectors, services
from popid.immigration.models import Stay
from popid.immigration.schemas import (
    ArrivalIn,
    BatchArrivalsIn,
    BorderEventIn,
    BorderEventOut,
    DepartureIn,
    MrzIn,
    PersonLookupIn,
    ResidenceCardIn,
    ResidenceCardOut,
    ReviewIn,
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


@router.post("/accommodation/arrivals/batch", auth=AGENCY_AUTH, response={200: dict, **PROBLEMS},
             summary="Khai báo tối đa 100 khách nước ngoài đến trong một lần gọi")
@operation_requires(Permission.AGENCY_EXCHANGE)
def arrivals_batch(request: HttpRequest, payload: BatchArrivalsIn) -> Any:
    """Each item is checked on its own: the good ones are taken, the bad ones reported by their
    1-based position (``line``) with the same codes as a single declaration."""
    declarant = _declarant(request)
    items = []
    for item in payload.arrivals:
        visa = services.VisaIn(**item.visa.model_dump()) if item.visa else None
        try:
            if item.mrz:
                guest: services.GuestIn | None = services.guest_from_mrz(item.mrz)
            elif item.guest is not None:
                guest = services.guest_from_fields(**item.guest.model_dump())
            else:
                guest = None
            items.append(services.ArrivalIn(guest=guest, arrival_at=item.arrival_at, room=item.room, visa=visa))
        except DomainError as exc:
            items.append(services.ArrivalIn(guest=None, arrival_at=item.arrival_at, error=exc))
    result = services.declare_arrivals(declarant=declarant, establishment_code=payload.establishment,
                                       arrivals=items)
    return {"accepted": result.arrivals, "with_warnings": result.warnings, "errors": result.errors}


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


@router.get("/present", response={200: list[dict[str, Any]], **PROBLEMS},
            summary="Số người nước ngoài đang lưu trú theo xã")
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
            "residence_cards": [_card_out(c) for c in history.residence_cards],
            "stays": [_stay_out(s) for s in history.stays]}


@router.get("/overstays", response={200: list[dict[str, Any]], **PROBLEMS}, summary="Cảnh báo quá hạn tạm trú")
@operation_requires(Permission.IMMIGRATION_READ)
def overstays(request: HttpRequest) -> Any:
    ctx = context_from_request(request, default_purpose="Kiểm tra quá hạn tạm trú")
    return [{"alert_id": a.pk, "days_over": a.days_over, "visa_valid_until": a.valid_until,
             "computed_on": a.computed_on, "stay": _stay_out(a.stay),
             "name": f"{a.person.surname} {a.person.given_names}".strip()} for a in selectors.overstay_alerts(ctx)]


def _card_out(card: Any) -> dict[str, Any]:
    return {"card_id": card.pk, "number": card.number, "kind": card.kind, "purpose": card.purpose,
            "valid_from": card.valid_from, "valid_until": card.valid_until, "issuing_unit": card.issuing_unit}


@router.post("/residence-cards", response={201: ResidenceCardOut, **PROBLEMS},
             summary="Ghi nhận thẻ tạm trú/thường trú của người nước ngoài")
@operation_requires(Permission.IMMIGRATION_WRITE)
def residence_card(request: HttpRequest, payload: ResidenceCardIn) -> Any:
    card = services.issue_residence_card(actor=request.actor, **payload.model_dump())  # type: ignore[attr-defined]
    return 201, _card_out(card)


@router.get("/watch-hits", response={200: list[dict[str, Any]], **PROBLEMS},
            summary="Kết quả đối chiếu danh sách theo dõi chờ xem xét")
@operation_requires(Permission.IMMIGRATION_READ)
def watch_hits(request: HttpRequest) -> Any:
    ctx = context_from_request(request, default_purpose="Xem xét kết quả đối chiếu danh sách theo dõi")
    return [{"hit_id": h.pk, "matched_on": h.matched_on, "score": h.score, "evidence": h.evidence,
             "entry": {"surname": h.entry.surname, "given_names": h.entry.given_names,
                       "nationality": h.entry.nationality, "birth_date": h.entry.birth_date,
                       "reason": h.entry.reason},
             "stay": _stay_out(h.stay), "name": h.stay.person.full_name} for h in selectors.watch_hits(ctx)]


@router.post("/watch-hits/{hit_id}/review", response={200: dict, **PROBLEMS},
             summary="Ghi kết quả xem xét một kết quả đối chiếu")
@operation_requires(Permission.IMMIGRATION_REVIEW)
def review_watch_hit(request: HttpRequest, hit_id: int, payload: ReviewIn) -> Any:
    hit = services.review_hit(actor=request.actor, hit_id=hit_id, note=payload.note)  # type: ignore[attr-defined]
    return {"hit_id": hit.pk, "status": hit.status, "reviewed_by": hit.reviewed_by}
