"""Commands on the document registries. Like the registry commands: keyword-only, actor first,
one transaction, jurisdiction and write permission checked here, optimistic locking on the
licence ``version``, a ``DocumentEvent`` row and a registry ``OutboxEvent`` per change (the
wallet turns the outbox event into a credential status change, see ``wallet.events``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import outbox
from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission
from popid.documents.errors import DocumentNotFound, InvalidDocumentState, InvalidLicenceClass, VehicleOnHold
from popid.documents.models import (
    LICENCE_CLASSES,
    LICENCE_POINTS,
    DocumentEvent,
    DrivingLicence,
    LicenceStatus,
    VehicleRegistration,
)
from popid.registry.errors import StaleVersion
from popid.registry.models import Person, PersonStatus

TOPIC_LICENCE_STATUS = "documents.licence_status"
TOPIC_LICENCE_POINTS = "documents.licence_points"
TOPIC_VEHICLE_REGISTRATION = "documents.vehicle_registration"
LEGAL_REF_VEHICLE = "Thông tư 79/2024/TT-BCA (đăng ký xe)"
LEGAL_REF_SUSPENSION = "Nghị định 168/2024/NĐ-CP"


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([{"field": "reason", "reason": "required", "message": _("Cần ghi lý do")}])
    return reason[:300]


def _lock_licence(*, actor: Actor, number: str, expected_version: int | None) -> DrivingLicence:
    """Fetch for update; a licence outside the actor's jurisdiction looks like a missing one."""
    actor.require(Permission.DOCUMENT_WRITE)
    licence = DrivingLicence.objects.select_for_update().select_related("person").filter(number=number).first()
    if licence is None or not actor.covers_commune(licence.person.commune_code):
        raise DocumentNotFound(_("Không tìm thấy giấy phép lái xe số %(n)s") % {"n": number}, field="number")
    if expected_version is not None and licence.version != expected_version:
        raise StaleVersion(_("Phiên bản %(expected)d đã cũ, phiên bản hiện tại là %(current)d")
                           % {"expected": expected_version, "current": licence.version},
                           field="version", current_version=licence.version)
    return licence


def _change_status(*, actor: Actor, licence: DrivingLicence, status: str, action: str, reason: str,
                   legal_ref: str) -> DrivingLicence:
    licence.status, licence.status_reason = status, reason
    licence.status_changed_at = timezone.now()
    licence.version += 1
    licence.save(update_fields=["status", "status_reason", "status_changed_at", "version"])
    DocumentEvent.objects.create(document_kind="driving_licence", document_number=licence.number,
                                 person_id_number=licence.person.id_number, action=action, actor=actor.label,
                                 actor_unit=actor.unit_name or actor.unit_code, reason=reason, legal_ref=legal_ref)
    outbox.emit(topic=TOPIC_LICENCE_STATUS, aggregate_id=licence.number,
                payload={"status": status, "person": licence.person.id_number})
    return licence


@transaction.atomic
def suspend_licence(*, actor: Actor, number: str, reason: str, legal_ref: str = LEGAL_REF_SUSPENSION,
                    expected_version: int | None = None) -> DrivingLicence:
    """Tước quyền sử dụng / tạm giữ: the licence and every credential made from it are suspended."""
    reason = _require_reason(reason)
    licence = _lock_licence(actor=actor, number=number, expected_version=expected_version)
    if licence.status != LicenceStatus.ACTIVE:
        raise InvalidDocumentState(_("Chỉ tạm giữ được giấy phép đang còn hiệu lực"), field="status")
    return _change_status(actor=actor, licence=licence, status=LicenceStatus.SUSPENDED, action="suspend",
                          reason=reason, legal_ref=legal_ref)


@transaction.atomic
def reinstate_licence(*, actor: Actor, number: str, reason: str, legal_ref: str = LEGAL_REF_SUSPENSION,
                      expected_version: int | None = None) -> DrivingLicence:
    """Hết thời hạn tước quyền: back to active; suspended credentials become valid again."""
    reason = _require_reason(reason)
    licence = _lock_licence(actor=actor, number=number, expected_version=expected_version)
    if licence.status != LicenceStatus.SUSPENDED:
        raise InvalidDocumentState(_("Chỉ khôi phục được giấy phép đang bị tạm giữ"), field="status")
    return _change_status(actor=actor, licence=licence, status=LicenceStatus.ACTIVE, action="reinstate",
                          reason=reason, legal_ref=legal_ref)


@transaction.atomic
def revoke_licence(*, actor: Actor, number: str, reason: str, legal_ref: str,
                   expected_version: int | None = None) -> DrivingLicence:
    """Thu hồi (e.g. issued on forged papers): final; credentials are revoked for good."""
    reason = _require_reason(reason)
    if not (legal_ref or "").strip():
        raise ValidationFailed([{"field": "legal_ref", "reason": "required", "message": _("Cần ghi căn cứ pháp lý")}])
    licence = _lock_licence(actor=actor, number=number, expected_version=expected_version)
    if licence.status == LicenceStatus.REVOKED:
        raise InvalidDocumentState(_("Giấy phép đã bị thu hồi"), field="status")
    return _change_status(actor=actor, licence=licence, status=LicenceStatus.REVOKED, action="revoke",
                          reason=reason, legal_ref=legal_ref.strip()[:200])


@transaction.atomic
def deduct_points(*, actor: Actor, number: str, points: int, reason: str, legal_ref: str = LEGAL_REF_SUSPENSION,
                  expected_version: int | None = None) -> DrivingLicence:
    """Trừ điểm giấy phép lái xe (Decree 168/2024): points restored first if 12 months passed since
    the last deduction; never below 0 (at 0 the holder must retake the theory test, Law on Road
    Traffic Order and Safety 2024 Art. 58 — recorded, not enforced here)."""
    reason = _require_reason(reason)
    if not 1 <= int(points) <= LICENCE_POINTS:
        raise ValidationFailed([{"field": "points", "reason": "range",
                                 "message": _("Số điểm trừ từ 1 đến 12")}])
    licence = _lock_licence(actor=actor, number=number, expected_version=expected_version)
    if licence.status == LicenceStatus.REVOKED:
        raise InvalidDocumentState(_("Giấy phép đã bị thu hồi"), field="status")
    today = timezone.localdate()
    licence.points = max(0, licence.points_on(today) - int(points))
    licence.last_deducted_on = today
    licence.version += 1
    licence.save(update_fields=["points", "last_deducted_on", "version"])
    DocumentEvent.objects.create(document_kind="driving_licence", document_number=licence.number,
                                 person_id_number=licence.person.id_number, action="deduct", actor=actor.label,
                                 actor_unit=actor.unit_name or actor.unit_code,
                                 reason=f"-{int(points)}: {reason}"[:300], legal_ref=legal_ref)
    outbox.emit(topic=TOPIC_LICENCE_POINTS, aggregate_id=licence.number,
                payload={"points": licence.points, "person": licence.person.id_number})
    return licence


def clean_classes(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Known class codes, no duplicates, ISO dates: what the wallet puts into credentials."""
    seen: set[str] = set()
    cleaned = []
    for item in classes:
        code = str(item.get("class", "")).upper()
        if code not in LICENCE_CLASSES or code in seen:
            raise InvalidLicenceClass(_("Hạng %(c)s không hợp lệ hoặc bị trùng") % {"c": code}, field="classes")
        seen.add(code)
        cleaned.append({"class": code, "issued_on": str(item["issued_on"]),
                        "valid_until": str(item.get("valid_until") or "")})
    if not cleaned:
        raise InvalidLicenceClass(_("Giấy phép cần ít nhất một hạng"), field="classes")
    return cleaned


@transaction.atomic
def issue_licence(*, actor: Actor, person: Person, number: str, classes: list[dict[str, Any]], issued_on: date,
                  valid_until: date | None, issued_by: str) -> DrivingLicence:
    """A new licence for a living adult in the actor's jurisdiction (the seeder uses the system actor)."""
    actor.require(Permission.DOCUMENT_WRITE)
    if not actor.covers_commune(person.commune_code):
        raise DocumentNotFound(_("Không tìm thấy công dân"), field="id_number")
    licence = DrivingLicence.objects.create(
        number=number, person=person, classes=clean_classes(classes), issued_on=issued_on, valid_until=valid_until,
        issued_by=issued_by, points=LICENCE_POINTS)
    DocumentEvent.objects.create(document_kind="driving_licence", document_number=number,
                                 person_id_number=person.id_number, action="issue", actor=actor.label,
                                 actor_unit=actor.unit_name or actor.unit_code, reason=_("Cấp mới"), legal_ref="")
    return licence


# --- vehicle registrations ----------------------------------------------------------------------
# Another app may hold a vehicle's procedures (traffic: an overdue fine, "tạm dừng giải quyết thủ
# tục đăng ký xe"). A hold is a function of the locked registration that
# returns the reasons, already translated, why no registration change may be made now; apps
# register theirs in AppConfig.ready, so documents never imports them.
VehicleHold = Callable[[VehicleRegistration], list[str]]
_VEHICLE_HOLDS: list[VehicleHold] = []


def register_vehicle_hold(hold: VehicleHold) -> None:
    if hold not in _VEHICLE_HOLDS:
        _VEHICLE_HOLDS.append(hold)


def vehicle_holds(vehicle: VehicleRegistration) -> list[str]:
    """Every reason why a procedure on this vehicle is refused now (empty: none)."""
    return [reason for hold in _VEHICLE_HOLDS for reason in hold(vehicle)]


@transaction.atomic
def change_vehicle_registration(*, actor: Actor, plate: str, reason: str, new_owner_id_number: str = "",
                                new_address: str = "", new_plate: str = "",
                                expected_version: int | None = None) -> VehicleRegistration:
    """Đăng ký sang tên / đổi địa chỉ (Circular 79/2024/TT-BCA): a change of owner (the buyer, a
    living person other than the seller; the plate may change, since an identifier plate stays with
    its owner) and/or of the owner's address printed on the certificate. Refused, with every
    reason, while a hold is recorded against the vehicle (e.g. a traffic fine past its deadline).
    The officer must cover the current owner's commune (outside it looks like a missing vehicle)."""
    actor.require(Permission.DOCUMENT_WRITE)
    reason = _require_reason(reason)
    new_owner_id_number, new_address = (new_owner_id_number or "").strip(), (new_address or "").strip()
    new_plate = (new_plate or "").strip().upper()
    if not new_owner_id_number and not new_address:
        raise ValidationFailed([{"field": "new_owner_id_number", "reason": "required",
                                 "message": _("Cần ghi chủ xe mới hoặc địa chỉ mới")}])
    if len(new_address) > 300 or len(new_plate) > 15:
        raise ValidationFailed([{"field": "new_address" if len(new_address) > 300 else "new_plate",
                                 "reason": "too_long", "message": _("Quá dài")}])
    vehicle = (VehicleRegistration.objects.select_for_update().select_related("owner")
               .filter(plate=(plate or "").strip().upper(), is_active=True).first())
    if vehicle is None or not actor.covers_commune(vehicle.owner.commune_code):
        raise DocumentNotFound(_("Không tìm thấy đăng ký xe biển số %(p)s") % {"p": plate}, field="plate")
    if expected_version is not None and vehicle.version != expected_version:
        raise StaleVersion(_("Phiên bản %(expected)d đã cũ, phiên bản hiện tại là %(current)d")
                           % {"expected": expected_version, "current": vehicle.version},
                           field="version", current_version=vehicle.version)
    holds = vehicle_holds(vehicle)
    if holds:
        raise VehicleOnHold("; ".join(holds), field="plate")
    actions, fields = [], ["version"]
    if new_owner_id_number:
        buyer = Person.objects.filter(id_number=new_owner_id_number, status=PersonStatus.ALIVE).first()
        if buyer is None or buyer.pk == vehicle.owner_id:
            raise ValidationFailed([{"field": "new_owner_id_number", "reason": "invalid",
                                     "message": _("Chủ xe mới phải là công dân còn sống, khác chủ xe hiện tại")}])
        if new_plate and new_plate != vehicle.plate:
            if VehicleRegistration.objects.filter(plate=new_plate).exists():
                raise ValidationFailed([{"field": "new_plate", "reason": "taken",
                                         "message": _("Biển số đã được cấp cho xe khác")}])
            vehicle.plate = new_plate
            fields.append("plate")
        vehicle.owner, vehicle.registered_on = buyer, timezone.localdate()
        vehicle.owner_address = new_address
        fields += ["owner", "registered_on", "owner_address"]
        actions.append("transfer")
    elif new_plate:
        raise ValidationFailed([{"field": "new_plate", "reason": "not_allowed",
                                 "message": _("Chỉ đổi biển số khi sang tên")}])
    else:
        vehicle.owner_address = new_address
        fields.append("owner_address")
        actions.append("change_address")
    vehicle.version += 1
    vehicle.save(update_fields=fields)
    for action in actions:
        DocumentEvent.objects.create(document_kind="vehicle_registration", document_number=vehicle.plate,
                                     person_id_number=vehicle.owner.id_number, action=action, actor=actor.label,
                                     actor_unit=actor.unit_name or actor.unit_code, reason=reason,
                                     legal_ref=LEGAL_REF_VEHICLE)
    outbox.emit(topic=TOPIC_VEHICLE_REGISTRATION, aggregate_id=str(vehicle.pk),
                payload={"plate": vehicle.plate, "owner": vehicle.owner.id_number, "actions": actions})
    return vehicle
