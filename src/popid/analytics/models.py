"""Alerts raised when a week's count falls far outside its forecast interval. They name a place,
a category and a week — never a person. Acknowledged alerts are kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CATEGORY_LABELS = {"incident": _("Vụ việc (tin báo, tố giác)"), "report": _("Tin báo tiếp nhận"),
                   "violation": _("Vi phạm giao thông"), "dossier": _("Hồ sơ dịch vụ công")}


class Alert(models.Model):
    commune_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    category = models.CharField(max_length=12)
    week_start = models.DateField()
    observed = models.FloatField()
    expected = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    level = models.PositiveSmallIntegerField(default=99)
    model = models.CharField(max_length=20)
    evidence = models.JSONField(default=dict)  # the weeks before, the interval, the model's backtest
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    acknowledged_unit = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commune_code", "category", "week_start"],
                                               name="analytics_alert_once_per_week")]
        ordering = ["-week_start", "commune_code", "category"]

    def __str__(self) -> str:
        return f"{self.commune_code} {self.category} {self.week_start}"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def category_label(self) -> str:
        return str(CATEGORY_LABELS.get(self.category, self.category))

    @property
    def direction(self) -> str:
        return "up" if self.observed > self.upper else "down"


class AlertNotice(models.Model):
    """An alert in a supervisor's notification list on the officer console: written by the
    consumer of ``analytics.alert_raised`` for each supervisor whose unit covers the commune."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analytics_notices")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "user"], name="analytics_notice_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="analytics_notice_unread")]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.alert_id}"
