"""Dossiers (hồ sơ), their attachments and every workflow transition."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Payment(models.Model):
    """One attempt to pay a submission's fee through a gateway (amount in VND, online fee)."""

    order_id = models.CharField(max_length=40, unique=True)
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="payments")
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
        constraints = [
            models.UniqueConstraint(fields=["submission"], condition=models.Q(state="paid"),
                                    name="one_paid_payment_per_submission"),
        ]

    def __str__(self) -> str:
        return self.order_id


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

    def __str__(self) -> str:
        return self.order_id


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
