"""Commands of records digitisation: upload a scan (OCR follows in the background), retry a
failed OCR, confirm or reject a proposed person link, link a person by number. Each runs in one
transaction; refused input changes nothing."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import outbox
from popid.core.access import Actor
from popid.core.admin_units import communes, provinces
from popid.core.errors import ValidationFailed
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission
from popid.police.selectors import covers_unit
from popid.records import ocr, selectors, tasks
from popid.records.errors import LinkAlreadyDecided, LinkNotFound
from popid.records.models import LinkSource, LinkState, OcrState, PersonLink, RecordKind, ScannedRecord

MAX_TITLE = 300
MAX_REF = 120


def check_upload_size(size: int) -> None:
    """Called with the upload's declared size before its content is read."""
    ocr.check_size(size)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": "invalid", "message": message}])


def _default_unit(actor: Actor) -> str:
    if actor.level in {ScopeLevel.COMMUNE, ScopeLevel.PROVINCE}:
        return actor.unit_code
    return ""


def upload_record(*, actor: Actor, kind: str, title: str, content: bytes, file_name: str = "",
                  original_ref: str = "", unit_code: str = "") -> ScannedRecord:
    """Store a scanned record for a unit in the officer's jurisdiction and queue its OCR."""
    actor.require(Permission.RECORDS_WRITE)
    unit_code = (unit_code or _default_unit(actor)).strip()
    title, original_ref = " ".join((title or "").split()), (original_ref or "").strip()
    if kind not in RecordKind.values:
        raise _invalid("kind", _("Loại hồ sơ không hợp lệ"))
    if not title or len(title) > MAX_TITLE:
        raise _invalid("title", _("Cần tiêu đề (tối đa %(n)d ký tự)") % {"n": MAX_TITLE})
    if len(original_ref) > MAX_REF:
        raise _invalid("original_ref", _("Số hiệu bản gốc tối đa %(n)d ký tự") % {"n": MAX_REF})
    if not unit_code or (unit_code not in communes() and unit_code not in provinces()):
        raise _invalid("unit_code", _("Cần mã xã/phường hoặc tỉnh/thành phố đang hoạt động"))
    if not covers_unit(actor, unit_code):
        raise _invalid("unit_code", _("Đơn vị này không thuộc phạm vi quản lý của cán bộ"))
    ocr.check_size(len(content))
    content_type = ocr.sniff(content)
    ocr.check_readable(content, content_type)
    with transaction.atomic():
        record = ScannedRecord.objects.create(
            unit_code=unit_code, province_code=selectors.province_of_unit(unit_code),
            kind=kind, title=title, original_ref=original_ref, file_name=(file_name or "scan")[-200:],
            content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
            content=content, uploaded_by=actor.label)
        outbox.emit(topic="records.uploaded", aggregate_id=str(record.pk),
                    payload={"unit_code": unit_code, "kind": kind, "sha256": record.sha256})
        tasks.ocr_record.enqueue(record.pk)
    return record


def retry_ocr(*, actor: Actor, pk: int) -> ScannedRecord:
    """Queue the OCR again for a record whose OCR failed (after a fix of the OCR host)."""
    actor.require(Permission.RECORDS_WRITE)
    with transaction.atomic():
        record = selectors.record_for_officer(actor=actor, pk=pk, for_update=True)
        if record.ocr_state not in {OcrState.RETRY, OcrState.FAILED}:
            raise _invalid("ocr_state", _("Hồ sơ này không ở trạng thái nhận dạng lỗi"))
        record.ocr_state = OcrState.PENDING
        record.ocr_attempts = 0
        record.version += 1
        record.save(update_fields=["ocr_state", "ocr_attempts", "version"])
        tasks.ocr_record.enqueue(record.pk)
    return record


DECISIONS = {"confirm": LinkState.CONFIRMED, "reject": LinkState.REJECTED}


def decide_link(*, actor: Actor, record_pk: int, link_pk: int, decision: str) -> PersonLink:
    actor.require(Permission.RECORDS_WRITE)
    if decision not in DECISIONS:
        raise _invalid("decision", _("Quyết định phải là xác nhận hoặc bác bỏ"))
    with transaction.atomic():
        record = selectors.record_for_officer(actor=actor, pk=record_pk)
        link = PersonLink.objects.select_for_update().filter(pk=link_pk, record=record).first()
        if link is None:
            raise LinkNotFound()
        if link.state != LinkState.PROPOSED:
            raise LinkAlreadyDecided()
        link.state = DECISIONS[decision]
        link.decided_by_id = actor.user_id
        link.decided_at = timezone.now()
        link.save(update_fields=["state", "decided_by", "decided_at"])
        outbox.emit(topic=f"records.link_{link.state}", aggregate_id=str(record.pk),
                    payload={"link": link.pk, "person": link.person_id})
    return link


def link_person(*, actor: Actor, record_pk: int, id_number: str, note: str = "") -> PersonLink:
    """An officer links a person the OCR did not find, by 12-digit ID or 9-digit CMND number; a
    number no registry person holds is refused."""
    actor.require(Permission.RECORDS_WRITE)
    with transaction.atomic():
        record = selectors.record_for_officer(actor=actor, pk=record_pk)
        person = selectors.person_for_record(actor=actor, record=record, id_number=id_number)
        link = PersonLink.objects.select_for_update().filter(record=record, person=person).first()
        now = timezone.now()
        if link is None:
            link = PersonLink.objects.create(record=record, person=person, source=LinkSource.MANUAL,
                                             mention=(note or id_number)[:300], score=1.0, state=LinkState.CONFIRMED,
                                             decided_by_id=actor.user_id, decided_at=now)
        elif link.state != LinkState.CONFIRMED:
            link.state, link.decided_by_id, link.decided_at = LinkState.CONFIRMED, actor.user_id, now
            link.save(update_fields=["state", "decided_by", "decided_at"])
        outbox.emit(topic="records.link_confirmed", aggregate_id=str(record.pk),
                    payload={"link": link.pk, "person": person.pk})
    return link
