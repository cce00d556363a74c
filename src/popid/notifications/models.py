"""The citizen's in-app notifications (issue #19): one row per account and domain event, written
by the outbox consumers in ``notifications/tasks.py`` (never by the command that caused them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DOSSIER_STATUS = "dossier_status", _("Trạng thái hồ sơ")
    FINE_ISSUED = "fine_issued", _("Quyết định xử phạt")
    CONSENT_REQUESTED = "consent_requested", _("Yêu cầu đồng ý chia sẻ dữ liệu")


class Notification(models.Model):
    """What the citizen is told, as values (``data``) rendered in the reader's language at display
    time (``notifications/display.py``). ``event_id`` is the outbox event: a consumer that runs twice
    writes nothing the second time (unique with the account)."""

    account = models.ForeignKey("identity.CitizenAccount", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    event_id = models.BigIntegerField()
    subject = models.CharField(max_length=64)  # dossier code, decision number or consent reference
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()  # when the event happened
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["account", "event_id"], name="notification_once_per_event")]
        indexes = [models.Index(fields=["account", "read_at"], name="citizen_notification_unread")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.kind}:{self.subject}"
