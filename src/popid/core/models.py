"""Staff roles with their jurisdiction, and the access records every personal-data read leaves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICER = "officer", _("Cán bộ công an")
    SUPERVISOR = "supervisor", _("Cán bộ giám sát")
    ADMIN = "admin", _("Quản trị hệ thống")


class ScopeLevel(models.TextChoices):
    COMMUNE = "commune", _("Cấp xã")
    PROVINCE = "province", _("Cấp tỉnh")
    NATION = "nation", _("Toàn quốc")


class StaffRole(models.Model):
    """What a staff user may do and where: an officer of Công an phường Hoàn Kiếm has
    role=officer, level=commune, unit_code=00070."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_role")
    role = models.CharField(max_length=16, choices=Role.choices)
    level = models.CharField(max_length=16, choices=ScopeLevel.choices)
    unit_code = models.CharField(max_length=5, blank=True, help_text="commune or province code; empty for nation")
    unit_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="nation", unit_code="") | ~models.Q(level="nation"),
                name="staffrole_nation_has_no_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.level} {self.unit_code})"


class AccessRecord(models.Model):
    """One read of one person's data: who, why, which fields. The ledger app commits these
    to a Merkle log later; until then ``committed_at`` stays empty."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200)
    actor_unit = models.CharField(max_length=200, blank=True)
    person_id_number = models.CharField(max_length=12, db_index=True)
    purpose = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=200, blank=True)
    consent_ref = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=20, default="api")
    fields = models.JSONField(default=list)
    hidden_until = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["person_id_number", "at"]),
            # the ledger's queue: records not yet committed, found without scanning committed ones
            models.Index(fields=["id"], condition=models.Q(committed_at__isnull=True),
                         name="accessrecord_uncommitted"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} read {self.person_id_number} ({self.purpose})"


class StaffApiToken(models.Model):
    """Bearer token for scripts and integrations of staff; only the SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} / {self.name}"


CACHE_TABLE = "popid_cache"


class CacheEntry(models.Model):
    """The table of Django's database cache (``CACHES`` when ``POPID_REDIS_URL`` is unset), with
    the exact shape ``createcachetable`` would give it, so a migration creates it and
    ``make run``/CI need no manual step. Django's cache code reads and writes it with raw SQL."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = CACHE_TABLE

    def __str__(self) -> str:
        return self.cache_key


class ThrottleCounter(models.Model):
    """One login-throttle counter (``core.throttle``) when no Redis is configured. Increments are
    one atomic UPDATE (``count = count + 1``), so several web workers count exactly; rows are
    never culled while live (an attacker cannot flush a counter by filling a cache)."""

    key = models.CharField(max_length=80, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
class WorkerHeartbeat(models.Model):
    """A live ``popid worker`` or ``popid scheduler`` (``core.tasks``): /readyz and the requeueing
    of orphaned tasks read ``seen_at``."""

    worker_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, default="worker")  # worker | scheduler
    hostname = models.CharField(max_length=100)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.seen_at:%H:%M:%S}"


class PeriodicRun(models.Model):
    """One row per periodic job and period: the unique constraint makes enqueueing idempotent when
    several schedulers run (``core.scheduler``)."""

    name = models.CharField(max_length=200)
    slot = models.BigIntegerField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="core_periodic_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.name}#{self.slot}"
