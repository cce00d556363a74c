"""Stored results of data-quality runs: one ``QualityRun`` per check, its findings and the
per-unit scores. Only the latest finished run is "current"; older runs are pruned (the engine
keeps the last ``POPID_QUALITY_KEEP_RUNS``, default 5) so the tables stay bounded.

Imported at the bottom of ``popid.registry.models`` so the models belong to the registry app.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["QualityFinding", "QualityRun", "QualityScore", "RunStatus", "ScoreLevel", "Tier"]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Đang chạy")
    DONE = "done", _("Hoàn thành")
    FAILED = "failed", _("Thất bại")


class ScoreLevel(models.TextChoices):
    COMMUNE = "commune", _("Cấp xã")
    PROVINCE = "province", _("Cấp tỉnh")
    NATION = "nation", _("Toàn quốc")


class Tier(models.TextChoices):
    """The three tiers of national data-cleaning campaigns (DOMAIN.md §4)."""

    MEETS_STANDARD = "meets_standard", _("Đạt chuẩn")
    NEEDS_FIXING = "needs_fixing", _("Cần chỉnh sửa")
    REBUILD = "rebuild", _("Phải xây dựng lại")
    # below the minimum sample (scoring.min_persons) a score says little: no tier (issue #19 item 11)
    TOO_FEW_RECORDS = "too_few_records", _("Quá ít hồ sơ để xếp loại")


class QualityRun(models.Model):
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    persons_checked = models.PositiveIntegerField(default=0)
    finding_count = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "-finished_at"], name="quality_run_status")]

    def __str__(self) -> str:
        return f"quality run {self.pk} ({self.status})"


class QualityFinding(models.Model):
    """One problem with one person's record. ``id_number``, ``commune_code`` and
    ``province_code`` are copied from the person at run time, so listing and filtering by
    jurisdiction need no join and the finding still reads right after the record changes."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="findings")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="quality_findings")
    id_number = models.CharField(max_length=12)
    kind = models.CharField(max_length=40)
    principle = models.CharField(max_length=8)
    severity = models.CharField(max_length=10)
    detail = models.TextField(blank=True)
    related_id_number = models.CharField(max_length=12, blank=True)
    commune_code = models.CharField(max_length=5, blank=True)
    province_code = models.CharField(max_length=2, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["run", "commune_code"], name="quality_finding_run_commune"),
            models.Index(fields=["run", "kind"], name="quality_finding_run_kind"),
            models.Index(fields=["run", "province_code"], name="quality_finding_run_province"),
            models.Index(fields=["person"], name="quality_finding_person"),
            models.Index(fields=["id_number"], name="quality_finding_id_number"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id_number}"


class QualityScore(models.Model):
    """Score of one unit in one run. ``commune_code`` is set on commune rows only and
    ``province_code`` on commune and province rows, so ``Actor.jurisdiction_q()`` applies as is."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="scores")
    level = models.CharField(max_length=10, choices=ScoreLevel.choices)
    unit_code = models.CharField(max_length=5)
    commune_code = models.CharField(max_length=5, blank=True)
    province_code = models.CharField(max_length=2, blank=True)
    persons = models.PositiveIntegerField(default=0)
    persons_with_findings = models.PositiveIntegerField(default=0)
    findings = models.PositiveIntegerField(default=0)
    findings_by_principle = models.JSONField(default=dict, blank=True)
    findings_by_kind = models.JSONField(default=dict, blank=True)
    score = models.FloatField()
    tier = models.CharField(max_length=16, choices=Tier.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "level", "unit_code"], name="quality_score_unique_unit"),
        ]
        indexes = [models.Index(fields=["run", "level", "province_code"], name="quality_score_run_level")]

    def __str__(self) -> str:
        return f"{self.level} {self.unit_code}: {self.score:.1f}"
