"""The data-quality engine: each rule on a small named population (a positive and a negative
case), the duplicate scorer, scores and tiers, jurisdiction, the API, the CLI, and recall and
precision against the synthetic population's ground truth."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import count

import pytest
from django.core.management import call_command
from django.utils import timezone
from ninja.testing import TestClient

from popid.core.access import Actor
from popid.core.admin_units import province_of_commune
from popid.core.errors import PermissionDenied
from popid.core.id_numbers import id_number_prefix
from popid.core.text import normalize_text
from popid.registry.errors import PersonNotFound
from popid.registry.models import FamilyRelation, Person, Residence
from popid.registry.quality.duplicates import Candidate, pairs_in_block
from popid.registry.quality.engine import run_quality_check
from popid.registry.quality.kinds import KINDS
from popid.registry.quality.models import QualityFinding, QualityRun, QualityScore
from popid.registry.quality.scoring import tier_for, unit_score
from popid.registry.quality.selectors import (
    compare_with_truth,
    findings,
    findings_for_person,
    latest_run,
    report_json,
    scores,
    summary_by_kind,
)
from popid.registry.quality_api import router

HOAN_KIEM = "00070"  # Phường Hoàn Kiếm, Hà Nội (01)
BA_DINH = "00004"  # Phường Ba Đình, Hà Nội (01)
THU_DAU_MOT = "25747"  # Phường Thủ Dầu Một, TP Hồ Chí Minh (79)
ABOLISHED = "00001"  # a pre-2025 code that names no unit since 1 July 2025
NEVER_EXISTED = "99999"

_serial = count(1)


def make_person(full_name: str = "Nguyễn Văn An", *, sex: str = "M", birth: date = date(1990, 5, 1),
                commune: str = HOAN_KIEM, province: str = "01", place: str = "001", id_number: str | None = None,
                **fields) -> Person:
    """A clean citizen unless told otherwise: every mandatory field, a consistent ID number."""
    values = {
        "id_number": id_number or f"{id_number_prefix(place, sex, birth.year)}{next(_serial):06d}",
        "full_name": full_name, "name_norm": normalize_text(full_name), "birth_date": birth,
        "birth_year": birth.year, "sex": sex, "birth_place": "Bệnh viện Phụ sản Hà Nội",
        "birth_registration_commune_code": commune, "birth_registration_province_code": province,
        "hometown": "Xã Đông Anh, Hà Nội", "ethnicity_code": "01", "religion_code": "00", "nationality": "VN",
        "commune_code": commune, "province_code": province,
    }
    values.update(fields)
    return Person.objects.create(**values)


def add_parent(child: Person, parent: Person, kind: str) -> None:
    FamilyRelation.objects.create(person=child, kind=kind, relative=parent, relative_name=parent.full_name,
                                  relative_id_number=parent.id_number)


def add_residence(person: Person, commune: str, *, kind: str = "permanent", ended_on: date | None = None) -> None:
    Residence.objects.create(person=person, kind=kind, address="12 Hàng Bạc", commune_code=commune,
                             province_code=province_of_commune(commune) or "",
                             valid_from=date(2010, 1, 1), ended_on=ended_on)


def kinds_of(person: Person) -> set[str]:
    return set(QualityFinding.objects.filter(run=latest_run(), person=person).values_list("kind", flat=True))


NATION = Actor.system("test")
HANOI = Actor(label="giamsat.hanoi", role="supervisor", level="province", unit_code="01")
HOAN_KIEM_OFFICER = Actor(label="canbo.hoankiem", role="officer", level="commune", unit_code=HOAN_KIEM)


# --- single-record rules ------------------------------------------------------------------

TODAY = timezone.localdate()
RULE_CASES = {
    "id_sex_mismatch": {"id_number": f"{id_number_prefix('001', 'M', 1990)}000001", "sex": "F"},
    "id_birth_year_mismatch": {"id_number": f"{id_number_prefix('001', 'M', 1991)}000002"},
    "id_unknown_place": {"id_number": "003090000003"},
    "id_invalid_format": {"id_number": "00109000"},
    "unknown_ethnicity_code": {"ethnicity_code": "77"},
    "unknown_religion_code": {"religion_code": "99"},
    "unknown_commune_code": {"birth_registration_commune_code": NEVER_EXISTED},
    "future_birth_date": {"birth": TODAY + timedelta(days=30)},
    "death_before_birth": {"status": "deceased", "died_on": date(1989, 1, 1)},
    "missing_mandatory_field": {"hometown": "", "birth_place": ""},
    "non_canonical_name": {"full_name": "nguyễn  VĂN an"},
    "implausible_age": {"birth": date(1899, 3, 1), "place": "001", "id_number": "001000000009"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(RULE_CASES))
def test_each_rule_flags_the_bad_record_and_not_the_clean_one(kind: str) -> None:
    # given a clean citizen and one with the defect
    clean = make_person("Trần Thị Bình", sex="F")
    bad = make_person(**RULE_CASES[kind])
    # when
    run_quality_check()
    # then
    assert kind in kinds_of(bad)
    assert kinds_of(clean) == set()


@pytest.mark.django_db
def test_missing_fields_are_one_finding_listing_each_field() -> None:
    person = make_person(hometown="", birth_place="", ethnicity_code="")
    run_quality_check()
    [finding] = QualityFinding.objects.filter(person=person, kind="missing_mandatory_field")
    assert "quê quán" in finding.detail and "nơi sinh" in finding.detail and "dân tộc" in finding.detail
    assert finding.principle == "du"


@pytest.mark.django_db
def test_year_only_birth_is_not_missing_but_a_missing_day_date_is() -> None:
    old_record = make_person(birth_date_precision="year", birth=date(1950, 1, 1))
    no_date = make_person("Lê Văn Cường", birth_date=None)
    run_quality_check()
    assert "missing_mandatory_field" not in kinds_of(old_record)
    assert "missing_mandatory_field" in kinds_of(no_date)


@pytest.mark.django_db
def test_birth_registered_in_abolished_commune_is_historically_right() -> None:
    person = make_person(birth_registration_commune_code=ABOLISHED)
    run_quality_check()
    assert kinds_of(person) == set()


@pytest.mark.django_db
def test_deceased_with_active_residence_but_not_with_ended_one() -> None:
    active = make_person(status="deceased", died_on=date(2020, 1, 1))
    add_residence(active, HOAN_KIEM)
    ended = make_person("Phạm Thị Dung", sex="F", status="deceased", died_on=date(2020, 1, 1))
    add_residence(ended, HOAN_KIEM, ended_on=date(2020, 1, 5))
    alive = make_person("Hoàng Văn Em")
    add_residence(alive, HOAN_KIEM)
    run_quality_check()
    assert kinds_of(active) == {"deceased_with_active_residence"}
    assert kinds_of(ended) == set()
    assert kinds_of(alive) == set()


@pytest.mark.django_db
def test_residence_in_abolished_unit_and_in_unknown_unit() -> None:
    abolished = make_person()
    add_residence(abolished, ABOLISHED)
    unknown = make_person("Lê Thị Hoa", sex="F")
    add_residence(unknown, NEVER_EXISTED, kind="temporary")
    current = make_person("Đỗ Văn Giang")
    add_residence(current, BA_DINH)
    add_residence(current, ABOLISHED, kind="permanent", ended_on=date(2025, 7, 1))
    run_quality_check()
    assert kinds_of(abolished) == {"residence_in_abolished_unit"}
    assert kinds_of(unknown) == {"unknown_commune_code"}
    assert kinds_of(current) == set()


@pytest.mark.django_db
def test_parent_less_than_twelve_years_older_is_reported_on_the_child() -> None:
    father = make_person("Nguyễn Văn Hùng", birth=date(1985, 1, 1))
    child = make_person("Nguyễn Văn Khang", birth=date(1990, 5, 1))
    add_parent(child, father, "father")
    mother = make_person("Trần Thị Lan", sex="F", birth=date(1960, 1, 1))
    add_parent(child, mother, "mother")
    run_quality_check()
    assert kinds_of(child) == {"parent_younger_than_child"}
    finding = QualityFinding.objects.get(person=child)
    assert finding.related_id_number == father.id_number
    assert kinds_of(father) == set() and kinds_of(mother) == set()


@pytest.mark.django_db
def test_parent_exactly_twelve_years_older_passes_one_day_less_fails() -> None:
    exact_parent = make_person("Nguyễn Văn Hùng", birth=date(1978, 5, 1))
    exact_child = make_person("Nguyễn Văn Khang", birth=date(1990, 5, 1))
    add_parent(exact_child, exact_parent, "father")
    young_parent = make_person("Trần Thị Lan", sex="F", birth=date(1978, 5, 2))
    young_child = make_person("Trần Văn Minh", birth=date(1990, 5, 1))
    add_parent(young_child, young_parent, "mother")
    run_quality_check()
    assert kinds_of(exact_child) == set()
    assert kinds_of(young_child) == {"parent_younger_than_child"}


@pytest.mark.django_db
def test_parent_age_limit_comes_from_settings(settings) -> None:
    settings.POPID_QUALITY_MIN_PARENT_AGE = 18
    parent = make_person("Nguyễn Văn Hùng", birth=date(1975, 1, 1))
    child = make_person("Nguyễn Văn Khang", birth=date(1990, 5, 1))
    add_parent(child, parent, "father")
    run_quality_check()
    assert kinds_of(child) == {"parent_younger_than_child"}


@pytest.mark.django_db
def test_child_relation_seen_from_the_parent_side_is_reported_once_on_the_child() -> None:
    parent = make_person("Nguyễn Văn Hùng", birth=date(1985, 1, 1))
    child = make_person("Nguyễn Văn Khang", birth=date(1990, 5, 1))
    add_parent(child, parent, "father")
    FamilyRelation.objects.create(person=parent, kind="child", relative=child, relative_name=child.full_name)
    run_quality_check()
    assert QualityFinding.objects.filter(person=child, kind="parent_younger_than_child").count() == 1
    assert kinds_of(parent) == set()


# --- duplicates -----------------------------------------------------------------------------


def _with_parents(person: Person, father: str, mother: str) -> Person:
    FamilyRelation.objects.create(person=person, kind="father", relative_name=father)
    FamilyRelation.objects.create(person=person, kind="mother", relative_name=mother)
    return person


@pytest.mark.django_db
def test_true_duplicate_pair_is_flagged_once_on_both_records() -> None:
    first = _with_parents(make_person(), "Nguyễn Văn Bảo", "Lê Thị Cúc")
    # the same man entered again, name typed without care, parents' names without accents
    second = _with_parents(make_person("NGUYỄN VĂN AN", commune=BA_DINH), "Nguyen Van Bao", "le thi cuc")
    run_quality_check()
    rows = QualityFinding.objects.filter(kind="probable_duplicate").order_by("id_number")
    assert [(r.id_number, r.related_id_number) for r in rows] == sorted(
        [(first.id_number, second.id_number), (second.id_number, first.id_number)])
    assert report_json()["duplicates"] == [sorted([first.id_number, second.id_number])]


@pytest.mark.django_db
def test_namesakes_born_same_day_to_different_parents_are_not_flagged() -> None:
    _with_parents(make_person(), "Nguyễn Văn Bảo", "Lê Thị Cúc")
    _with_parents(make_person(hometown="Xã Tiên Du, Bắc Ninh", birth_place="Trạm y tế xã"),
                  "Nguyễn Văn Tâm", "Phạm Thị Hằng")
    run_quality_check()
    assert not QualityFinding.objects.filter(kind="probable_duplicate").exists()


def test_duplicate_scorer_needs_enough_evidence_and_agreement() -> None:
    base = {"commune_code": HOAN_KIEM, "province_code": "01", "ethnicity_code": "01", "sex": "M"}
    a = Candidate(1, "001090000001", hometown="Hà Nội", birth_place="Hà Nội", father="A", mother="B", **base)
    b = Candidate(2, "001090000002", hometown="Ha Noi", birth_place="", father="A", mother="B", **base)
    other_parents = Candidate(3, "001090000003", hometown="Hà Nội", birth_place="Hà Nội", father="C",
                              mother="D", **base)
    bare_1 = Candidate(4, "001090000004", hometown="", birth_place="", **base)
    bare_2 = Candidate(5, "001090000005", hometown="", birth_place="", **base)
    assert [(p.first.id, p.second.id) for p in pairs_in_block([a, b])] == [(1, 2)]
    assert pairs_in_block([a, other_parents]) == []
    assert pairs_in_block([bare_1, bare_2]) == []  # sex + ethnicity alone are too little evidence


# --- scores, tiers, runs ------------------------------------------------------------------------


def test_tiers_follow_thresholds(settings) -> None:
    assert unit_score(persons=20, weighted_persons_with_findings=1.0) == 95.0
    assert tier_for(95.0) == "meets_standard"
    assert tier_for(94.99) == "needs_fixing"
    assert tier_for(80.0) == "needs_fixing"
    assert tier_for(79.9) == "rebuild"
    assert unit_score(persons=0, weighted_persons_with_findings=0) == 100.0
    settings.POPID_QUALITY_TIER_THRESHOLDS = {"meets_standard": 99, "needs_fixing": 90}
    assert tier_for(95.0) == "needs_fixing"


@pytest.mark.django_db
def test_scores_per_commune_province_and_nation(settings) -> None:
    settings.POPID_QUALITY_MIN_PERSONS = 1  # the formula on small units (the minimum sample: below)
    # Hoàn Kiếm: 20 people, one with a critical finding (future birth) and a low one -> 95
    for i in range(19):
        make_person(f"Nguyễn Văn An {chr(65 + i)}".title())
    make_person("nguyễn văn tương lai", birth=TODAY + timedelta(days=1))
    # Ba Đình: 4 people, one with a medium finding -> 100 × (1 − 0.5/4) = 87.5
    for name in ["Lê Văn Bình", "Lê Văn Chiến", "Lê Văn Dũng"]:
        make_person(name, commune=BA_DINH)
    make_person("Lê Văn Em", commune=BA_DINH, ethnicity_code="77")
    # Thủ Dầu Một (79): clean
    make_person("Võ Văn Phúc", commune=THU_DAU_MOT, province="79", place="079")
    run = run_quality_check()
    by_unit = {(s.level, s.unit_code): s for s in QualityScore.objects.filter(run=run)}
    hoan_kiem = by_unit[("commune", HOAN_KIEM)]
    assert (hoan_kiem.persons, hoan_kiem.persons_with_findings, hoan_kiem.score) == (20, 1, 95.0)
    assert hoan_kiem.tier == "meets_standard"
    assert hoan_kiem.findings_by_principle == {"dung": 1, "sach": 1}
    assert hoan_kiem.province_code == "01"
    ba_dinh = by_unit[("commune", BA_DINH)]
    assert (ba_dinh.score, ba_dinh.tier) == (87.5, "needs_fixing")
    hanoi = by_unit[("province", "01")]
    assert hanoi.persons == 24 and hanoi.persons_with_findings == 2
    assert hanoi.score == round(100 * (1 - 1.5 / 24), 2)
    assert by_unit[("province", "79")].tier == "meets_standard"
    assert by_unit[("nation", "VN")].persons == 25
    assert run.persons_checked == 25 and run.finding_count == 3


def test_tier_needs_a_minimum_sample(settings) -> None:
    """Issue #19 item 11: one finding among one person is not 'rebuild' but 'too few records'."""
    assert tier_for(0.0, persons=1) == "too_few_records"
    assert tier_for(0.0, persons=29) == "too_few_records" and tier_for(0.0, persons=30) == "rebuild"
    assert tier_for(100.0, persons=29) == "too_few_records"  # a perfect score on 29 people says as little
    settings.POPID_QUALITY_MIN_PERSONS = 5
    assert tier_for(50.0, persons=5) == "rebuild" and tier_for(50.0, persons=4) == "too_few_records"


@pytest.mark.django_db
def test_small_units_get_too_few_records_on_the_page(client, officer_hoan_kiem) -> None:
    make_person("Lê Văn Em", ethnicity_code="77")  # Hoàn Kiếm: one person, one finding
    run = run_quality_check()
    hoan_kiem = QualityScore.objects.get(run=run, level="commune", unit_code=HOAN_KIEM)
    assert hoan_kiem.score == 50.0 and hoan_kiem.tier == "too_few_records"
    client.force_login(officer_hoan_kiem)
    body = client.get("/quality/").content.decode()
    assert "Quá ít hồ sơ để xếp loại" in body and "dưới 30 người" in body


@pytest.mark.django_db
def test_only_finished_runs_are_current_and_old_runs_are_pruned() -> None:
    make_person(ethnicity_code="77")
    QualityRun.objects.create(started_at=timezone.now(), status="failed")
    runs = [run_quality_check() for _ in range(7)]
    assert latest_run() == runs[-1]
    assert QualityRun.objects.count() == 5
    assert set(QualityFinding.objects.values_list("run_id", flat=True)) == {r.pk for r in runs[-5:]}


# --- jurisdiction and selectors -------------------------------------------------------------------


@pytest.fixture
def three_units() -> dict[str, Person]:
    return {
        "hoan_kiem": make_person(ethnicity_code="77"),
        "ba_dinh": make_person("Lê Văn Bình", commune=BA_DINH, ethnicity_code="77"),
        "thu_dau_mot": make_person("Võ Văn Phúc", commune=THU_DAU_MOT, province="79", place="079",
                                   ethnicity_code="77"),
    }


@pytest.mark.django_db
def test_findings_and_scores_are_cut_to_the_jurisdiction(three_units: dict[str, Person]) -> None:
    run_quality_check()
    assert findings(actor=NATION).count() == 3
    assert {f.commune_code for f in findings(actor=HANOI)} == {HOAN_KIEM, BA_DINH}
    assert [f.commune_code for f in findings(actor=HOAN_KIEM_OFFICER)] == [HOAN_KIEM]
    assert findings(actor=HOAN_KIEM_OFFICER, commune_code=THU_DAU_MOT).count() == 0
    assert {s.unit_code for s in scores(actor=HANOI, level="commune")} == {HOAN_KIEM, BA_DINH}
    assert [s.unit_code for s in scores(actor=HANOI, level="province")] == ["01"]
    assert list(scores(actor=HANOI, level="nation")) == []
    assert [s.unit_code for s in scores(actor=NATION, level="commune", parent_code="79")] == [THU_DAU_MOT]
    summary = {row["kind"]: row["count"] for row in summary_by_kind(actor=HANOI)}
    assert summary["unknown_ethnicity_code"] == 2 and set(summary) == set(KINDS)
    tdm = three_units["thu_dau_mot"].id_number
    assert findings_for_person(id_number=tdm).count() == 1
    assert findings_for_person(id_number=tdm, actor=HANOI).count() == 0


def test_compare_with_truth_counts_recall_and_precision() -> None:
    truth = {"errors": [{"id_number": "1", "kind": "a"}, {"id_number": "2", "kind": "a"}],
             "duplicates": [["4", "3"]]}
    report = {"errors": [{"id_number": "1", "kind": "a"}, {"id_number": "9", "kind": "b"}],
              "duplicates": [["3", "4"]]}
    result = compare_with_truth(report, truth)
    assert result["kinds"]["a"]["recall"] == 0.5 and result["kinds"]["a"]["precision"] == 1.0
    assert result["kinds"]["b"]["recall"] is None and result["kinds"]["b"]["precision"] == 0.0
    assert result["duplicates"]["recall"] == 1.0
    assert result["overall"] == {"expected": 3, "found": 3, "true_positives": 2, "recall": 0.6667,
                                 "precision": 0.6667}


# --- API ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_runs_scores_findings_in_jurisdiction(three_units: dict[str, Person]) -> None:
    run = run_quality_check()
    client = TestClient(router)
    latest = client.get("/runs/latest", actor=HANOI)
    assert latest.status_code == 200 and latest.json()["id"] == run.pk
    province_scores = client.get("/scores?level=province", actor=HANOI).json()
    assert [s["unit_code"] for s in province_scores] == ["01"]
    assert province_scores[0]["tier_label"] == "Đạt chuẩn" or province_scores[0]["tier"] != "meets_standard"
    page = client.get("/findings?kind=unknown_ethnicity_code", actor=HANOI).json()
    assert page["count"] == 2 and {i["commune_code"] for i in page["items"]} == {HOAN_KIEM, BA_DINH}
    assert client.get(f"/findings?commune={HOAN_KIEM}", actor=HOAN_KIEM_OFFICER).json()["count"] == 1
    tdm = three_units["thu_dau_mot"].id_number
    with pytest.raises(PersonNotFound):  # outside the jurisdiction: same answer as a missing person
        client.get(f"/persons/{tdm}/findings", actor=HANOI)
    assert [f["kind"] for f in client.get(f"/persons/{tdm}/findings", actor=NATION).json()] == [
        "unknown_ethnicity_code"]


@pytest.mark.django_db
def test_api_post_run_needs_supervisor_or_admin_and_denial_changes_nothing() -> None:
    make_person()
    client = TestClient(router)
    with pytest.raises(PermissionDenied):
        client.post("/runs", actor=HOAN_KIEM_OFFICER)
    assert QualityRun.objects.count() == 0
    response = client.post("/runs", actor=HANOI)
    assert response.status_code == 201 and response.json()["status"] == "done"
    assert QualityRun.objects.count() == 1


# --- CLI ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cli_run_and_reports(three_units: dict[str, Person], tmp_path, capsys) -> None:
    call_command("quality", "run", "--quiet")
    call_command("quality", "report")
    text = capsys.readouterr().out
    assert "Hà Nội" in text and "Toàn quốc" in text
    truth = {"errors": [{"id_number": p.id_number, "kind": "unknown_ethnicity_code"} for p in three_units.values()],
             "duplicates": []}
    truth_file = tmp_path / "truth.json"
    truth_file.write_text(json.dumps(truth))
    out = tmp_path / "report.json"
    call_command("quality", "report", "--format", "json", "--output", str(out), "--truth", str(truth_file))
    data = json.loads(out.read_text())
    assert len(data["errors"]) == 3
    assert data["comparison"]["kinds"]["unknown_ethnicity_code"]["recall"] == 1.0
    call_command("quality", "report", "--province", "01", "--truth", str(truth_file))
    text = capsys.readouterr().out
    assert "Phường Hoàn Kiếm" in text and "recall" in text


# --- against the synthetic population's ground truth ------------------------------------------------


@pytest.mark.django_db
def test_recall_and_precision_against_seeded_truth() -> None:
    from popid.registry.synthetic import seed_population

    result = seed_population(persons=3000, seed=20250701, error_rate=0.05)
    run_quality_check()
    comparison = compare_with_truth(report_json(), result.truth)
    injected = {item["kind"] for item in result.truth["errors"]} - {"probable_duplicate"}
    assert len(injected) >= 10, injected
    assert result.truth["duplicates"]
    low = {
        kind: (item["recall"], item["precision"])
        for kind, item in comparison["kinds"].items()
        if kind in injected and (item["recall"] < 0.95 or (item["precision"] or 0) < 0.95)
    }
    assert low == {}, low
    assert comparison["duplicates"]["recall"] >= 0.95
    assert comparison["duplicates"]["precision"] >= 0.95


@pytest.mark.django_db
def test_mounted_quality_api_answers_problem_json(officer_hoan_kiem, supervisor_nation) -> None:
    """Through the real API: an officer may not start a run (403 problem), a supervisor may."""
    from django.test import Client

    from tests.conftest import bearer

    make_person()
    denied = Client(headers=bearer(officer_hoan_kiem)).post("/api/v1/quality/runs")
    assert denied.status_code == 403 and denied["Content-Type"] == "application/problem+json"
    assert QualityRun.objects.count() == 0
    missing = Client(headers=bearer(supervisor_nation)).get("/api/v1/quality/runs/latest")
    assert missing.status_code == 404 and missing.json()["code"] == "no_quality_run"
    created = Client(headers=bearer(supervisor_nation)).post("/api/v1/quality/runs")
    assert created.status_code == 201
    bad = Client(headers=bearer(supervisor_nation)).get("/api/v1/quality/findings", {"kind": "nonsense"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
