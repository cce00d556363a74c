"""Matching commands: the registry run that fills the review queue, and review decisions.

``run_registry_match`` scores registry persons and writes candidate pairs; it merges nothing.
``decide_pair`` records an officer's decision; *same* calls the registry's ``merge_persons``
in the same transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import ScopeLevel
from popid.matching.engine import (
    DEFAULT_THRESHOLD,
    REVIEW_LOWER,
    FieldSet,
    Matcher,
    evidence,
    has_current_levels,
    level_labels,
    load_model,
)
from popid.matching.errors import ModelFeatureMismatch, PairAlreadyDecided, PairNotFound
from popid.matching.models import CandidatePair, MatchRun, PairBand, PairStatus
from popid.matching.records import records_from_person_table
from popid.matching.selectors import registry_person_table


def registry_model_path() -> Path:
    return Path(settings.DATA_DIR) / "matching" / "registry-model.json"


def registry_match_table() -> pa.Table:
    """Every living person as a match record (``records.SCHEMA``), read in one statement."""
    return records_from_person_table(registry_person_table())


QUEUE_FIELDS = ("match_probability", "match_weight", "uncertainty", "band", "evidence", "run")


def _update_pairs(pairs: list[CandidatePair]) -> None:
    """One parameterised UPDATE per pair, sent in a batch (``executemany``; psycopg pipelines
    it). ``bulk_update`` writes ``CASE id WHEN … END`` per column, which the database matches
    row by row: 108 s for the 16,348 pairs of a million-person registry."""
    if not pairs:
        return
    fields = [f for f in CandidatePair._meta.concrete_fields if f.name in QUEUE_FIELDS]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(CandidatePair._meta.db_table)} SET "  # noqa: S608 - model names, no input
           + ", ".join(f"{quote(str(f.column))} = %s" for f in fields) + " WHERE id = %s")
    rows = [[f.get_db_prep_save(getattr(p, f.attname), connection) for f in fields] + [p.pk] for p in pairs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@dataclass
class RegistryMatchOutcome:
    run: MatchRun
    created: int
    updated: int
    skipped_decided: int
    withdrawn: int = 0  # pending pairs of earlier runs this run no longer finds


TRAIN_SAMPLE = 250_000
"""Persons a model is trained on: a larger registry trains on a random sample of this size.
A *random* sample of persons keeps the share of duplicate pairs among all pairs (the prior),
unlike a contiguous slice; EM and u need far fewer than a million records."""


def training_sample(table: pa.Table, size: int | None = TRAIN_SAMPLE, *, seed: int = 13) -> pa.Table:
    if not size or table.num_rows <= size:
        return table
    rows = sorted(random.Random(seed).sample(range(table.num_rows), size))
    return table.take(pa.array(rows))


def run_registry_match(*, actor: Actor, upper: float = DEFAULT_THRESHOLD, lower: float = REVIEW_LOWER,
                       retrain: bool = False, train_sample: int | None = TRAIN_SAMPLE, db_api: object | None = None,
                       step: Callable[[str], None] | None = None,
                       progress: Callable[[int], None] | None = None) -> RegistryMatchOutcome:
    """Score all living persons; pairs ≥ ``lower`` go to the review queue (``band`` probable
    above ``upper``, uncertain between). Pairs already decided are never re-suggested."""
    if not 0 < lower <= upper < 1:
        raise ValidationFailed([{"field": "threshold", "reason": "invalid",
                                 "message": _("Cần 0 < ngưỡng dưới ≤ ngưỡng trên < 1")}])
    say = step or (lambda _: None)
    field_set = FieldSet.registry()
    say("records")
    table = registry_match_table()
    if progress:
        progress(table.num_rows)
    path = registry_model_path()
    model = None
    if not retrain and path.exists():
        try:
            saved: dict[str, Any] | None = load_model(path, field_set)
        except ModelFeatureMismatch:
            saved = None
        if saved is not None and has_current_levels(saved, field_set):
            model = saved
        else:  # saved by a version that compared other fields, or before a level changed: train anew
            say("model-outdated")
    trained = model is None
    if model is None:
        sample = training_sample(table, train_sample)
        if sample is not table:
            say("sample")
        trainer = Matcher([sample], field_set, db_api=db_api)
        trainer.train(progress=say)
        trainer.save(path)
        model = trainer.model_dict()
        del trainer
    say("load")
    matcher = Matcher([table], field_set, db_api=db_api, model=model)
    say("block")
    counts = matcher.block()  # the candidate pairs, made once and counted per rule; predict scores them
    say("predict")
    result = matcher.predict(threshold=lower, count=False)
    result.rule_counts, result.total_comparisons = counts, counts[-1].cumulative if counts else 0
    run = MatchRun.objects.create(
        actor=actor.label, persons=table.num_rows, comparisons=result.total_comparisons,
        rule_counts=[{"rule": r.rule, "comparisons": r.comparisons, "cumulative": r.cumulative}
                     for r in result.rule_counts],
        pairs_found=len(result.pairs), upper_threshold=upper, lower_threshold=lower, model_file=str(path),
        trained=trained)
    say("queue")
    labels = level_labels(matcher.model_dict())
    created = updated = skipped = 0
    with transaction.atomic():
        existing = {(p.left_id, p.right_id): p for p in CandidatePair.objects.select_for_update()}
        new_pairs, changed, found = [], [], set()
        for pair in result.pairs:
            a, b = sorted((int(pair["unique_id_l"]), int(pair["unique_id_r"])))
            found.add((a, b))
            probability = float(pair["match_probability"])
            fields = {"match_probability": probability, "match_weight": float(pair["match_weight"]),
                      "uncertainty": abs(probability - 0.5),
                      "band": PairBand.PROBABLE if probability >= upper else PairBand.UNCERTAIN,
                      "evidence": evidence(pair, field_set, labels), "run": run}
            known = existing.get((a, b))
            if known is None:
                new_pairs.append(CandidatePair(left_id=a, right_id=b, **fields))
            elif known.status == PairStatus.PENDING:
                for key, value in fields.items():
                    setattr(known, key, value)
                changed.append(known)
            else:
                skipped += 1
        CandidatePair.objects.bulk_create(new_pairs, batch_size=2000)
        _update_pairs(changed)
        updated = len(changed)
        created = len(new_pairs)
        # A pending pair this run no longer scores at the lower threshold (a record corrected since,
        # a retrained model) leaves the queue: it would otherwise stay with a probability nobody holds.
        stale = [p.pk for key, p in existing.items() if p.status == PairStatus.PENDING and key not in found]
        for start in range(0, len(stale), 1000):
            CandidatePair.objects.filter(pk__in=stale[start:start + 1000]).delete()
        run.pairs_queued = created + updated
        run.finished_at = timezone.now()
        run.save(update_fields=["pairs_queued", "finished_at"])
    return RegistryMatchOutcome(run=run, created=created, updated=updated, skipped_decided=skipped,
                                withdrawn=len(stale))


DECISIONS = ("same", "different", "unsure")


@transaction.atomic
def decide_pair(*, actor: Actor, pair_id: int, decision: str, expected_version: int, note: str = "",
                survivor_id_number: str | None = None) -> CandidatePair:
    """Record a review decision. Two officers deciding the same pair: the second finds the
    version moved on and gets ``PairAlreadyDecided`` (409); nothing of theirs is written."""
    from popid.registry.models import Person
    from popid.registry.services import merge_persons

    actor.require_write()
    if decision not in DECISIONS:
        raise ValidationFailed([{"field": "decision", "reason": "invalid", "message": _("Quyết định không hợp lệ")}])
    pair = CandidatePair.objects.select_for_update().filter(pk=pair_id).first()
    if pair is None:
        raise PairNotFound(field="pair")
    left, right = Person.objects.filter(pk__in=(pair.left_id, pair.right_id)).order_by("pk")
    if not (actor.covers_commune(left.commune_code) or actor.covers_commune(right.commune_code)):
        raise PairNotFound(field="pair")
    open_statuses = {PairStatus.PENDING} | ({PairStatus.UNSURE} if actor.level != ScopeLevel.COMMUNE else set())
    if pair.version != expected_version or pair.status not in open_statuses:
        raise PairAlreadyDecided(
            _("Cặp này đã được %(who)s quyết định (%(status)s)")
            % {"who": pair.decided_by or "?", "status": pair.get_status_display()}, field="pair",
            current_version=pair.version)
    if decision == "same":
        if not (actor.covers_commune(left.commune_code) and actor.covers_commune(right.commune_code)):
            raise PermissionDenied(_("Hai hồ sơ thuộc địa bàn khác nhau: chọn 'chưa chắc chắn' để chuyển cấp tỉnh"),
                                   field="decision")
        survivor, duplicate = (left, right) if survivor_id_number in (None, left.id_number) else (right, left)
        merge = merge_persons(actor=actor, survivor_id_number=survivor.id_number,
                              duplicate_id_number=duplicate.id_number, survivor_version=survivor.version,
                              duplicate_version=duplicate.version,
                              reason=note or _("Hợp nhất hồ sơ trùng sau xem xét so khớp (cặp %(id)d)")
                              % {"id": pair.pk})
        pair.merge_id = merge.pk
        pair.status = PairStatus.SAME
    elif decision == "different":
        pair.status = PairStatus.DIFFERENT
    else:
        pair.status = PairStatus.UNSURE
    pair.version += 1
    pair.decided_by, pair.decided_at, pair.decision_note = actor.label, timezone.now(), note[:500]
    pair.save(update_fields=["status", "version", "decided_by", "decided_at", "decision_note", "merge_id"])
    return pair
