"""The quality run: check every person against "đúng, đủ, sạch, sống" and store the findings
and per-unit scores.

Built to run over the whole registry (millions of rows) on SQLite and PostgreSQL:

- one streaming pass over ``Person`` (``values_list(...).iterator(chunk_size)``) ordered by the
  duplicate blocking key, so single-record rules and duplicate blocking share one read and a
  block is complete when the key changes;
- set-based queries for the rules that join other tables (parents via ``FamilyRelation``,
  residences), pre-filtered in SQL so only suspicious rows reach Python;
- findings written with ``bulk_create`` in batches while the pass runs; persons per unit
  counted with one ``GROUP BY``.

No long transaction: the run row is ``running`` while it works and only ``done`` runs are
visible (``selectors.latest_run``); a failed run deletes its partial findings. Old runs beyond
``POPID_QUALITY_KEEP_RUNS`` (default 5) are pruned at the end.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from popid.core.admin_units import province_of_commune
from popid.registry.models import (
    FamilyRelation,
    HouseholdMember,
    IdentityCard,
    OtherName,
    Person,
    PersonStatus,
    Residence,
    ResidenceKind,
)
from popid.registry.quality import rules
from popid.registry.quality.duplicates import Candidate, pairs_in_block
from popid.registry.quality.kinds import KINDS
from popid.registry.quality.models import QualityFinding, QualityRun, QualityScore, RunStatus, ScoreLevel
from popid.registry.quality.scoring import kind_weights, min_persons, tier_for, tier_thresholds, unit_score

logger = logging.getLogger(__name__)
UnknownCommunes = dict[int, tuple[str, str, str, list[str]]]  # person id → (id number, commune, province, details)

CHUNK_SIZE = 5000
BATCH_SIZE = 2000
NATION_CODE = "VN"
RESIDENCE_LABELS = {ResidenceKind.PERMANENT: "thường trú", ResidenceKind.TEMPORARY: "tạm trú",
                    ResidenceKind.CURRENT: "nơi ở hiện tại"}


def min_parent_age() -> int:
    """A parent less than this many years older than the child is flagged (default 12)."""
    return int(getattr(settings, "POPID_QUALITY_MIN_PARENT_AGE", 12))


def keep_runs() -> int:
    return max(1, int(getattr(settings, "POPID_QUALITY_KEEP_RUNS", 5)))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass
class _Collector:
    """Buffers findings for bulk insert and keeps what the scores need: each flagged person's
    heaviest weight and unit, and finding counts per unit."""

    run: QualityRun
    weights: dict[str, float] = field(default_factory=kind_weights)
    buffer: list[QualityFinding] = field(default_factory=list)
    person_weight: dict[int, tuple[float, str, str]] = field(default_factory=dict)
    by_unit: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (commune, province, kind)
    total: int = 0

    def add(self, *, person_id: int, id_number: str, commune_code: str, province_code: str, kind: str,
            detail: str, related_id_number: str = "") -> None:
        spec = KINDS[kind]
        self.buffer.append(QualityFinding(
            run=self.run, person_id=person_id, id_number=id_number, kind=kind, principle=spec.principle,
            severity=spec.severity, detail=detail[:2000], related_id_number=related_id_number,
            commune_code=commune_code or "", province_code=province_code or "",
        ))
        weight = self.weights[kind]
        previous = self.person_weight.get(person_id)
        if previous is None or previous[0] < weight:
            self.person_weight[person_id] = (weight, commune_code or "", province_code or "")
        self.by_unit[(commune_code or "", province_code or "", kind)] += 1
        self.total += 1
        if len(self.buffer) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            QualityFinding.objects.bulk_create(self.buffer, batch_size=BATCH_SIZE)
            self.buffer = []


class _Progress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.started = enabled, total, time.monotonic()

    def step(self, label: str, done: int | None = None) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        count = f" {done:,}/{self.total:,}" if done is not None else ""
        sys.stderr.write(f"\r[{elapsed:7.1f}s] {label}{count}    ")
        sys.stderr.flush()
        if done is None:
            sys.stderr.write("\n")


def run_quality_check(*, progress: bool = False, today: date | None = None) -> QualityRun:
    """Check the whole registry once and return the finished run (status ``done``). ``today``
    (default: the local date) is the day dates are judged against ("in the future", "expired")."""
    started = time.monotonic()
    run = QualityRun.objects.create(started_at=timezone.now(), status=RunStatus.RUNNING)
    try:
        total = Person.objects.count()
        meter = _Progress(progress, total)
        collector = _Collector(run=run)
        today = today or timezone.localdate()
        unknown_communes: UnknownCommunes = {}

        checked = _person_pass(collector, today, unknown_communes, meter)
        meter.step("quan hệ cha mẹ – con")
        _parent_age_pass(collector)
        meter.step("nơi cư trú")
        _residence_pass(collector, unknown_communes)
        meter.step("thẻ căn cước, người thân, nơi cư trú, tên gọi khác, quan hệ với chủ hộ")
        _related_records_pass(collector, today)
        for person_id, (id_number, commune, province, details) in unknown_communes.items():
            collector.add(person_id=person_id, id_number=id_number, commune_code=commune, province_code=province,
                          kind="unknown_commune_code", detail="Mã không tồn tại: " + "; ".join(details))
        collector.flush()
        meter.step("điểm theo đơn vị")
        _write_scores(run, collector)

        run.persons_checked = checked
        run.finding_count = collector.total
        run.finished_at = timezone.now()
        run.duration_seconds = round(time.monotonic() - started, 3)
        run.status = RunStatus.DONE
        run.save(update_fields=["persons_checked", "finding_count", "finished_at", "duration_seconds", "status"])
    except BaseException as exc:
        QualityFinding.objects.filter(run=run).delete()
        QualityScore.objects.filter(run=run).delete()
        QualityRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, finished_at=timezone.now(),
                                                    error=repr(exc)[:2000])
        raise
    prune_runs()
    if progress:
        sys.stderr.write(f"Xong: {run.persons_checked:,} công dân, {run.finding_count:,} phát hiện, "
                         f"{run.duration_seconds:.1f}s\n")
    logger.info("quality run %s: %s persons, %s findings in %.1fs", run.pk, run.persons_checked,
                run.finding_count, run.duration_seconds)
    return run


def prune_runs(*, keep: int | None = None) -> int:
    """Delete runs older than the newest ``keep`` (findings first: one fast DELETE each)."""
    newest = QualityRun.objects.order_by("-started_at", "-id").values_list("id", flat=True)[: keep or keep_runs()]
    old = list(
        QualityRun.objects.exclude(id__in=list(newest)).exclude(status=RunStatus.RUNNING).values_list("id", flat=True)
    )
    if not old:
        return 0
    QualityFinding.objects.filter(run_id__in=old).delete()
    QualityScore.objects.filter(run_id__in=old).delete()
    QualityRun.objects.filter(id__in=old).delete()
    return len(old)


# --- passes ------------------------------------------------------------------------------


def _person_pass(collector: _Collector, today: date, unknown_communes: UnknownCommunes, meter: _Progress) -> int:
    """Single-record rules for everyone, and duplicate blocks collected along the way."""
    max_age = rules.max_alive_age()
    rows = (
        Person.objects.order_by("name_norm", "birth_date", "birth_registration_province_code", "id")
        .values_list(*rules.PERSON_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    blocks: list[list[Candidate]] = []
    block: list[rules.PersonRow] = []
    block_key: tuple[Any, ...] | None = None
    checked = 0

    def close_block() -> None:
        if len(block) > 1 and block_key is not None and block_key[0] and block_key[1]:
            blocks.append([
                Candidate(r.id, r.id_number, r.commune_code, r.province_code, r.hometown, r.birth_place,
                          r.ethnicity_code, r.sex)
                for r in block
            ])

    for values in rows:
        row = rules.PersonRow(*values)
        checked += 1
        for kind, detail in rules.check_person(row, today, max_age=max_age):
            collector.add(person_id=row.id, id_number=row.id_number, commune_code=row.commune_code,
                          province_code=row.province_code, kind=kind, detail=detail)
        if details := rules.unknown_person_communes(row):
            unknown_communes[row.id] = (row.id_number, row.commune_code, row.province_code, details)
        key = (row.name_norm, row.birth_date, row.birth_registration_province_code)
        if key != block_key:
            close_block()
            block, block_key = [], key
        block.append(row)
        if checked % 50_000 == 0:
            meter.step("kiểm tra từng hồ sơ", checked)
    close_block()
    meter.step("kiểm tra từng hồ sơ", checked)
    _duplicate_pass(collector, blocks)
    return checked


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _duplicate_pass(collector: _Collector, blocks: list[list[Candidate]]) -> None:
    """Fill parents' names for the (few) candidates, score pairs, flag both sides once."""
    by_id = {c.id: c for block in blocks for c in block}
    for ids in _chunks(list(by_id), 500):
        relations = FamilyRelation.objects.filter(person_id__in=ids, kind__in=["father", "mother"]).order_by("id")
        for person_id, kind, name in relations.values_list("person_id", "kind", "relative_name"):
            candidate = by_id[person_id]
            if not getattr(candidate, kind):
                setattr(candidate, kind, name)
    for block in blocks:
        for candidate in block:  # names were set after construction: normalise again
            candidate.__post_init__()
        for pair in pairs_in_block(block):
            agreeing = ", ".join(pair.agreeing)
            for this, other in ((pair.first, pair.second), (pair.second, pair.first)):
                collector.add(
                    person_id=this.id, id_number=this.id_number, commune_code=this.commune_code,
                    province_code=this.province_code, kind="probable_duplicate", related_id_number=other.id_number,
                    detail=f"Nghi trùng với {other.id_number} (độ tương đồng {pair.similarity:.2f}; khớp: {agreeing})",
                )


def _parent_age_pass(collector: _Collector) -> None:
    """Parent less than ``min_parent_age()`` years older than the child, reported on the child.
    SQL keeps only relations whose birth years are that close; dates refine in Python."""
    min_age = min_parent_age()
    child_fields = ("id", "id_number", "commune_code", "province_code", "birth_date", "birth_date_precision",
                    "birth_year")
    parent_fields = ("id_number", "birth_date", "birth_date_precision", "birth_year")
    flagged: set[int] = set()
    # Both directions: the child's father/mother rows, and the parent's child rows.
    directions = (
        ("person", "relative", ["father", "mother"]),
        ("relative", "person", ["child"]),
    )
    for child, parent, kinds in directions:
        queryset = (
            FamilyRelation.objects.filter(kind__in=kinds, relative__isnull=False)
            .annotate(gap=F(f"{child}__birth_year") - F(f"{parent}__birth_year"))
            .filter(gap__lte=min_age)
            .values_list(*[f"{child}__{name}" for name in child_fields],
                         *[f"{parent}__{name}" for name in parent_fields], "kind")
        )
        for values in queryset.iterator(chunk_size=CHUNK_SIZE):
            (child_id, child_number, commune, province, child_date, child_precision, child_year,
             parent_number, parent_date, parent_precision, parent_year, kind) = values
            if child_id in flagged:
                continue
            if child_date and parent_date and child_precision == "day" and parent_precision == "day":
                too_young = child_date < _add_years(parent_date, min_age)
            else:
                too_young = (child_year or 0) - (parent_year or 0) < min_age
            if not too_young:
                continue
            flagged.add(child_id)
            role = {"father": "Cha", "mother": "Mẹ"}.get(kind, "Cha/mẹ")
            collector.add(
                person_id=child_id, id_number=child_number, commune_code=commune, province_code=province,
                kind="parent_younger_than_child", related_id_number=parent_number,
                detail=f"{role} {parent_number} sinh {parent_date or parent_year}, "
                       f"con sinh {child_date or child_year}: chênh dưới {min_age} tuổi",
            )


def _residence_pass(collector: _Collector, unknown_communes: UnknownCommunes) -> None:
    """Active residences (``ended_on`` null) of the deceased, and in abolished or unknown units."""
    active = Residence.objects.filter(ended_on__isnull=True)
    person_fields = ("person_id", "person__id_number", "person__commune_code", "person__province_code")
    deceased: UnknownCommunes = {}
    rows = (active.filter(person__status=PersonStatus.DECEASED)
            .values_list(*person_fields, "kind", "commune_code").order_by("person_id"))
    for person_id, id_number, commune, province, kind, residence_commune in rows.iterator(chunk_size=CHUNK_SIZE):
        deceased.setdefault(person_id, (id_number, commune, province, []))[3].append(
            f"{RESIDENCE_LABELS.get(kind, kind)} tại {residence_commune}")
    for person_id, (id_number, commune, province, details) in deceased.items():
        collector.add(person_id=person_id, id_number=id_number, commune_code=commune, province_code=province,
                      kind="deceased_with_active_residence", detail="Đã chết, còn " + "; ".join(details))

    codes = set(active.values_list("commune_code", flat=True).distinct())
    problems = {code: rules.commune_code_problem(code) for code in codes}
    bad_codes = sorted(code for code, problem in problems.items() if problem)
    abolished: UnknownCommunes = {}
    for chunk in _chunks(bad_codes, 500):
        rows = active.filter(commune_code__in=chunk).values_list(*person_fields, "kind", "commune_code")
        for person_id, id_number, commune, province, kind, residence_commune in rows.iterator(chunk_size=CHUNK_SIZE):
            text = f"{RESIDENCE_LABELS.get(kind, kind)} '{residence_commune}'"
            if problems[residence_commune] == "abolished":
                abolished.setdefault(person_id, (id_number, commune, province, []))[3].append(text)
            else:
                unknown_communes.setdefault(person_id, (id_number, commune, province, []))[3].append(text)
    for person_id, (id_number, commune, province, details) in abolished.items():
        collector.add(person_id=person_id, id_number=id_number, commune_code=commune, province_code=province,
                      kind="residence_in_abolished_unit",
                      detail="Đơn vị đã bãi bỏ từ 01/7/2025: " + "; ".join(sorted(details)))


PERSON_KEY = ("person_id", "person__id_number", "person__commune_code", "person__province_code")
PersonKey = tuple[int, str, str, str]


@dataclass
class _Grouped:
    """Findings on a person's related rows: one finding per (person, kind), details joined, so a
    person with three bad residences counts once like everywhere else."""

    items: dict[tuple[int, str], tuple[PersonKey, list[str]]] = field(default_factory=dict)

    def add(self, person: PersonKey, found: Iterable[rules.Finding]) -> None:
        for kind, detail in found:
            self.items.setdefault((person[0], kind), (person, []))[1].append(detail)

    def write(self, collector: _Collector) -> None:
        for (_person_id, kind), (person, details) in self.items.items():
            person_id, id_number, commune, province = person
            collector.add(person_id=person_id, id_number=id_number, commune_code=commune, province_code=province,
                          kind=kind, detail="; ".join(details))


def _related_records_pass(collector: _Collector, today: date) -> None:
    """The fields kept in their own tables (Art. 9): ID cards (14), relatives (15), residences
    (16-18), other names (2) and the relation to the household head (22), each row against the
    rules of ``rules.check_card`` … ``rules.check_relationship``."""
    grouped = _Grouped()
    cards = IdentityCard.objects.order_by().values_list(
        *PERSON_KEY, "person__birth_date", "person__birth_date_precision", "person__died_on",
        "card_number", "issued_on", "valid_until", "is_active")
    for person_id, id_number, commune, province, birth, precision, died, *card in cards.iterator(CHUNK_SIZE):
        grouped.add((person_id, id_number, commune, province), rules.check_card(
            rules.CardRow(*card), id_number=id_number, birth_date=birth, precise_birth=precision == "day",
            died_on=died, today=today))
    # A relation linked to the relative's own record and copying its name, number and nationality
    # has nothing of its own to check (the relative's record is checked as a person): SQL skips it.
    copied = Q(relative__isnull=False, relative_name=F("relative__full_name"),
               relative_id_number=F("relative__id_number"), relative_nationality=F("relative__nationality"))
    relations = FamilyRelation.objects.order_by().exclude(copied).values_list(
        *PERSON_KEY, "kind", "relative_name", "relative_id_number", "relative_nationality", "relative__id_number")
    for person_id, id_number, commune, province, *relation in relations.iterator(CHUNK_SIZE):
        grouped.add((person_id, id_number, commune, province), rules.check_relation(rules.RelationRow(*relation)))
    residences = Residence.objects.order_by().values_list(
        *PERSON_KEY, "person__birth_date", "kind", "address", "commune_code", "province_code", "valid_from",
        "valid_until", "ended_on")
    for person_id, id_number, commune, province, birth, *residence in residences.iterator(CHUNK_SIZE):
        grouped.add((person_id, id_number, commune, province),
                    rules.check_residence(rules.ResidenceRow(*residence), birth_date=birth, today=today))
    for person_id, id_number, commune, province, name in OtherName.objects.order_by().values_list(
            *PERSON_KEY, "name").iterator(CHUNK_SIZE):
        grouped.add((person_id, id_number, commune, province), rules.check_other_name(name))
    members = HouseholdMember.objects.order_by().exclude(relationship__in=sorted(rules.RELATIONSHIP_CODES))
    for person_id, id_number, commune, province, relationship in members.values_list(
            *PERSON_KEY, "relationship").iterator(CHUNK_SIZE):
        grouped.add((person_id, id_number, commune, province), rules.check_relationship(relationship))
    grouped.write(collector)


# --- scores -----------------------------------------------------------------------------


def _write_scores(run: QualityRun, collector: _Collector) -> None:
    """Commune, province and nation rows, with the formula of ``scoring``."""
    thresholds = tier_thresholds()
    minimum = min_persons()
    persons: Counter[tuple[str, str]] = Counter()
    for commune, province, count in (
        Person.objects.order_by().values_list("commune_code", "province_code").annotate(n=Count("id"))
    ):
        persons[(commune or "", province or "")] += count

    Units = dict[str, dict[str, Any]]

    def blank() -> dict[str, Any]:
        return {"persons": 0, "flagged": 0, "weighted": 0.0, "findings": 0, "principles": Counter(), "kinds": Counter(),
                "province": ""}

    communes: Units = defaultdict(blank)
    provinces: Units = defaultdict(blank)
    nation = blank()
    commune_province: dict[str, str] = {}

    def targets(commune: str, province: str) -> list[dict[str, Any]]:
        found = [nation]
        if province:
            provinces[province]["province"] = province
            found.append(provinces[province])
        if commune:
            if commune not in commune_province:
                commune_province[commune] = province_of_commune(commune) or province
            communes[commune]["province"] = commune_province[commune]
            found.append(communes[commune])
        return found

    for (commune, province), count in persons.items():
        for unit in targets(commune, province):
            unit["persons"] += count
    for weight, commune, province in collector.person_weight.values():
        for unit in targets(commune, province):
            unit["flagged"] += 1
            unit["weighted"] += weight
    for (commune, province, kind), count in collector.by_unit.items():
        for unit in targets(commune, province):
            unit["findings"] += count
            unit["kinds"][kind] += count
            unit["principles"][str(KINDS[kind].principle)] += count

    def row(level: str, code: str, unit: dict[str, Any], *, commune_code: str = "",
            province_code: str = "") -> QualityScore:
        score = unit_score(persons=unit["persons"], weighted_persons_with_findings=unit["weighted"])
        return QualityScore(
            run=run, level=level, unit_code=code, commune_code=commune_code, province_code=province_code,
            persons=unit["persons"], persons_with_findings=unit["flagged"], findings=unit["findings"],
            findings_by_principle=dict(sorted(unit["principles"].items())),
            findings_by_kind=dict(sorted(unit["kinds"].items())), score=score,
            tier=tier_for(score, thresholds, persons=unit["persons"], minimum=minimum),
        )

    rows = [row(ScoreLevel.NATION, NATION_CODE, nation)]
    rows += [row(ScoreLevel.PROVINCE, code, unit, province_code=code) for code, unit in sorted(provinces.items())]
    rows += [row(ScoreLevel.COMMUNE, code, unit, commune_code=code, province_code=unit["province"])
             for code, unit in sorted(communes.items())]
    QualityScore.objects.bulk_create(rows, batch_size=BATCH_SIZE)
