"""Commands on the document registries. Like the registry commands: keyword-only, actor first,
one transaction, jurisdiction and write permission checked here, optimistic locking on the
licence ``version``, a ``DocumentEvent`` row and a registry ``OutboxEvent`` per change (the
wallet turns the outbox event into a credential status change, see ``wallet.events``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import outbox
from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission
from popid.documents.errors import DocumentNotFound, InvalidDocumentState, InvalidLicenceClass
from popid.documents.models import (
    LICENCE_CLASSES,
    LICENCE_POINTS,
    DocumentEvent,
    DrivingLicence,
    LicenceStatus,
)
from popid.registry.errors import StaleVersion
from popid.registry.models import Person

TOPIC_LICENCE_STATUS = "documents.licence_status"
TOPIC_LICENCE_POINTS = "documents.licence_points"
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
