"""Match runs and the clerical review queue.

A ``CandidatePair`` is two registry persons the matcher scored at or above the lower
threshold. Nothing is merged without a decision: *same* merges them (registry
``merge_persons``), *different* keeps the pair so it is never suggested again, *unsure*
escalates it to the province.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class MatchRun(models.Model):
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200)
    persons = models.PositiveIntegerField(default=0)
    comparisons = models.BigIntegerField(default=0)
    rule_counts = models.JSONField(default=list)  # [{"rule", "comparisons", "cumulative"}]
    pairs_found = models.PositiveIntegerField(default=0)
    pairs_queued = models.PositiveIntegerField(default=0)
    upper_threshold = models.FloatField()
    lower_threshold = models.FloatField()
    model_file = models.CharField(max_length=500)
    trained = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"run {self.pk} ({self.started_at:%Y-%m-%d %H:%M})"


class PairStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xem xét")
    UNSURE = "unsure", _("Chưa chắc chắn, chuyển cấp tỉnh")
    SAME = "same", _("Cùng một người (đã hợp nhất)")
    DIFFERENT = "different", _("Hai người khác nhau")


class PairBand(models.TextChoices):
    PROBABLE = "probable", _("Nhiều khả năng trùng")
    UNCERTAIN = "uncertain", _("Vùng không chắc chắn")


class CandidatePair(models.Model):
    left = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, related_name="pairs")
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    uncertainty = models.FloatField(help_text="|probability − 0.5|: the queue shows the smallest first")
    band = models.CharField(max_length=10, choices=PairBand.choices)
    evidence = models.JSONField(default=list)  # waterfall rows: comparison, level label, weight
    status = models.CharField(max_length=10, choices=PairStatus.choices, default=PairStatus.PENDING)
    version = models.PositiveIntegerField(default=1)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    merge_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="matching_pair_once"),
            models.CheckConstraint(condition=Q(left__lt=F("right")), name="matching_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "uncertainty"], name="matching_queue_order")]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id} {self.match_probability:.3f}"
