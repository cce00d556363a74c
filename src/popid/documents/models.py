"""Document registries linked to registry persons: driving licences (Law on Road Traffic Order
and Safety 2024, Decree 168/2024 points), vehicle registrations and health-insurance cards.

Rows change only through ``documents.services`` (status changes write a ``DocumentEvent`` and a
registry ``OutboxEvent`` in the same transaction, so the wallet's status lists follow them).
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.registry.models import Person

LICENCE_POINTS = 12  # Decree 168/2024/NĐ-CP Art. 58: each licence carries 12 points
# Classes of the Law on Road Traffic Order and Safety 2024 Art. 57 (from 1 Jan 2025) and the
# older classes still printed on valid licences issued before 2025 (A2, A3, A4, B2, E, F*).
LICENCE_CLASSES = ("A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE",
                   "A2", "A3", "A4", "B2", "E", "FB2", "FC", "FD", "FE")


class LicenceStatus(models.TextChoices):
    ACTIVE = "active", _("Còn hiệu lực")
    SUSPENDED = "suspended", _("Tạm giữ / tước quyền sử dụng")
    REVOKED = "revoked", _("Đã thu hồi")


class DrivingLicence(models.Model):
    """Giấy phép lái xe. ``classes`` is a list of {"class", "issued_on", "valid_until"} (ISO
    dates; ``valid_until`` empty for classes without a term, e.g. A1/A)."""

    number = models.CharField(max_length=12, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="driving_licences")
    classes = models.JSONField(default=list)
    issued_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    issued_by = models.CharField(max_length=200)
    points = models.PositiveSmallIntegerField(default=LICENCE_POINTS)
    last_deducted_on = models.DateField(null=True, blank=True)  # points come back 12 months after it
    status = models.CharField(max_length=10, choices=LicenceStatus.choices, default=LicenceStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return self.number

    @property
    def class_codes(self) -> list[str]:
        return [c["class"] for c in self.classes]

    def points_on(self, day: date) -> int:
        """Decree 168/2024 Art. 58: a licence not deducted for 12 months is back to 12 points.
        Computed on read, so the restoration needs no scheduled job."""
        if self.last_deducted_on is not None and day >= _add_year(self.last_deducted_on):
            return LICENCE_POINTS
        return self.points

    @property
    def current_points(self) -> int:
        return self.points_on(timezone.localdate())


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


class VehicleRegistration(models.Model):
    """Chứng nhận đăng ký xe: plate, chassis (số khung) and engine (số máy) numbers, owner."""

    plate = models.CharField(max_length=15, unique=True)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vehicle_registrations")
    vehicle_type = models.CharField(max_length=50)
    brand = models.CharField(max_length=50)
    model_name = models.CharField(max_length=50)
    colour = models.CharField(max_length=30)
    chassis_number = models.CharField(max_length=30, unique=True)
    engine_number = models.CharField(max_length=30)
    registered_on = models.DateField()
    issued_by = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # the owner's address as printed on the certificate (empty: the owner's registered residence)
    owner_address = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.plate


class HealthInsuranceCard(models.Model):
    """Thẻ bảo hiểm y tế: the 10-digit social-insurance code is the card number since 2021."""

    number = models.CharField(max_length=15, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="health_insurance_cards")
    benefit_level = models.PositiveSmallIntegerField(default=4)  # mức hưởng 1–5
    initial_clinic = models.CharField(max_length=200)  # nơi đăng ký KCB ban đầu
    valid_from = models.DateField()
    valid_until = models.DateField()
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.number


class DocumentEvent(models.Model):
    """Who changed a document's status, when and why (the documents' own history)."""

    document_kind = models.CharField(max_length=20)
    document_number = models.CharField(max_length=20, db_index=True)
    person_id_number = models.CharField(max_length=12)
    action = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    actor_unit = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)
    legal_ref = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.document_number}"

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))


ACTION_LABELS = {"transfer": _("Sang tên chủ xe"), "change_address": _("Đổi địa chỉ chủ xe"),
                 "deduct": _("Trừ điểm"), "issue": _("Cấp"), "suspend": _("Tạm giữ"), "reinstate": _("Khôi phục"),
                 "revoke": _("Thu hồi")}
