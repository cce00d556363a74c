"""Scores and tiers per commune, province and nation.

Formula (*interpretation*, DOMAIN.md §4): each person with findings counts with the weight of
the most severe of their findings, so one record with five problems does not outweigh five bad
records, and a lower-case name does not weigh like an impossible birth date::

    score = 100 × (1 − Σ_persons w(max severity of the person's findings) / persons)

with weights ``POPID_QUALITY_SEVERITY_WEIGHTS`` (default critical 1.0, high 0.75, medium 0.5,
low 0.25). A unit without persons scores 100. The tier follows from the score and
``POPID_QUALITY_TIER_THRESHOLDS`` (default ``{"meets_standard": 95, "needs_fixing": 80}``):
score ≥ 95 "Đạt chuẩn", ≥ 80 "Cần chỉnh sửa", otherwise "Phải xây dựng lại" — but only for a unit
of at least ``POPID_QUALITY_MIN_PERSONS`` persons (default 30): below that one finding moves the
score by several points, so the unit gets "Quá ít hồ sơ để xếp loại" (its score is still shown).
"""

from __future__ import annotations

from django.conf import settings

from popid.registry.quality.kinds import KINDS, Severity
from popid.registry.quality.models import Tier

DEFAULT_SEVERITY_WEIGHTS: dict[str, float] = {
    Severity.CRITICAL: 1.0, Severity.HIGH: 0.75, Severity.MEDIUM: 0.5, Severity.LOW: 0.25,
}
DEFAULT_TIER_THRESHOLDS: dict[str, float] = {Tier.MEETS_STANDARD: 95.0, Tier.NEEDS_FIXING: 80.0}
DEFAULT_MIN_PERSONS = 30


def min_persons() -> int:
    """The minimum sample for a tier (a commune of one person with one finding is not 'rebuild')."""
    return int(getattr(settings, "POPID_QUALITY_MIN_PERSONS", DEFAULT_MIN_PERSONS))


def severity_weights() -> dict[str, float]:
    return {**DEFAULT_SEVERITY_WEIGHTS, **getattr(settings, "POPID_QUALITY_SEVERITY_WEIGHTS", {})}


def kind_weights() -> dict[str, float]:
    """Weight of each finding kind, looked up once per run rather than once per finding."""
    weights = severity_weights()
    return {code: weights[kind.severity] for code, kind in KINDS.items()}


def tier_thresholds() -> dict[str, float]:
    return {**DEFAULT_TIER_THRESHOLDS, **getattr(settings, "POPID_QUALITY_TIER_THRESHOLDS", {})}


def unit_score(*, persons: int, weighted_persons_with_findings: float) -> float:
    """The module formula, rounded to 0.01 and kept within 0–100."""
    if persons <= 0:
        return 100.0
    return round(max(0.0, min(100.0, 100.0 * (1.0 - weighted_persons_with_findings / persons))), 2)


def tier_for(score: float, thresholds: dict[str, float] | None = None, *, persons: int | None = None,
             minimum: int | None = None) -> Tier:
    """The tier of a score; with ``persons`` below the minimum sample, ``TOO_FEW_RECORDS``."""
    if persons is not None and persons < (min_persons() if minimum is None else minimum):
        return Tier.TOO_FEW_RECORDS
    limits = thresholds or tier_thresholds()
    if score >= limits[Tier.MEETS_STANDARD]:
        return Tier.MEETS_STANDARD
    if score >= limits[Tier.NEEDS_FIXING]:
        return Tier.NEEDS_FIXING
    return Tier.REBUILD
