"""Commands of the traffic app: ingest a detection (API and CSV), review it, decide the penalty
and notify the owner, and apply the payment gateway's notice (close the decision, deduct the
licence points through ``documents.services.deduct_points``).

Each command is keyword-only, runs in one transaction and leaves nothing behind when it refuses."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import admin_units, outbox
from popid.core.access import AccessContext, Actor, record_access
from popid.core.errors import ValidationFailed
from popid.core.messaging import send_sms
from popid.documents.models import DrivingLicence, LicenceStatus, VehicleRegistration
from popid.identity.models import CitizenAccount
from popid.services.models import Payment, PaymentPurpose, PaymentState, Refund
from popid.services.payments import ledger
from popid.services.payments.base import Gateway, Notice, get_gateway
from popid.traffic.catalogue import Violation, get_violation
from popid.traffic.errors import (
    AmountOutOfRange,
    AppealNotAllowed,
    DecisionAlreadyPaid,
    DecisionNotFound,
    DetectionNotFound,
    DriverNotEligible,
    InvalidDetectionState,
    InvalidEvidence,
    NominationNotAllowed,
    UnknownViolation,
)
from popid.traffic.models import (
    APPEAL_DAYS,
    TOPIC_FINE_ISSUED,
    Appeal,
    AppealState,
    Decision,
    DecisionState,
    Detection,
    DetectionState,
    DriverNomination,
    EvidenceImage,
    FineNotice,
    FinePayment,
    ManualReason,
    NominationState,
    VehicleKind,
)
from popid.traffic.plates import Plate, plate_key_or_raw

logger = logging.getLogger(__name__)
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGES = 4
CLOCK_SKEW = timedelta(minutes=2)
MAX_AGE = timedelta(days=365)  # Law on Handling Administrative Violations Art. 6: one-year limitation
IMAGE_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
LAT_RANGE, LON_RANGE = (Decimal("8.0"), Decimal("23.5")), (Decimal("102.0"), Decimal("117.5"))
OWNER_PURPOSE = "Xác định chủ phương tiện vi phạm giao thông (phạt nguội)"
LEGAL_BASIS = "Luật Xử lý vi phạm hành chính 2012; Nghị định 168/2024/NĐ-CP"
OWNER_FIELDS = ["vehicle_registration", "full_name", "id_number"]
MOTORBIKE_CLASSES = {"A1", "A", "A2", "A3", "A4"}


def _invalid(field_name: str, reason: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field_name, "reason": reason, "message": message}])


@dataclass(frozen=True)
class IncomingImage:
    name: str
    content: bytes


@dataclass
class IncomingDetection:
    device_id: str
    plate: str
    vehicle_kind: str
    detected_at: datetime
    commune_code: str
    latitude: Decimal | float | str
    longitude: Decimal | float | str
    violation_code: str
    measured_value: Decimal | float | str | None = None
    images: list[IncomingImage] = field(default_factory=list)


def registration_kind(vehicle: VehicleRegistration) -> VehicleKind:
    text = vehicle.vehicle_type.lower()
    return VehicleKind.MOTORBIKE if ("mô tô" in text or "gắn máy" in text) else VehicleKind.CAR


def find_vehicle(plate: Plate) -> VehicleRegistration | None:
    """The active registration carrying this plate, whatever spelling the registry stored."""
    return (VehicleRegistration.objects.select_related("owner").filter(plate__in=plate.spellings(), is_active=True)
            .first())


def _decimal(value: object, name: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(name, "invalid", _("Không phải số")) from None
    if not number.is_finite() or not low <= number <= high:
        raise _invalid(name, "range", _("Ngoài khoảng %(a)s – %(b)s") % {"a": low, "b": high})
    return number.quantize(Decimal("0.00001"))


def _check_images(images: list[IncomingImage]) -> list[tuple[IncomingImage, str, str]]:
    if len(images) > MAX_IMAGES:
        raise InvalidEvidence(_("Tối đa %(n)d ảnh") % {"n": MAX_IMAGES}, field="evidence")
    checked = []
    for index, image in enumerate(images):
        name = f"evidence[{index}]"
        if len(image.content) > MAX_IMAGE_BYTES:
            raise InvalidEvidence(_("Ảnh vượt quá %(kb)d KB") % {"kb": MAX_IMAGE_BYTES // 1024}, field=name)
        kind = next((t for t, magics in IMAGE_MAGIC.items() if image.content.startswith(magics)), None)
        if kind is None:
            raise InvalidEvidence(_("Tệp không phải ảnh JPEG hoặc PNG"), field=name)
        checked.append((image, kind, hashlib.sha256(image.content).hexdigest()))
    return checked


def _validate(data: IncomingDetection, now: datetime) -> tuple[Violation, dict[str, object]]:
    errors = []
    device = (data.device_id or "").strip()
    if not device or len(device) > 40:
        errors.append({"field": "device_id", "reason": "invalid", "message": _("Mã thiết bị từ 1 đến 40 ký tự")})
    if data.vehicle_kind not in VehicleKind.values:
        errors.append({"field": "vehicle_kind", "reason": "invalid",
                       "message": _("Loại xe phải là car hoặc motorbike")})
    detected_at = data.detected_at
    if timezone.is_naive(detected_at):
        errors.append({"field": "detected_at", "reason": "naive", "message": _("Thời điểm cần có múi giờ")})
    elif detected_at > now + CLOCK_SKEW:
        errors.append({"field": "detected_at", "reason": "future", "message": _("Thời điểm vi phạm ở tương lai")})
    elif detected_at < now - MAX_AGE:
        errors.append({"field": "detected_at", "reason": "too_old",
                       "message": _("Đã hết thời hiệu xử phạt (một năm)")})
    if not admin_units.is_active_commune(data.commune_code or ""):
        errors.append({"field": "commune_code", "reason": "unknown", "message": _("Mã xã/phường không tồn tại")})
    if errors:
        raise ValidationFailed(errors)
    violation = get_violation(data.violation_code)
    if violation is None:
        raise UnknownViolation(_("Mã lỗi %(c)s không có trong danh mục") % {"c": data.violation_code},
                               field="violation_code")
    measured = None
    if violation.measured != "none":
        if data.measured_value is None:
            raise _invalid("measured_value", "required", _("Lỗi này cần giá trị đo (tốc độ, nồng độ cồn)"))
        measured = _decimal(data.measured_value, "measured_value", Decimal(0), Decimal(999))
    values = {"device_id": device, "latitude": _decimal(data.latitude, "latitude", *LAT_RANGE),
              "longitude": _decimal(data.longitude, "longitude", *LON_RANGE), "measured_value": measured}
    return violation, values


def ingest_detection(*, source: str, data: IncomingDetection, now: datetime | None = None) -> tuple[Detection, bool]:
    """Store one detection (idempotent on device, plate and time): returns (detection, created).
    A readable plate of a registered vehicle of the stated kind waits for an officer; anything
    else goes to the manual queue with its reason. Bad input raises and writes nothing."""
    now = now or timezone.now()
    violation, values = _validate(data, now)
    images = _check_images(data.images)
    plate, key = plate_key_or_raw(data.plate, vehicle_kind=data.vehicle_kind)
    existing = Detection.objects.filter(device_id=values["device_id"], plate_key=key,
                                        detected_at=data.detected_at).first()
    if existing is not None:
        return existing, False
    vehicle, reason = None, ""
    if plate is None:
        reason = ManualReason.UNREADABLE
    else:
        vehicle = find_vehicle(plate)
        if vehicle is None:
            reason = ManualReason.UNKNOWN_VEHICLE
        elif registration_kind(vehicle) != data.vehicle_kind:
            reason = ManualReason.KIND_MISMATCH
        elif not violation.applies_to(data.vehicle_kind):
            reason = ManualReason.NOT_APPLICABLE
    try:
        with transaction.atomic():
            detection = Detection.objects.create(
                plate_text=(data.plate or "").strip()[:20], plate_key=key, plate_display=plate.display if plate else "",
                vehicle_kind=data.vehicle_kind, detected_at=data.detected_at, commune_code=data.commune_code,
                violation_code=violation.code, state=DetectionState.MANUAL if reason else DetectionState.PENDING,
                manual_reason=reason, vehicle=vehicle, source=source[:60], **values)
            for index, (image, kind, digest) in enumerate(images):
                stored = EvidenceImage(detection=detection, sha256=digest, content_type=kind, size=len(image.content))
                stored.file.save(f"{detection.pk}-{index}-{digest[:16]}.{EXTENSIONS[kind]}", ContentFile(image.content),
                                 save=False)
                stored.save()
            if vehicle is not None:  # the owner was looked up: the citizen's access history shows it
                record_access(ctx=AccessContext(actor=Actor.system(f"traffic:{source}"[:200]), purpose=OWNER_PURPOSE,
                                                legal_basis=LEGAL_BASIS, channel="traffic"),
                              person_id_numbers=[vehicle.owner.id_number], fields=OWNER_FIELDS)
    except IntegrityError:  # the same detection arrived concurrently
        existing = Detection.objects.filter(device_id=values["device_id"], plate_key=key,
                                            detected_at=data.detected_at).first()
        if existing is None:
            raise
        return existing, False
    return detection, True


# --- officer review and decision --------------------------------------------------------------------
def _lock_detection(*, actor: Actor, pk: int) -> Detection:
    actor.require_write()
    detection = Detection.objects.select_for_update().filter(pk=pk).first()
    if detection is None or not actor.covers_commune(detection.commune_code):
        raise DetectionNotFound()
    return detection


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "required", _("Cần ghi lý do"))
    return reason[:300]


@transaction.atomic
def reject_detection(*, actor: Actor, pk: int, reason: str) -> Detection:
    reason = _reason(reason)
    detection = _lock_detection(actor=actor, pk=pk)
    if detection.state not in {DetectionState.PENDING, DetectionState.MANUAL}:
        raise InvalidDetectionState()
    detection.state, detection.review_reason = DetectionState.REJECTED, reason
    detection.reviewed_by, detection.reviewed_unit = actor.label[:150], (actor.unit_name or actor.unit_code)[:200]
    detection.reviewed_at = timezone.now()
    detection.save(update_fields=["state", "review_reason", "reviewed_by", "reviewed_unit", "reviewed_at"])
    return detection


def _decision_number(detection: Detection, day: datetime) -> str:
    return f"{detection.pk:07d}/QĐ-XPHC-{detection.commune_code}-{day:%Y}"


@transaction.atomic
def confirm_detection(*, actor: Actor, pk: int, amount: int, reason: str, plate: str = "") -> Decision:
    """Xác nhận vi phạm và ra quyết định xử phạt: the amount must be inside the catalogue's range;
    a detection from the manual queue needs the plate read by the officer (matched again against
    the vehicle registry). The owner is notified in the portal and by SMS in the same step, so the
    payment deadline (10 days) runs from the decision's notice date."""
    reason = _reason(reason)
    detection = _lock_detection(actor=actor, pk=pk)
    if detection.state not in {DetectionState.PENDING, DetectionState.MANUAL}:
        raise InvalidDetectionState()
    violation = get_violation(detection.violation_code)
    if violation is None:
        raise UnknownViolation(field="violation_code")
    in_range = (isinstance(amount, int) and not isinstance(amount, bool)
                and violation.fine_min <= amount <= violation.fine_max)
    if not in_range:
        raise AmountOutOfRange(_("Mức phạt phải từ %(a)s đến %(b)s đồng") % {
            "a": f"{violation.fine_min:,}".replace(",", "."), "b": f"{violation.fine_max:,}".replace(",", ".")},
            field="amount")
    vehicle = detection.vehicle
    if detection.state == DetectionState.MANUAL:
        read, key = plate_key_or_raw(plate or detection.plate_text, vehicle_kind=detection.vehicle_kind)
        vehicle = find_vehicle(read) if read else None
        if read is None or vehicle is None:
            raise _invalid("plate", "unknown_vehicle", _("Không tìm thấy đăng ký xe của biển số này"))
        if registration_kind(vehicle) != detection.vehicle_kind or not violation.applies_to(detection.vehicle_kind):
            raise _invalid("plate", "kind_mismatch", _("Loại xe của đăng ký không khớp lỗi vi phạm"))
        detection.plate_key, detection.plate_display, detection.vehicle = key, read.display, vehicle
    assert vehicle is not None
    now = timezone.now()
    detection.state, detection.review_reason = DetectionState.CONFIRMED, reason
    detection.reviewed_by, detection.reviewed_unit = actor.label[:150], (actor.unit_name or actor.unit_code)[:200]
    detection.reviewed_at = now
    detection.save()
    owner = vehicle.owner
    today = timezone.localdate()
    decision = Decision.objects.create(
        detection=detection, number=_decision_number(detection, now), violation_code=violation.code,
        legal_ref=violation.legal_ref, amount=amount, points=violation.points, plate_key=detection.plate_key,
        plate_display=detection.plate_display, vehicle=vehicle, owner=owner, commune_code=detection.commune_code,
        decided_by=actor.label[:150], decided_unit=(actor.unit_name or actor.unit_code)[:200], decided_at=now,
        notified_on=today, due_on=Decision.due_from(today))
    record_access(ctx=AccessContext(actor=actor, purpose=OWNER_PURPOSE, legal_basis=LEGAL_BASIS, channel="console"),
                  person_id_numbers=[owner.id_number], fields=OWNER_FIELDS)
    _notify_owner(decision)
    outbox.emit(topic=TOPIC_FINE_ISSUED, aggregate_id=str(decision.pk), payload={"decision": decision.pk})
    return decision


def _notify_owner(decision: Decision) -> None:
    accounts = list(CitizenAccount.objects.filter(person=decision.owner))
    FineNotice.objects.bulk_create([FineNotice(decision=decision, account=a) for a in accounts])
    text = (f"PopID: Phuong tien {decision.plate_display} vi pham giao thong, quyet dinh {decision.number}, "
            f"phat {decision.amount} dong, han nop {decision.due_on:%d/%m/%Y}. Tra cuu tai muc Phat nguoi.")
    phones = {a.phone for a in accounts if a.phone and a.is_active}

    def send() -> None:
        for phone in sorted(phones):
            send_sms(phone, text)

    transaction.on_commit(send)


def overdue_decisions(vehicle: VehicleRegistration) -> list[Decision]:
    """Unpaid decisions on this vehicle whose payment deadline has passed."""
    return list(Decision.objects.filter(vehicle=vehicle, state=DecisionState.UNPAID,
                                        due_on__lt=timezone.localdate()).order_by("due_on", "pk"))


def overdue_fine_holds(vehicle: VehicleRegistration) -> list[str]:
    """The documents app's vehicle hold: every overdue unpaid fine refuses a registration change
    (the registration authority waits until a camera-detected fine is settled; the article of
    Circular 73/2024/TT-BCA that says so is not verified here, see docs/traffic.md)."""
    return [_("Quyết định xử phạt %(n)s quá hạn nộp phạt từ %(d)s (%(a)s đồng, gồm tiền chậm nộp)") % {
        "n": d.number, "d": d.due_on.strftime("%d/%m/%Y"), "a": f"{d.amount_due():,}".replace(",", ".")}
        for d in overdue_decisions(vehicle)]


# --- payment -----------------------------------------------------------------------------------------
def decision_for_payer(*, number: str, plate: str) -> Decision:
    """Anyone holding the decision number and the plate may pay; a wrong plate looks like a
    missing decision (no hint that the number exists)."""
    decision = Decision.objects.filter(number=(number or "").strip()[:40]).first()
    read, key = plate_key_or_raw(plate)
    if decision is None or read is None or key != decision.plate_key:
        raise DecisionNotFound()
    return decision


def start_fine_payment(*, number: str, plate: str, return_url: str, callback_url: str,
                       gateway: Gateway | None = None) -> tuple[Payment, str]:
    """Open (or reuse the open) payment of the amount due today in the shared payment ledger."""
    gateway = gateway or get_gateway()
    with transaction.atomic():
        decision = decision_for_payer(number=number, plate=plate)
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.state == DecisionState.PAID:
            raise DecisionAlreadyPaid()
        if decision.state == DecisionState.CANCELLED or decision.appeals.filter(state=AppealState.PENDING).exists():
            raise AppealNotAllowed(_("Quyết định đang được giải quyết khiếu nại hoặc đã bị hủy"))
        due = decision.amount_due()
        payment = (Payment.objects.filter(fine__decision=decision, state=PaymentState.PENDING, amount=due,
                                          gateway=gateway.name).order_by("-created_at").first())
        if payment is None:
            payment = ledger.open_payment(purpose=PaymentPurpose.TRAFFIC_FINE, amount=due, gateway=gateway.name,
                                          prefix="TF", description=f"Nộp phạt quyết định {decision.number}")
            FinePayment.objects.create(payment=payment, decision=decision)
    url = gateway.start(order_id=payment.order_id, amount=payment.amount, description=payment.description,
                        return_url=return_url.replace("ORDER_ID", payment.order_id), callback_url=callback_url)
    return payment, url


def process_fine_notice(body: bytes, signature: str, *, source: str = "callback", gateway: Gateway | None = None,
                        now: datetime | None = None) -> Payment:
    """Verify and apply a gateway notice through the shared ledger (signature, freshness ±5 min,
    unseen nonce, known order, exact amount); the ledger calls ``on_fine_notice``."""
    return ledger.process_notice(body, signature, source=source, gateway=gateway, now=now)


def on_fine_notice(payment: Payment, notice: Notice, now: datetime) -> None:
    """The ledger's handler for traffic fines (inside its transaction, the payment locked). A paid
    notice closes the decision and deducts the points; money taken for a decision already paid or
    cancelled on appeal is recorded as paid and refunded in full through the gateway."""
    if notice.status == "declined":
        ledger.record_declined(payment, now)
        return
    if payment.state == PaymentState.PAID:
        return
    decision_id = FinePayment.objects.filter(payment=payment).values_list("decision_id", flat=True).get()
    decision = Decision.objects.select_for_update().get(pk=decision_id)
    ledger.record_paid(payment, notice, now)
    if decision.state in {DecisionState.PAID, DecisionState.CANCELLED}:
        reason = (_("Quyết định đã được nộp phạt trước đó") if decision.state == DecisionState.PAID
                  else _("Quyết định đã bị hủy theo kết quả khiếu nại"))
        ledger.open_refund(payment, reason=str(reason), requested_by="system:traffic")
        logger.warning("payment %s for closed decision %s: refunded", payment.order_id, decision.number)
        return
    decision.state, decision.paid_at, decision.paid_amount = DecisionState.PAID, now, payment.amount
    _deduct_points(decision)
    decision.save(update_fields=["state", "paid_at", "paid_amount", "deducted_licence", "deduction_note"])


def reconcile_payment(payment: Payment, *, gateway: Gateway | None = None) -> Payment:
    """Ask the gateway about a pending payment (the return page, or a lost callback)."""
    return ledger.query_gateway(payment, gateway=gateway)


def responsible_licence(decision: Decision) -> DrivingLicence | None:
    """The licence of the driver who confirmed being named, else the owner's: an active licence
    with a class for the vehicle (A* for motorbikes, any other class for cars)."""
    accepted = decision.nominations.filter(state=NominationState.ACCEPTED).first()
    person_id = accepted.nominee_id if accepted else decision.owner_id
    return _licence_for(person_id, decision.detection.vehicle_kind)


def _deduct_points(decision: Decision) -> None:
    from popid.documents.services import deduct_points

    if not decision.points:
        decision.deduction_note = _("Lỗi này không bị trừ điểm")
        return
    licence = responsible_licence(decision)
    if licence is None:
        decision.deduction_note = _("Người chịu trách nhiệm không có giấy phép lái xe phù hợp còn hiệu lực")
        return
    deduct_points(actor=Actor.system("traffic"), number=licence.number, points=decision.points,
                  reason=f"Quyết định {decision.number}", legal_ref=decision.legal_ref[:200])
    decision.deducted_licence = licence.number
    decision.deduction_note = _("Đã trừ %(n)d điểm") % {"n": decision.points}


# --- naming the driver -------------------------------------------------------------------------------
def _licence_for(person_id: int, vehicle_kind: str) -> DrivingLicence | None:
    for licence in DrivingLicence.objects.filter(person_id=person_id, status=LicenceStatus.ACTIVE).order_by("number"):
        classes = set(licence.class_codes)
        if (vehicle_kind == VehicleKind.MOTORBIKE and classes & MOTORBIKE_CLASSES) or (
                vehicle_kind == VehicleKind.CAR and classes - MOTORBIKE_CLASSES):
            return licence
    return None


@transaction.atomic
def name_driver(*, account: CitizenAccount, number: str, id_number: str) -> DriverNomination:
    """The owner names who was driving (an ID number of a living person holding a valid licence
    for the vehicle's class). A missing person and one without such a licence get the same answer,
    so the form reveals nothing about other people's licences."""
    from popid.registry.models import Person, PersonStatus

    decision = (Decision.objects.select_for_update().select_related("detection")
                .filter(number=(number or "").strip(), owner_id=account.person_id).first())
    if decision is None:
        raise DecisionNotFound()
    if decision.state == DecisionState.PAID or decision.nominations.exclude(
            state=NominationState.DECLINED).exists():
        raise NominationNotAllowed()
    id_number = (id_number or "").strip()
    nominee = Person.objects.filter(id_number=id_number, status=PersonStatus.ALIVE).first() if id_number else None
    if (nominee is None or nominee.pk == account.person_id
            or _licence_for(nominee.pk, decision.detection.vehicle_kind) is None):
        raise DriverNotEligible(field="id_number")
    record_access(ctx=AccessContext(actor=Actor.system("traffic:nomination"), purpose="Xác định người điều khiển "
                                    "phương tiện theo đề nghị của chủ xe", legal_basis=LEGAL_BASIS, channel="portal"),
                  person_id_numbers=[nominee.id_number], fields=["driving_licence"])
    return DriverNomination.objects.create(decision=decision, nominee=nominee, named_by=account)


@transaction.atomic
def answer_nomination(*, account: CitizenAccount, pk: int, accept: bool) -> DriverNomination:
    nomination = (DriverNomination.objects.select_for_update().select_related("decision")
                  .filter(pk=pk, nominee_id=account.person_id).first())
    if nomination is None:
        raise DecisionNotFound()
    if nomination.state != NominationState.PENDING or nomination.decision.state == DecisionState.PAID:
        raise NominationNotAllowed()
    nomination.state = NominationState.ACCEPTED if accept else NominationState.DECLINED
    nomination.answered_at = timezone.now()
    nomination.save(update_fields=["state", "answered_at"])
    return nomination


# --- appeals ---------------------------------------------------------------------------------------------
ATTACHMENT_MAGIC = {"application/pdf": (b"%PDF-",), **IMAGE_MAGIC}
ATTACHMENT_EXTENSIONS = {"application/pdf": "pdf", **EXTENSIONS}


@transaction.atomic
def file_appeal(*, account: CitizenAccount, number: str, reason: str,
                attachment: IncomingImage | None = None) -> Appeal:
    """The owner contests an unpaid decision (reason required; one PDF/JPEG/PNG up to 2 MB)."""
    decision = Decision.objects.select_for_update().filter(number=(number or "").strip(),
                                                           owner_id=account.person_id).first()
    if decision is None:
        raise DecisionNotFound()
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise _invalid("reason", "required", _("Cần nêu lý do khiếu nại (tối đa 2.000 ký tự)"))
    if decision.state != DecisionState.UNPAID or decision.appeals.filter(state=AppealState.PENDING).exists():
        raise AppealNotAllowed()
    kind, digest = "", ""
    if attachment is not None:
        if len(attachment.content) > MAX_IMAGE_BYTES:
            raise InvalidEvidence(_("Tệp vượt quá %(kb)d KB") % {"kb": MAX_IMAGE_BYTES // 1024}, field="attachment")
        kind = next((t for t, magics in ATTACHMENT_MAGIC.items() if attachment.content.startswith(magics)), "")
        if not kind:
            raise InvalidEvidence(_("Tệp đính kèm phải là PDF, JPEG hoặc PNG"), field="attachment")
        digest = hashlib.sha256(attachment.content).hexdigest()
    appeal = Appeal(decision=decision, account=account, reason=reason, attachment_sha256=digest,
                    due_on=timezone.localdate() + timedelta(days=APPEAL_DAYS))
    if attachment is not None:
        appeal.attachment.save(f"{decision.pk}-{digest[:16]}.{ATTACHMENT_EXTENSIONS[kind]}",
                               ContentFile(attachment.content), save=False)
    appeal.save()
    return appeal


@transaction.atomic
def decide_appeal(*, actor: Actor, pk: int, cancel: bool, answer: str) -> Appeal:
    """An officer of the unit that covers the violation's commune upholds or cancels."""
    actor.require_write()
    answer = _reason(answer)
    appeal = Appeal.objects.select_for_update().select_related("decision").filter(pk=pk).first()
    if appeal is None or not actor.covers_commune(appeal.decision.commune_code):
        raise DecisionNotFound()
    if appeal.state != AppealState.PENDING or (cancel and appeal.decision.state != DecisionState.UNPAID):
        raise AppealNotAllowed()
    appeal.state = AppealState.CANCELLED if cancel else AppealState.UPHELD
    appeal.decided_by, appeal.decided_at, appeal.answer = actor.label[:150], timezone.now(), answer
    appeal.save(update_fields=["state", "decided_by", "decided_at", "answer"])
    if cancel:
        Decision.objects.filter(pk=appeal.decision_id).update(state=DecisionState.CANCELLED)
    return appeal


@dataclass
class ReconcileReport:
    queried: int = 0
    recorded_paid: int = 0
    still_pending: int = 0
    refunds: list[str] = field(default_factory=list)  # money given back for a closed or cancelled decision


def reconcile(*, older_than: timedelta = timedelta(0), gateway: Gateway | None = None) -> ReconcileReport:
    """Ask the gateway about every pending fine payment (a lost callback is recovered; safe to run
    any time, it never applies a payment twice), send refunds still pending, and list the refunds."""
    gateway = gateway or get_gateway()
    report = ReconcileReport()
    cutoff = timezone.now() - older_than
    for payment in Payment.objects.filter(purpose=PaymentPurpose.TRAFFIC_FINE, state=PaymentState.PENDING,
                                          gateway=gateway.name, created_at__lte=cutoff).order_by("pk"):
        report.queried += 1
        if reconcile_payment(payment, gateway=gateway).state == PaymentState.PAID:
            report.recorded_paid += 1
        elif payment.state == PaymentState.PENDING:
            report.still_pending += 1
    ledger.retry_refunds(gateway=gateway)
    report.refunds = [f"{r.payment.order_id} {r.get_state_display()}" for r in Refund.objects.filter(
        payment__purpose=PaymentPurpose.TRAFFIC_FINE).select_related("payment").order_by("pk")]
    return report
