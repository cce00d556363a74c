"""Camera and patrol detections, their evidence images, penalty decisions, the owner's notices
and the payments of fines. Rows change only through ``traffic.services``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.documents.models import VehicleRegistration
from popid.registry.models import Person

TOPIC_FINE_ISSUED = "traffic.fine_issued"  # outbox topic of a penalty decision (notifications app)

PAYMENT_DAYS = 10  # Law on Handling Administrative Violations Art. 73: pay within 10 days of the notice
LATE_RATE_PER_DAY = 0.0005  # 0.05 % of the fine per day late (same law, Art. 78)


class VehicleKind(models.TextChoices):
    CAR = "car", _("Xe ô tô")
    MOTORBIKE = "motorbike", _("Xe mô tô, xe gắn máy")


class DetectionState(models.TextChoices):
    PENDING = "pending", _("Chờ cán bộ xem xét")
    MANUAL = "manual", _("Cần xác minh thủ công")
    CONFIRMED = "confirmed", _("Đã xác nhận vi phạm")
    REJECTED = "rejected", _("Không xử phạt")


class ManualReason(models.TextChoices):
    UNREADABLE = "unreadable_plate", _("Không đọc được biển số")
    UNKNOWN_VEHICLE = "unknown_vehicle", _("Không tìm thấy đăng ký xe")
    KIND_MISMATCH = "kind_mismatch", _("Loại xe không khớp đăng ký")
    NOT_APPLICABLE = "not_applicable", _("Lỗi vi phạm không áp dụng cho loại xe này")


class Detection(models.Model):
    """One detection from a camera or a patrol device. ``plate_key`` is the normalised plate (or the
    raw text of an unreadable one); (device, plate_key, detected_at) is unique, so a replayed
    detection is the same detection."""

    device_id = models.CharField(max_length=40)
    plate_text = models.CharField(max_length=20)
    plate_key = models.CharField(max_length=20, db_index=True)
    plate_display = models.CharField(max_length=20, blank=True)
    vehicle_kind = models.CharField(max_length=10, choices=VehicleKind.choices)
    detected_at = models.DateTimeField()
    commune_code = models.CharField(max_length=5, db_index=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    violation_code = models.CharField(max_length=12)
    measured_value = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    state = models.CharField(max_length=10, choices=DetectionState.choices, default=DetectionState.PENDING)
    manual_reason = models.CharField(max_length=20, choices=ManualReason.choices, blank=True)
    vehicle = models.ForeignKey(VehicleRegistration, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="traffic_detections")
    source = models.CharField(max_length=60)  # agency/subsystem or "csv:<file>"
    received_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_unit = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device_id", "plate_key", "detected_at"],
                                               name="traffic_detection_once")]
        indexes = [models.Index(fields=["state", "commune_code"])]
        ordering = ["-detected_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.plate_key}@{self.detected_at:%Y-%m-%d %H:%M}"


class EvidenceImage(models.Model):
    detection = models.ForeignKey(Detection, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="traffic/evidence/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.sha256[:12]


class DecisionState(models.TextChoices):
    UNPAID = "unpaid", _("Chưa nộp phạt")
    PAID = "paid", _("Đã nộp phạt")
    CANCELLED = "cancelled", _("Đã hủy theo kết quả khiếu nại")


class Decision(models.Model):
    """Quyết định xử phạt vi phạm hành chính made from one confirmed detection."""

    detection = models.OneToOneField(Detection, on_delete=models.PROTECT, related_name="decision")
    number = models.CharField(max_length=40, unique=True)
    violation_code = models.CharField(max_length=12)
    legal_ref = models.CharField(max_length=200)
    amount = models.PositiveIntegerField()
    points = models.PositiveSmallIntegerField(default=0)
    plate_key = models.CharField(max_length=20, db_index=True)
    plate_display = models.CharField(max_length=20)
    vehicle = models.ForeignKey(VehicleRegistration, on_delete=models.PROTECT, related_name="traffic_decisions")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="traffic_decisions")
    commune_code = models.CharField(max_length=5, db_index=True)
    decided_by = models.CharField(max_length=150)
    decided_unit = models.CharField(max_length=200)
    decided_at = models.DateTimeField(default=timezone.now)
    notified_on = models.DateField()
    due_on = models.DateField()
    state = models.CharField(max_length=10, choices=DecisionState.choices, default=DecisionState.UNPAID)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_amount = models.PositiveIntegerField(null=True, blank=True)
    deducted_licence = models.CharField(max_length=12, blank=True)
    deduction_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def days_late(self, day: date | None = None) -> int:
        day = day or timezone.localdate()
        return max(0, (day - self.due_on).days)

    def late_charge(self, day: date | None = None) -> int:
        """Tiền chậm nộp: 0.05 % of the fine per day after the deadline, computed on read (VND)."""
        return round(self.amount * LATE_RATE_PER_DAY * self.days_late(day))

    def amount_due(self, day: date | None = None) -> int:
        return self.amount + self.late_charge(day)

    @staticmethod
    def due_from(notified_on: date) -> date:
        return notified_on + timedelta(days=PAYMENT_DAYS)


class FineNotice(models.Model):
    """The owner's notice in the citizen portal (also sent by SMS)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="notices")
    account = models.ForeignKey("identity.CitizenAccount", on_delete=models.CASCADE, related_name="fine_notices")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.decision_id}"


class FinePayment(models.Model):
    """Links one payment of the shared ledger (``services.Payment``, purpose ``traffic_fine``: its
    order, amount, state, gateway notices and refund) to the decision it pays."""

    payment = models.OneToOneField("public_services.Payment", on_delete=models.PROTECT, related_name="fine")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="payments")

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.payment_id}"


class NominationState(models.TextChoices):
    PENDING = "pending", _("Chờ người được nêu tên xác nhận")
    ACCEPTED = "accepted", _("Người được nêu tên đã xác nhận")
    DECLINED = "declined", _("Người được nêu tên không xác nhận")


class DriverNomination(models.Model):
    """The owner names the person who was driving; once that person confirms in their own
    account, the points come off their licence instead of the owner's."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="nominations")
    nominee = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="traffic_nominations")
    named_by = models.ForeignKey("identity.CitizenAccount", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=NominationState.choices, default=NominationState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision"], condition=~models.Q(state="declined"),
                                               name="traffic_one_open_nomination_per_decision")]

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.nominee_id}:{self.state}"


APPEAL_DAYS = 30  # Law on Complaints 2011 Art. 28: a first complaint is settled within 30 days


class AppealState(models.TextChoices):
    PENDING = "pending", _("Chờ giải quyết")
    UPHELD = "upheld", _("Giữ nguyên quyết định")
    CANCELLED = "cancelled", _("Hủy quyết định")


class Appeal(models.Model):
    """Khiếu nại: the owner contests an unpaid decision with a reason and an attachment; an
    officer of the unit decides within ``APPEAL_DAYS``. While it is pending the decision cannot
    be paid; a cancelled decision is closed without payment or points."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="appeals")
    account = models.ForeignKey("identity.CitizenAccount", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=2000)
    attachment = models.FileField(upload_to="traffic/appeals/%Y/%m/", blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=AppealState.choices, default=AppealState.PENDING)
    submitted_at = models.DateTimeField(auto_now_add=True)
    due_on = models.DateField()
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision"], condition=models.Q(state="pending"),
                                               name="traffic_one_pending_appeal_per_decision")]

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.state}"
