"""Agencies, their subsystems (OAuth clients of the OIDC provider), grants, citizens' consents,
agency access tokens, event subscriptions and webhook deliveries, and the daily usage counters.

Grants name exact catalogue fields (``exchange.fields``); sensitive fields additionally need a
consent of the person. Tokens are opaque (SHA-256 stored, like the OIDC provider's) so revoking
a grant or suspending an agency takes effect on the next call.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.identity.oidc.models import RelyingParty
from popid.registry.models import Person

TOPIC_CONSENT_REQUESTED = "exchange.consent_requested"  # outbox topic of an agency's request (notifications app)


class Service(models.TextChoices):
    EKYC = "ekyc", _("Xác thực thông tin (eKYC)")
    PERSON_DATA = "person_data", _("Cung cấp thông tin công dân")
    BATCH_VERIFY = "batch_verify", _("Xác thực theo lô")
    LIFE_STATUS = "life_status", _("Tra cứu tình trạng còn sống / đã chết")
    EVENTS = "events", _("Nhận thông báo sự kiện hộ tịch, cư trú")
    TRAFFIC_DETECTIONS = "traffic_detections", _("Gửi phát hiện vi phạm giao thông (camera, tuần tra)")
    ACCOMMODATION = "accommodation", _("Khai báo lưu trú người nước ngoài (phần mềm quản lý lưu trú)")
    BORDER_EVENTS = "border_events", _("Ghi nhận nhập cảnh, xuất cảnh tại cửa khẩu")


class EventType(models.TextChoices):
    BIRTH = "birth", _("Khai sinh")
    DEATH = "death", _("Khai tử")
    RESIDENCE_CHANGE = "residence_change", _("Thay đổi cư trú")
    ID_REISSUE = "id_reissue", _("Cấp lại số định danh")
    MERGE = "merge", _("Hợp nhất hồ sơ trùng của một người")


# registry outbox topic → the event type agencies subscribe to
TOPIC_EVENTS = {
    "person.born": EventType.BIRTH,
    "person.died": EventType.DEATH,
    "residence.changed": EventType.RESIDENCE_CHANGE,
    "person.id_number_reissued": EventType.ID_REISSUE,
    "person.merged": EventType.MERGE,
}
SCOPE_PREFIX = "exchange."


def scope_of(service: str) -> str:
    return SCOPE_PREFIX + service


class Agency(models.Model):
    """A ministry, hospital, bank… that receives registry data under grants."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True, help_text="bank, hospital, ministry…")
    rate_per_minute = models.PositiveIntegerField(default=600)
    daily_quota = models.PositiveIntegerField(default=100_000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("Cơ quan, tổ chức khai thác dữ liệu")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Subsystem(models.Model):
    """One connected information system of an agency; authenticates as its OAuth client
    (client_credentials + private_key_jwt, public key registered in ``client.jwks``)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="subsystems")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)
    client = models.OneToOneField(RelyingParty, on_delete=models.PROTECT, related_name="exchange_subsystem")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="exchange_subsystem_code_per_agency")]

    def __str__(self) -> str:
        return f"{self.agency.code}/{self.code}"

    @property
    def usable(self) -> bool:
        return self.is_active and self.agency.is_active and self.client.is_active


class Grant(models.Model):
    """Permission for one subsystem to use one service for exactly ``fields`` (and, for events,
    ``event_types``), under a legal basis, until ``expires_at``."""

    subsystem = models.ForeignKey(Subsystem, on_delete=models.CASCADE, related_name="grants")
    service = models.CharField(max_length=20, choices=Service.choices)
    fields = models.JSONField(default=list)
    event_types = models.JSONField(default=list, blank=True)
    legal_basis = models.CharField(max_length=200)
    confidential_allowed = models.BooleanField(
        default=False, help_text="may mark queries hidden-until (lawful confidential queries)")
    valid_from = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subsystem", "service"])]

    def __str__(self) -> str:
        return f"{self.subsystem} {self.service}"

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.valid_from <= at < self.expires_at


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("Chờ công dân trả lời")
    APPROVED = "approved", _("Đã đồng ý")
    REFUSED = "refused", _("Đã từ chối")
    REVOKED = "revoked", _("Đã thu hồi")


class DataConsent(models.Model):
    """A citizen's answer to an agency's request to receive sensitive fields for one purpose,
    valid until ``valid_until`` unless revoked."""

    reference = models.CharField(max_length=40, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="consents")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    fields = models.JSONField(default=list)
    purpose = models.CharField(max_length=200)
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.PENDING)
    requested_by = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "agency", "status"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.agency.code} {self.status}"

    @property
    def is_expired(self) -> bool:
        return self.valid_until <= timezone.now()


class AgencyToken(models.Model):
    """An opaque client_credentials access token of a subsystem (SHA-256 stored)."""

    subsystem = models.ForeignKey(Subsystem, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.TextField()
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} of {self.subsystem_id}"


class Subscription(models.Model):
    """An agency's webhook for registry events it is entitled to (an active ``events`` grant)."""

    subsystem = models.ForeignKey(Subsystem, on_delete=models.CASCADE, related_name="subscriptions")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    purpose = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=200)
    official = models.CharField(max_length=200)
    starts_after = models.BigIntegerField(default=0, help_text="last outbox id at subscription: no past events")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.subsystem} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SENDING = "sending", _("Đang gửi")
    DELIVERED = "delivered", _("Đã gửi")
    DEAD = "dead", _("Gửi thất bại (thư chết)")


class Delivery(models.Model):
    """One event for one subscription. Retried with exponential back-off; after the last attempt
    it is a dead letter until an administrator replays it."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    outbox_event_id = models.BigIntegerField()
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    person_id_number = models.CharField(max_length=12)
    occurred_at = models.DateTimeField()
    event_data = models.JSONField(default=dict)  # the outbox payload minus personal data
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "outbox_event_id"],
                                               name="exchange_delivery_once_per_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.outbox_event_id} → {self.subscription_id} ({self.status})"


class OutboxCursor(models.Model):
    """How far this consumer has read ``registry.OutboxEvent`` (its own cursor, so other
    consumers of the outbox are unaffected)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_id}"


class DailyUsage(models.Model):
    """Requests (persons) counted against an agency's daily quota; in the database so every web
    worker shares it, with or without Redis."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="exchange_usage_per_day")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}: {self.count}"


ACTIVE_GRANT = Q(revoked_at__isnull=True)
