"""Reads of quality results for the console, the API and the CLI.

Everything reads the *current* run, the latest one that finished (``latest_run``); a run still
working or one that failed is never shown. Lists that staff see are cut to the actor's
jurisdiction with ``Actor.jurisdiction_q()``, which works on findings and scores directly because
both carry ``commune_code`` and ``province_code``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet

from popid.core.access import Actor
from popid.registry.quality.kinds import KINDS, NOT_INJECTED
from popid.registry.quality.models import QualityFinding, QualityRun, QualityScore, RunStatus, Tier

DUPLICATE_KIND = "probable_duplicate"


def latest_run() -> QualityRun | None:
    return QualityRun.objects.filter(status=RunStatus.DONE).order_by("-finished_at", "-id").first()


def _run_or_latest(run: QualityRun | None) -> QualityRun | None:
    return run if run is not None else latest_run()


def scores(*, actor: Actor, level: str, parent_code: str | None = None,
           run: QualityRun | None = None) -> QuerySet[QualityScore]:
    """Scores of one level in the current run; ``parent_code`` (a province) narrows communes."""
    current = _run_or_latest(run)
    if current is None:
        return QualityScore.objects.none()
    # Nation rows carry no unit codes, so only a nation-level actor's (empty) filter keeps them.
    rows = QualityScore.objects.filter(run=current, level=level).filter(actor.jurisdiction_q())
    if parent_code:
        rows = rows.filter(province_code=parent_code)
    return rows.order_by("unit_code")


def findings(*, actor: Actor, commune_code: str | None = None, kind: str | None = None,
             principle: str | None = None, id_number: str | None = None,
             province_code: str | None = None, run: QualityRun | None = None) -> QuerySet[QualityFinding]:
    """Findings of the current run within the actor's jurisdiction, newest units first by code."""
    current = _run_or_latest(run)
    if current is None:
        return QualityFinding.objects.none()
    rows = QualityFinding.objects.filter(run=current).filter(actor.jurisdiction_q())
    if commune_code:
        rows = rows.filter(commune_code=commune_code)
    if province_code:
        rows = rows.filter(province_code=province_code)
    if kind:
        rows = rows.filter(kind=kind)
    if principle:
        rows = rows.filter(principle=principle)
    if id_number:
        rows = rows.filter(id_number=id_number)
    return rows.order_by("commune_code", "id_number", "kind", "id")


def findings_for_person(*, id_number: str, actor: Actor | None = None) -> QuerySet[QualityFinding]:
    """Current findings on one person; with ``actor``, empty outside the jurisdiction."""
    current = latest_run()
    if current is None:
        return QualityFinding.objects.none()
    rows = QualityFinding.objects.filter(run=current, id_number=id_number)
    if actor is not None:
        rows = rows.filter(actor.jurisdiction_q())
    return rows.order_by("kind", "id")


def summary_by_kind(*, actor: Actor) -> list[dict[str, Any]]:
    """Count per kind in the jurisdiction, every known kind listed (zero included), in
    vocabulary order so tables line up across units."""
    counts = dict(
        findings(actor=actor).order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return [
        {"kind": code, "principle": str(spec.principle), "severity": str(spec.severity), "title": spec.title_vi,
         "title_en": spec.title_en, "count": counts.get(code, 0)}
        for code, spec in KINDS.items()
    ]


def tier_label(code: str) -> str:
    return str(Tier(code).label) if code in Tier.values else code


def _run_dict(run: QualityRun) -> dict[str, Any]:
    return {
        "id": run.pk, "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status, "persons_checked": run.persons_checked, "finding_count": run.finding_count,
        "duration_seconds": run.duration_seconds,
    }


def report_json(*, run: QualityRun | None = None) -> dict[str, Any]:
    """The whole run in the seeder's truth-file shape, so the two compare kind by kind:
    ``errors`` (one entry per person and kind, duplicates excluded), ``duplicates`` (each pair
    once, sorted), ``scores`` (every unit)."""
    current = _run_or_latest(run)
    if current is None:
        return {"run": None, "errors": [], "duplicates": [], "scores": []}
    rows = QualityFinding.objects.filter(run=current)
    errors = sorted(set(rows.exclude(kind=DUPLICATE_KIND).values_list("id_number", "kind").iterator(chunk_size=5000)))
    pairs = sorted({
        tuple(sorted((a, b)))
        for a, b in rows.filter(kind=DUPLICATE_KIND).values_list("id_number", "related_id_number")
    })
    score_rows = QualityScore.objects.filter(run=current).order_by("level", "unit_code")
    return {
        "run": _run_dict(current),
        "errors": [{"id_number": id_number, "kind": kind} for id_number, kind in errors],
        "duplicates": [list(pair) for pair in pairs],
        "scores": [
            {"level": s.level, "unit_code": s.unit_code, "province_code": s.province_code, "persons": s.persons,
             "persons_with_findings": s.persons_with_findings, "findings": s.findings,
             "findings_by_principle": s.findings_by_principle, "findings_by_kind": s.findings_by_kind,
             "score": s.score, "tier": s.tier}
            for s in score_rows
        ],
    }


def _ratios(found: set[Any], expected: set[Any]) -> dict[str, Any]:
    hits = len(found & expected)
    return {
        "expected": len(expected), "found": len(found), "true_positives": hits,
        "recall": round(hits / len(expected), 4) if expected else None,
        "precision": round(hits / len(found), 4) if found else None,
    }


def compare_with_truth(report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Recall and precision per kind, for duplicate pairs, and overall (every (person, kind)
    plus every pair as one item). ``None`` where a ratio has no denominator.

    Duplicates are measured as pairs only: the truth file also lists the copy of each pair under
    ``errors`` as ``probable_duplicate``, but which record is "the copy" is unknowable to the
    engine, so such entries are left out of the per-kind comparison."""
    found: dict[str, set[Any]] = defaultdict(set)
    expected: dict[str, set[Any]] = defaultdict(set)
    for item in report.get("errors", []):
        if item["kind"] != DUPLICATE_KIND:
            found[item["kind"]].add(item["id_number"])
    for item in truth.get("errors", []):
        if item["kind"] != DUPLICATE_KIND:
            expected[item["kind"]].add(item["id_number"])
    found_pairs = {tuple(sorted(p)) for p in report.get("duplicates", [])}
    expected_pairs = {tuple(sorted(p)) for p in truth.get("duplicates", [])}
    per_kind = {kind: _ratios(found[kind], expected[kind]) for kind in sorted(set(found) | set(expected))}
    # kinds the seeder never injects have no truth to be measured against: per kind only
    all_found = {(k, i) for k, ids in found.items() if k not in NOT_INJECTED for i in ids} | {
        ("pair", p) for p in found_pairs}
    all_expected = {(k, i) for k, ids in expected.items() for i in ids} | {("pair", p) for p in expected_pairs}
    return {
        "kinds": per_kind,
        "duplicates": _ratios(found_pairs, expected_pairs),
        "overall": _ratios(all_found, all_expected),
    }
