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
