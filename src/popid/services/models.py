"""Dossiers (hồ sơ), their attachments and every workflow transition."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TOPIC_DOSSIER_STATE = "dossier.state_changed"  # outbox topic of every transition (notifications app)


class DossierState(models.TextChoices):
    SUBMITTED = "submitted", _("Đã tiếp nhận")
    IN_REVIEW = "in_review", _("Đang xử lý")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Yêu cầu bổ sung")
    APPROVED = "approved", _("Đã duyệt")
    REJECTED = "rejected", _("Từ chối")
    CANCELLED = "cancelled", _("Đã hủy")


FINAL_STATES = {DossierState.APPROVED, DossierState.REJECTED, DossierState.CANCELLED}


class Channel(models.TextChoices):
    ONLINE = "online", _("Trực tuyến")
    COUNTER = "counter", _("Trực tiếp tại cơ quan")


class Dossier(models.Model):
    code = models.CharField(max_length=32, unique=True)
    procedure_code = models.CharField(max_length=64)
    applicant = models.ForeignKey("identity.CitizenAccount", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="dossiers")
    on_behalf_of = models.ForeignKey("identity.CitizenAccount", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="dossiers_as_ward")
    subject = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="dossiers")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=24, choices=DossierState.choices, default=DossierState.SUBMITTED)
    data = models.JSONField(default=dict)
    commune_code = models.CharField(max_length=5)  # receiving unit
    province_code = models.CharField(max_length=2, blank=True)
    received_at = models.DateTimeField()
    deadline = models.DateField()
    fee = models.PositiveIntegerField(default=0)
    late_notification = models.BooleanField(default=False)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="claimed_dossiers")
    received_by = models.CharField(max_length=150, blank=True)  # counter officer
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=100, blank=True)
    # The deadline stops while the citizen owes a supplement: working days spent in
    # supplement_requested are added to ``deadline`` when the citizen answers.
    supplement_requested_at = models.DateTimeField(null=True, blank=True)
    paused_working_days = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="dossier_idempotency_per_applicant"),
        ]
        indexes = [models.Index(fields=["commune_code", "state", "deadline"], name="dossier_queue"),
                   models.Index(fields=["province_code", "state"], name="dossier_province")]

    def __str__(self) -> str:
        return self.code


class DossierAttachment(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=64)
    file = models.FileField(upload_to="services/dossiers/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.dossier_id}/{self.kind}"


class DossierEvent(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(max_length=150)
    actor_unit = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.from_state} → {self.to_state}"


# --- online submission before payment ----------------------------------------------------------
class SubmissionState(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Chờ thanh toán lệ phí")
    PAID = "paid", _("Đã thanh toán, đang nộp hồ sơ")
    SUBMITTED = "submitted", _("Đã nộp hồ sơ")
    ABANDONED = "abandoned", _("Đã hủy trước khi nộp")


class Submission(models.Model):
    """The citizen's validated form, saved before any money moves. A paid payment turns it into
    exactly one dossier (``dossier`` is one-to-one, so a second submission cannot link)."""

    public_id = models.CharField(max_length=32, unique=True)
    applicant = models.ForeignKey("identity.CitizenAccount", on_delete=models.PROTECT, related_name="submissions")
    on_behalf_of = models.ForeignKey("identity.CitizenAccount", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="submissions_as_ward")
    procedure_code = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    fee = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=24, choices=SubmissionState.choices,
                             default=SubmissionState.AWAITING_PAYMENT)
    idempotency_key = models.CharField(max_length=100, blank=True)
    dossier = models.OneToOneField(Dossier, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="submission")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="submission_idempotency_per_applicant"),
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="submission_state")]

    def __str__(self) -> str:
        return self.public_id


class SubmissionAttachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=64)
    file = models.FileField(upload_to="services/submissions/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.submission_id}/{self.kind}"


class PaymentState(models.TextChoices):
    PENDING = "pending", _("Chờ thanh toán")
    PAID = "paid", _("Đã thanh toán")
    DECLINED = "declined", _("Không thành công")


class PaymentPurpose(models.TextChoices):
    DOSSIER_FEE = "dossier_fee", _("Lệ phí hồ sơ dịch vụ công")
    TRAFFIC_FINE = "traffic_fine", _("Nộp phạt vi phạm giao thông")


class Payment(models.Model):
    """One attempt to pay through a gateway (amount in VND): the one payment ledger of PopID. A
    dossier fee links its submission here; other purposes (a traffic fine) link their own row to
    the payment (``traffic.FinePayment``). Notices, reconciliation and refunds are written once,
    in ``services.payments.ledger``."""

    order_id = models.CharField(max_length=40, unique=True)
    purpose = models.CharField(max_length=20, choices=PaymentPurpose.choices, default=PaymentPurpose.DOSSIER_FEE)
    description = models.CharField(max_length=200, blank=True)
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="payments")
    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="VND")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    gateway = models.CharField(max_length=32)
    state = models.CharField(max_length=10, choices=PaymentState.choices, default=PaymentState.PENDING)
    gateway_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "paid_at"], name="payment_state_paid_at")]

    def __str__(self) -> str:
        return self.order_id


class RefundState(models.TextChoices):
    PENDING = "pending", _("Đang hoàn tiền")
    REFUNDED = "refunded", _("Đã hoàn tiền")


class Refund(models.Model):
    """Money given back through the gateway for a paid payment that can never be delivered (a
    fine cancelled on appeal or paid twice, a fee for a submission that never became a dossier).
    One refund per payment, always the full amount: asking twice is the same refund."""

    refund_id = models.CharField(max_length=44, unique=True)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=RefundState.choices, default=RefundState.PENDING)
    gateway_reference = models.CharField(max_length=100, blank=True)
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.refund_id


class PaymentNotice(models.Model):
    """Every accepted gateway notice; the unique nonce makes a replayed notice fail."""

    nonce = models.CharField(max_length=64, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="notices")
    status = models.CharField(max_length=10)
    source = models.CharField(max_length=10)  # callback | query
    sent_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.payment_id}:{self.status}"


class Notification(models.Model):
    """An inbox message for a citizen, written with every dossier transition."""

    account = models.ForeignKey("identity.CitizenAccount", on_delete=models.CASCADE,
                                related_name="service_notifications")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="notifications")
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.dossier_id}:{self.to_state}"


# --- the built-in sandbox bank's own ledger ----------------------------------------------------
class SandboxCharge(models.Model):
    """What the sandbox "bank" knows: kept apart from Payment, as a real bank's books would be."""

    order_id = models.CharField(max_length=40, unique=True)
    amount = models.PositiveIntegerField()
    description = models.CharField(max_length=200)
    return_url = models.CharField(max_length=500)
    callback_url = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=PaymentState.choices, default=PaymentState.PENDING)
    bank_reference = models.CharField(max_length=40, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    last_delivery_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # the bank gives money back on the merchant's request (one full refund per charge)
    refund_id = models.CharField(max_length=44, blank=True)
    refund_reference = models.CharField(max_length=40, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.order_id


class ReconciliationRun(models.Model):
    """One comparison of PopID's payments and refunds of a day with the gateway's settlement
    report for that day (the report's SHA-256 kept); its lines are the mismatches and matches."""

    day = models.DateField()
    gateway = models.CharField(max_length=32)
    report_sha256 = models.CharField(max_length=64)
    matched = models.PositiveIntegerField(default=0)
    mismatched = models.PositiveIntegerField(default=0)
    ran_at = models.DateTimeField(auto_now_add=True)
    ran_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-day", "-ran_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.day}"


class ReconciliationLine(models.Model):
    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Khớp")
        MISSING_IN_REPORT = "missing_in_report", _("Đã ghi nhận ở PopID, không có trong bảng kê của ngân hàng")
        MISSING_HERE = "missing_here", _("Có trong bảng kê của ngân hàng, PopID không ghi nhận")
        AMOUNT_DIFFERS = "amount_differs", _("Số tiền khác nhau")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10)  # payment | refund
    order_id = models.CharField(max_length=40)
    reference = models.CharField(max_length=100, blank=True)
    purpose = models.CharField(max_length=20, blank=True)
    amount_here = models.BigIntegerField(null=True, blank=True)
    amount_in_report = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)

    class Meta:
        ordering = ["outcome", "order_id", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.outcome}"


class ReminderThreshold(models.TextChoices):
    DUE_SOON = "due_soon", _("Sắp đến hạn")
    DUE_TODAY = "due_today", _("Đến hạn hôm nay")
    OVERDUE = "overdue", _("Quá hạn")


class DeadlineReminder(models.Model):
    """One reminder per dossier and threshold (the periodic job ``services.tasks.remind_deadlines``
    may run many times: the unique row makes it send each reminder once)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="deadline_reminders")
    threshold = models.CharField(max_length=10, choices=ReminderThreshold.choices)
    deadline = models.DateField()  # the deadline the reminder was about
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "threshold"], name="one_reminder_per_threshold")]

    def __str__(self) -> str:
        return f"{self.dossier_id}:{self.threshold}"


class PrefillRead(models.Model):
    """One draft of a form (its idempotency key) whose pre-filled fields were read from the
    registry: the read is recorded in the access history once per draft, not once per display
    of the form or per intake check of the same draft (issue #19 item 5)."""

    applicant = models.ForeignKey("identity.CitizenAccount", on_delete=models.CASCADE, related_name="+")
    draft_key = models.CharField(max_length=100)
    procedure_code = models.CharField(max_length=40)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["applicant", "draft_key"], name="one_prefill_read_per_draft")]

    def __str__(self) -> str:
        return f"{self.applicant_id}:{self.draft_key}"
