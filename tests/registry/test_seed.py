"""`popid seed`: deterministic generation, realistic shape, clean data stays clean, known errors
are all there, and the command loads, writes demo logins and is idempotent with --if-empty."""

from __future__ import annotations

import json
import stat
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

from popid.core.id_numbers import check_id_number
from popid.registry.models import (
    FamilyRelation,
    HistoryEntry,
    Household,
    HouseholdMember,
    Person,
    Residence,
    VitalEvent,
)
from popid.registry.quality.kinds import KINDS, NOT_INJECTED
from popid.registry.synthetic import (
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    TABLES,
    Truth,
    generate_rows,
    person_rows,
    seed_population,
)


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_column_order_matches_the_tables():
    from django.apps import apps

    models = {m._meta.db_table: m for m in apps.get_app_config("registry").get_models()}
    for table, columns in TABLES.values():
        actual = [f.column for f in models[table]._meta.concrete_fields]
        if table in ("registry_person", "registry_household"):
            assert list(columns) == actual
        else:
            assert list(columns) == actual[1:]  # the database numbers these rows
    assert PERSON_COLUMNS[0] == HOUSEHOLD_COLUMNS[0] == "id"


def test_same_seed_same_rows_other_seed_other_rows():
    first = list(person_rows(persons=800, seed=11, error_rate=0.1))
    again = list(person_rows(persons=800, seed=11, error_rate=0.1))
    other = list(person_rows(persons=800, seed=12, error_rate=0.1))
    assert first == again
    assert first != other
    assert len(first) == 800


def test_population_shape():
    rows = [r for batch in generate_rows(persons=5000, seed=2) for r in batch.persons]
    households = [h for batch in generate_rows(persons=5000, seed=2) for h in batch.households]
    surnames = Counter(r[PERSON_COLUMNS.index("full_name")].split()[0] for r in rows)
    assert 0.34 <= surnames["Nguyễn"] / len(rows) <= 0.42
    assert 0.08 <= surnames["Trần"] / len(rows) <= 0.14
    assert 3.0 <= len(rows) / len(households) <= 4.0
    sexes = Counter(r[PERSON_COLUMNS.index("sex")] for r in rows)
    assert 0.45 <= sexes["M"] / len(rows) <= 0.55
    id_numbers = [r[1] for r in rows]
    assert len(set(id_numbers)) == len(id_numbers)
    for r in rows:  # error rate 0: every number agrees with sex and birth year
        check_id_number(r[1], sex=r[PERSON_COLUMNS.index("sex")], birth_year=r[PERSON_COLUMNS.index("birth_year")])


@pytest.mark.django_db
def test_seed_population_loads_consistent_families():
    result = seed_population(persons=1500, seed=3)
    assert result.persons == Person.objects.count() == 1500
    assert result.households == Household.objects.count()
    assert VitalEvent.objects.filter(kind="birth").count() == 1500
    assert HistoryEntry.objects.filter(command="import", version=1).count() == 1500
    today = date(2026, 11, 1)
    persons = {p.id: p for p in Person.objects.all()}
    for p in persons.values():
        check_id_number(p.id_number, sex=p.sex, birth_year=p.birth_year)
        if p.status == "alive":
            assert _years_between(p.birth_date, today) <= 110
    # every living person has one active permanent residence in their jurisdiction commune
    permanent = Residence.objects.filter(kind="permanent", ended_on__isnull=True)
    active = Counter(permanent.values_list("person_id", flat=True))
    for p in persons.values():
        assert active[p.id] == (1 if p.status == "alive" else 0)
    assert not Residence.objects.filter(kind="permanent", ended_on__isnull=True).exclude(
        commune_code__in=[p.commune_code for p in persons.values()]).exists()
    # parents are at least 12 years older, and each link exists both ways
    links = set(FamilyRelation.objects.filter(relative__isnull=False).values_list("person_id", "kind", "relative_id"))
    for child_id, kind, parent_id in links:
        if kind in ("father", "mother"):
            assert _years_between(persons[parent_id].birth_date, persons[child_id].birth_date) >= 12
            assert (parent_id, "child", child_id) in links
        if kind == "spouse":
            assert (parent_id, "spouse", child_id) in links
            assert persons[child_id].sex != persons[parent_id].sex
    married = {pid for pid, kind, _ in links if kind == "spouse"}
    assert all(persons[pid].marital_status in ("married", "widowed") for pid in married)
    assert HouseholdMember.objects.filter(relationship="head").count() == Household.objects.count()


def test_truth_has_every_kind_at_error_rate_02():
    truth = Truth(seed=5, persons=2000, error_rate=0.2)
    rows = [r for batch in generate_rows(persons=2000, seed=5, error_rate=0.2, truth=truth) for r in batch.persons]
    kinds = Counter(e["kind"] for e in truth.errors)
    assert set(KINDS) - NOT_INJECTED <= set(kinds), set(KINDS) - NOT_INJECTED - set(kinds)
    assert set(KINDS) >= NOT_INJECTED and not NOT_INJECTED & set(kinds)  # tested on hand-written records
    assert 0.15 <= len(truth.errors) / len(rows) <= 0.25
    by_number = {r[1]: r for r in rows}
    for first, second in truth.duplicates:
        a, b = by_number[first], by_number[second]
        assert a[3] == b[3] and a[4] == b[4] and a[10] == b[10] and first != second  # name_norm, birth, province
    for error in truth.errors:
        assert error["id_number"] in by_number


@pytest.mark.django_db
def test_seed_command_end_to_end_and_if_empty(data_dir, capsys):
    truth_file = data_dir / "truth.json"
    call_command("seed", persons=400, seed=9, error_rate=0.2, truth=str(truth_file), no_progress=True)
    assert Person.objects.count() == 400
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert truth["seed"] == 9 and truth["persons"] == 400 and truth["errors"]
    accounts_path = data_dir / "demo-accounts.json"
    accounts = json.loads(accounts_path.read_text(encoding="utf-8"))
    assert stat.S_IMODE(accounts_path.stat().st_mode) == 0o600
    assert {(a["role"], a["level"]) for a in accounts} >= {
        ("admin", "nation"), ("supervisor", "nation"), ("officer", "province"), ("officer", "commune"),
        ("supervisor", "province")}
    assert any(a["unit_code"] == "00070" for a in accounts)
    an = Person.objects.get(full_name="Nguyễn Văn An", birth_date=date(1990, 5, 12))
    assert an.commune_code == "00070" and an.sex == "M"
    household = HouseholdMember.objects.get(person=an, left_on__isnull=True).household
    assert sorted(household.members.values_list("relationship", flat=True)) == ["child", "head", "spouse"]
    output = capsys.readouterr().out
    assert an.id_number in output and "canbo.hoankiem" in output

    call_command("seed", persons=400, seed=10, if_empty=True, no_progress=True)
    assert Person.objects.count() == 400
    again = json.loads(accounts_path.read_text(encoding="utf-8"))
    assert {a["username"]: a["password"] for a in again} == {a["username"]: a["password"] for a in accounts}
    from django.contrib.auth import authenticate

    assert authenticate(username=accounts[0]["username"], password=accounts[0]["password"]) is not None


@pytest.mark.django_db
def test_second_seed_appends_without_collisions():
    seed_population(persons=300, seed=1)
    seed_population(persons=300, seed=1)
    assert Person.objects.count() == 600
    assert Person.objects.filter(full_name="Nguyễn Văn An", birth_date=date(1990, 5, 12)).count() == 1
    Person.objects.create(id_number="001090999999", full_name="Lê Văn Bình", name_norm="le van binh",
                          birth_year=1990, sex="M")  # sequences moved past the loaded ids


def test_no_demo_commune_share_keeps_the_population_unchanged():
    """The demo communes draw from their own random stream: without them nothing moves."""
    assert list(person_rows(persons=300, seed=11)) == list(person_rows(persons=300, seed=11, focus_share=0.0,
                                                                         focus_communes=()))
    moved = list(person_rows(persons=300, seed=11, focus_communes=("00070",), focus_share=0.3))
    assert moved != list(person_rows(persons=300, seed=11)) and len(moved) == 300


@pytest.mark.django_db
def test_demo_commune_officer_gets_enough_people_and_findings(data_dir, client):
    """Issue #19 item 10: the commune officer's demo commune has its own figures (persons above the
    quality minimum sample, findings), as `make run` seeds it."""
    from popid.core.demo_accounts import accounts_file
    from popid.registry.quality.engine import run_quality_check
    from popid.registry.quality.models import QualityFinding, QualityScore
    from popid.registry.quality.scoring import min_persons

    call_command("seed", persons=800, seed=1, error_rate=0.05, demo_commune_share=0.12, no_progress=True)
    assert Person.objects.filter(commune_code="00070").count() >= min_persons()
    run = run_quality_check()
    score = QualityScore.objects.get(run=run, level="commune", unit_code="00070")
    assert score.persons >= min_persons() and score.tier != "too_few_records"
    assert QualityFinding.objects.filter(run=run, commune_code="00070").exists()
    accounts = json.loads(accounts_file().read_text(encoding="utf-8"))
    login = next(a for a in accounts if a["username"] == "canbo.hoankiem")
    assert client.post("/login/", {"username": login["username"], "password": login["password"]}).status_code == 302
    page = client.get("/quality/").content.decode()
    assert "Phường Hoàn Kiếm" in page and "Quá ít hồ sơ để xếp loại</span>" not in page
