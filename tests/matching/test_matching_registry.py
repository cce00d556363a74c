"""`popid match registry` on a seeded population with hard-error duplicates."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from popid.core.access import Actor
from popid.matching.models import CandidatePair, MatchRun, PairStatus
from popid.matching.services import registry_model_path, run_registry_match
from popid.registry.models import Person, PersonMerge
from popid.registry.synthetic import seed_population


@pytest.fixture
def seeded(db, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    result = seed_population(persons=2500, seed=4, duplicate_rate=0.03)
    return result.truth


def test_registry_run_fills_the_queue_and_respects_decisions(seeded, tmp_path):
    truth_pairs = {tuple(sorted(d["pair"])) for d in seeded["match_duplicates"]}
    assert len(truth_pairs) > 20
    kinds = {e for d in seeded["match_duplicates"] for e in d["errors"]}
    assert {"telex", "viqr", "name_order", "day_month_swap", "year_only"} <= kinds
    out = StringIO()
    call_command("match", "registry", stdout=out, verbosity=0)
    assert registry_model_path().exists()
    run = MatchRun.objects.get()
    assert run.trained and run.comparisons > 0 and len(run.rule_counts) >= 5
    assert "so sánh" in out.getvalue()
    numbers = dict(Person.objects.values_list("pk", "id_number"))
    queued = {tuple(sorted((numbers[p.left_id], numbers[p.right_id]))): p for p in CandidatePair.objects.all()}
    probable = {k for k, p in queued.items() if p.band == "probable"}
    recall = len(probable & truth_pairs) / len(truth_pairs)
    precision = len(probable & truth_pairs) / max(len(probable), 1)
    assert recall >= 0.6 and precision >= 0.8, (recall, precision)
    assert not PersonMerge.objects.exists()  # nothing merged without a decision
    pair = next(iter(CandidatePair.objects.order_by("uncertainty")))
    assert pair.evidence and {"comparison", "weight"} <= set(pair.evidence[0])
    pair.status = PairStatus.DIFFERENT
    pair.save()
    # a pending pair left by an earlier run that this run does not find (two strangers) is withdrawn
    first, last = Person.objects.order_by("pk").first(), Person.objects.order_by("-pk").first()
    assert first.full_name != last.full_name
    stale = CandidatePair.objects.create(left=first, right=last, match_probability=0.6, match_weight=1.0,
                                         uncertainty=0.1, band="uncertain", evidence=[], run=run)
    second = run_registry_match(actor=Actor.system("test"))
    assert not second.run.trained  # the saved model was reused
    assert second.skipped_decided >= 1 and second.created == 0 and second.updated >= 1
    assert second.withdrawn == 1 and not CandidatePair.objects.filter(pk=stale.pk).exists()
    # the pending pairs were rewritten by the second run (one UPDATE per pair, in a batch)
    pending = CandidatePair.objects.filter(status=PairStatus.PENDING)
    assert pending.count() == second.updated and not pending.exclude(run=second.run).exists()
    assert all(p.evidence and p.band in ("probable", "uncertain") for p in pending)
    pair.refresh_from_db()
    assert pair.status == PairStatus.DIFFERENT


def test_evaluate_against_the_seed_truth(seeded, tmp_path):
    import json

    call_command("match", "registry", verbosity=0)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(seeded))
    out = StringIO()
    call_command("match", "evaluate", "--truth", str(truth), stdout=out)
    assert "pairs" in out.getvalue() and "recall" in out.getvalue()


def test_saved_model_for_another_field_set_is_retrained_not_used(db, tmp_path, settings):
    """A registry model saved by a version that compared other fields is not applied to today's
    records (its comparisons would not line up): the run trains a new one and says so."""
    import json

    settings.DATA_DIR = tmp_path
    seed_population(persons=400, seed=7, duplicate_rate=0.05)
    path = registry_model_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "popid-match-model/1", "fields": {"features": ["name"], "place_columns": []},
                                "splink": {"comparisons": []}}))
    steps: list[str] = []
    outcome = run_registry_match(actor=Actor.system("test"), step=steps.append)
    assert "model-outdated" in steps and outcome.run.trained
    saved = json.loads(path.read_text())
    assert "family" in saved["fields"]["features"]


def test_saved_model_with_older_levels_is_retrained_not_used(db, tmp_path, settings):
    """Same fields, but saved by a version whose birth comparison had other levels (no day/month
    swap, an "else" with a fixed m): the run trains anew (a model whose levels match this
    version's is reused, as the first test shows)."""
    import json

    from popid.matching.engine import FieldSet, has_current_levels

    settings.DATA_DIR = tmp_path
    seed_population(persons=400, seed=7, duplicate_rate=0.05)
    assert run_registry_match(actor=Actor.system("test")).run.trained
    path = registry_model_path()
    saved = json.loads(path.read_text())
    assert has_current_levels(saved["splink"], FieldSet.registry())
    birth = next(c for c in saved["splink"]["comparisons"] if c["output_column_name"] == "birth")
    birth["comparison_levels"] = [lv for lv in birth["comparison_levels"]
                                  if lv.get("label_for_charts") != "day and month swapped"]
    birth["comparison_levels"][-1].update(m_probability=0.001, fix_m_probability=True)
    path.write_text(json.dumps(saved))
    steps: list[str] = []
    outcome = run_registry_match(actor=Actor.system("test"), step=steps.append)
    assert "model-outdated" in steps and outcome.run.trained
    assert has_current_levels(json.loads(path.read_text())["splink"], FieldSet.registry())


def test_the_column_read_gives_the_records_of_the_row_by_row_build(seeded):
    """``registry_match_table`` (one SQL statement, work per distinct value) against
    ``record_from_person`` on each ORM row with its parents' relations: the same records."""
    from datetime import date

    from popid.matching.records import COLUMNS, PERSON_VALUES, record_from_person
    from popid.matching.services import registry_match_table
    from popid.registry.models import FamilyRelation, PersonStatus

    person = Person.objects.filter(status=PersonStatus.ALIVE).order_by("pk").first()
    # a second, later father relation wins; an ended one and an empty name are ignored
    FamilyRelation.objects.create(person=person, kind="father", relative_name="Nguyeenx Vawn Ba")
    FamilyRelation.objects.create(person=person, kind="father", relative_name="Trần Văn Ended",
                                  ended_on=date(2020, 1, 1))
    FamilyRelation.objects.create(person=person, kind="mother", relative_name="")
    Person.objects.filter(pk=person.pk).update(phone="", sex="", hometown="Xã Hòa  Bình")
    dead = Person.objects.filter(status=PersonStatus.ALIVE).order_by("-pk").first()
    Person.objects.filter(pk=dead.pk).update(status=PersonStatus.DECEASED)

    parents: dict[tuple[int, str], str] = {}
    for pid, kind, name in (FamilyRelation.objects.filter(kind__in=("father", "mother"), ended_on__isnull=True)
                            .values_list("person_id", "kind", "relative_name").order_by("pk")):
        if name:
            parents[(pid, kind)] = name
    expected = []
    for row in Person.objects.filter(status=PersonStatus.ALIVE).values(*PERSON_VALUES).order_by("pk"):
        row["father_name"] = parents.get((row["id"], "father"))
        row["mother_name"] = parents.get((row["id"], "mother"))
        expected.append(record_from_person(row))

    table = registry_match_table()
    assert table.column_names == list(COLUMNS)
    got = table.to_pylist()
    assert len(got) == len(expected) > 2000
    assert str(dead.pk) not in {r["unique_id"] for r in got}
    mismatched = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not mismatched, mismatched[:3]
    first = got[0]
    assert first["father"] == "nguyen van ba" and first["phone"] is None and first["sex"] is None
    assert first["hometown"] == "xa hoa binh"
    assert any(r["birth_date"] is None and r["birth_year"] for r in got)  # year-only births kept as years


def test_the_training_sample_is_random_and_reproducible():
    """A large registry trains on a random sample of persons — not a contiguous slice, which
    would keep every duplicate pair and so overstate the share of pairs that match."""
    import pyarrow as pa

    from popid.matching.services import training_sample

    table = pa.table({"unique_id": [str(i) for i in range(10_000)]})
    assert training_sample(table, 20_000) is table and training_sample(table, None) is table
    sample = training_sample(table, 1000)
    ids = [int(x) for x in sample["unique_id"].to_pylist()]
    assert len(ids) == len(set(ids)) == 1000 and ids == sorted(ids)
    assert max(ids) - min(ids) > 9000 and ids != list(range(ids[0], ids[0] + 1000))
    assert training_sample(table, 1000)["unique_id"].to_pylist() == sample["unique_id"].to_pylist()
    assert training_sample(table, 1000, seed=14)["unique_id"].to_pylist() != sample["unique_id"].to_pylist()
