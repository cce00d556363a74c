"""The legal format of each of the 26 fields (issue #13 item 9), each check on hand-written
records: the pure rule on good and bad values, then the engine on a clean citizen beside one
with the defect (never the synthetic generator, whose errors the older rules were built from)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from popid.core.codes import is_country_code
from popid.registry.models import FamilyRelation, Household, HouseholdMember, IdentityCard, OtherName, Residence
from popid.registry.quality import rules
from popid.registry.quality.engine import run_quality_check
from popid.registry.quality.kinds import KINDS
from tests.registry.test_quality import BA_DINH, HOAN_KIEM, THU_DAU_MOT, kinds_of, make_person

TODAY = date(2026, 12, 1)  # every run below judges dates against this day


# --- the rules on single values ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Nguyễn Văn An", "Đặng Thùy Trâm", "Nguyễn Thị Ngọc Ánh", "H'Hen Niê",
                                  "Y Moan Ênuôl", "Lò Văn Giàng", "Nguyễn Ánh", "Phạm Quỳnh Anh"])
def test_vietnamese_names_with_every_diacritic_are_well_formed(name: str) -> None:
    assert rules.name_problem(name) is None


@pytest.mark.parametrize(("name", "offending"), [
    ("Nguyễn Văn 2", "'2'"), ("Trần@Bình", "'@'"), ("Nguye^~n Văn An", "'^', '~'"),
    ("Nguyá»…n Văn An", "'»', '…'"),  # UTF-8 read as Latin-1
    ("Peña Nguyễn", "'ñ'"),  # a tilde on a consonant is not Vietnamese
    ("Lê Văn An.", "'.'"), ("'Lê Văn", "'''"),  # an apostrophe only inside a word
])
def test_names_with_characters_other_than_letters_are_flagged(name: str, offending: str) -> None:
    problem = rules.name_problem(name)
    assert problem is not None and offending in problem


@pytest.mark.parametrize("name", ["A", "", "B" * 101])
def test_names_too_short_or_too_long_are_flagged(name: str) -> None:
    assert "ký tự (cho phép 2–100)" in (rules.name_problem(name) or "")


@pytest.mark.parametrize("phone", ["0912345678", "0321234567", "0561234567", "0701234567", "0889999999",
                                   "02438251234"])
def test_vietnamese_mobile_and_fixed_numbers_pass(phone: str) -> None:
    assert rules.phone_problem(phone) is None


@pytest.mark.parametrize(("phone", "says"), [
    ("+84 912 345 678", "phải ghi là '0912345678'"),
    ("0912.345.678", "phải ghi là '0912345678'"),
    ("01234567890", "đầu số 11 chữ số cũ"),
    ("0501234567", "không phải số di động"),  # 050 is not a mobile prefix
    ("0312345678", "không phải số di động"),  # neither is 031
    ("091234567", "không phải số di động"),  # nine digits
    ("09123456789", "không phải số di động"),
    ("abc", "không phải số di động"),
])
def test_malformed_phone_numbers_say_what_is_wrong(phone: str, says: str) -> None:
    assert says in (rules.phone_problem(phone) or "")


@pytest.mark.parametrize(("email", "ok"), [("an.nguyen90@gmail.com", True), ("binh@bocongan.gov.vn", True),
                                           ("an.nguyen@", False), ("an nguyen@gmail.com", False),
                                           ("@gmail.com", False), ("an@@gmail.com", False)])
def test_email_addresses(email: str, ok: bool) -> None:
    assert (rules.email_problem(email) is None) is ok


@pytest.mark.parametrize(("text", "ok"), [("Số 12 Hàng Bạc, Phường Hoàn Kiếm, Hà Nội", True),
                                          ("Xã Cư M’gar, Đắk Lắk", True), ("Paris (Pháp)", True),
                                          ("Bệnh viện Phụ sản Hà Nội\x00", False), ("Hà Ná»™i", False),
                                          ("Thôn 3 ??", False)])
def test_place_and_address_text(text: str, ok: bool) -> None:
    assert (rules.text_problem(text) is None) is ok


def test_nationality_codes_are_iso_3166_alpha_2() -> None:
    assert all(is_country_code(code) for code in ("VN", "US", "LA", "KH", "FR"))
    assert not any(is_country_code(code) for code in ("XX", "vn", "VNM", "", "UK"))


@pytest.mark.parametrize(("birth", "issued", "until"), [
    (date(1990, 5, 1), date(2021, 3, 1), date(2030, 5, 1)),  # at 30: until 40
    (date(1990, 5, 1), date(2013, 6, 1), date(2030, 5, 1)),  # within 2 years before 25: until 40
    (date(1990, 5, 1), date(2013, 4, 30), date(2015, 5, 1)),  # one day more than 2 years before 25
    (date(2016, 5, 1), date(2024, 8, 1), date(2030, 5, 1)),  # a child's card (Law 2023): until 14
    (date(2011, 5, 1), date(2024, 8, 1), date(2036, 5, 1)),  # at 13, within 2 years before 14: until 25
    (date(1950, 5, 1), date(2021, 3, 1), None),  # from 58 on: no expiry
])
def test_card_expiry_follows_the_age_milestones(birth: date, issued: date, until: date | None) -> None:
    assert rules.card_expiry(birth, issued) == until


def test_id_place_accepts_the_old_province_and_the_one_it_was_merged_into() -> None:
    assert rules.id_place_matches("001", "01")
    assert rules.id_place_matches("074", "79")  # Bình Dương, merged into TP Hồ Chí Minh in 2025
    assert rules.id_place_matches("074", "74")  # the same province, coded as it was then
    assert not rules.id_place_matches("079", "01")


def test_commune_must_lie_in_its_province() -> None:
    assert rules.unit_pair_problem(HOAN_KIEM, "01") is None
    assert rules.unit_pair_problem(THU_DAU_MOT, "74") is None  # old Bình Dương code of a 2025 HCMC ward
    assert "thuộc tỉnh 01, ghi tỉnh 79" in (rules.unit_pair_problem(HOAN_KIEM, "79") or "")
    assert rules.unit_pair_problem("00001", "79") is None  # abolished: no list to check it against


# --- the engine on hand-written records ---------------------------------------------------------------
PERSON_CASES = {
    "invalid_name": {"full_name": "Nguyễn Văn 2"},
    "birth_date_inconsistent": {"birth_date_precision": "year"},  # "year only" but a full date
    "id_place_mismatch": {"place": "079"},  # HCMC prefix, birth registered in Hà Nội
    "commune_province_mismatch": {"province": "79"},  # Hoàn Kiếm is in Hà Nội (01)
    "unknown_nationality_code": {"nationality": "XX"},
    "invalid_coded_value": {"blood_type": "C"},
    "invalid_old_id_number": {"old_id_number": "12345"},
    "invalid_phone": {"phone": "0501234567"},
    "invalid_email": {"email": "an.nguyen@"},
    "invalid_text": {"hometown": "Xã Đông Anh\x07"},
    "future_date": {"status": "missing", "missing_since": TODAY + timedelta(days=3)},
    "dates_out_of_order": {"status": "missing", "missing_since": date(1980, 1, 1)},
    "underage_marriage": {"birth": date(2010, 1, 1), "marital_status": "married"},
    "life_status_inconsistent": {"status": "deceased"},  # no date of death
    "expired_absence": {"absence_status": "Tạm vắng: lao động tại Đà Nẵng", "absence_until": date(2026, 6, 30)},
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(PERSON_CASES))
def test_each_format_rule_flags_the_bad_record_and_not_the_clean_one(kind: str) -> None:
    # given a clean citizen using every optional field correctly, and one with the defect
    clean = make_person("Trần Thị Bình", sex="F", phone="0912345678", email="binh.tran@gmail.com",
                        old_id_number="012345678", blood_type="AB+", marital_status="married",
                        absence_status="Tạm vắng: học tập", absence_until=TODAY + timedelta(days=200))
    bad = make_person(**PERSON_CASES[kind])
    # when
    run_quality_check(today=TODAY)
    # then
    assert kind in kinds_of(bad)
    assert kinds_of(clean) == set()


@pytest.mark.django_db
def test_every_defect_of_one_field_kind_is_one_finding_with_each_detail() -> None:
    person = make_person(birth_place="Hà Ná»™i", hometown="Thôn 3 ??", residence_file_number="HS\t01")
    run = run_quality_check(today=TODAY)
    finding = run.findings.get(person=person, kind="invalid_text")
    assert "nơi sinh" in finding.detail and "quê quán" in finding.detail and "số hồ sơ cư trú" in finding.detail


@pytest.mark.django_db
def test_alive_with_a_date_of_death_is_inconsistent_and_a_future_death_is_flagged_too() -> None:
    alive_with_death = make_person(died_on=date(2020, 1, 1))
    future_death = make_person("Lê Thị Hoa", sex="F", status="deceased", died_on=TODAY + timedelta(days=10))
    run_quality_check(today=TODAY)
    assert "life_status_inconsistent" in kinds_of(alive_with_death)
    assert {"future_date"} == kinds_of(future_death)


@pytest.mark.django_db
def test_marriage_age_is_twenty_for_men_and_eighteen_for_women() -> None:
    woman_18 = make_person("Lê Thị Hoa", sex="F", birth=date(2008, 6, 1), marital_status="married")
    man_18 = make_person("Lê Văn Hòa", birth=date(2008, 6, 1), marital_status="married")
    man_21 = make_person("Lê Văn Hùng", birth=date(2005, 6, 1), marital_status="divorced")
    run_quality_check(today=TODAY)
    assert kinds_of(woman_18) == set() and kinds_of(man_21) == set()
    assert kinds_of(man_18) == {"underage_marriage"}


@pytest.mark.django_db
def test_month_precision_must_be_the_first_and_the_year_must_match_the_date() -> None:
    month_only = make_person(birth=date(1990, 5, 17), birth_date_precision="month")
    other_year = make_person("Lê Văn Hòa", birth=date(1990, 5, 1), birth_year=1991)
    good_month = make_person("Lê Văn Hùng", birth=date(1990, 5, 1), birth_date_precision="month")
    run_quality_check(today=TODAY)
    assert "birth_date_inconsistent" in kinds_of(month_only)
    assert "birth_date_inconsistent" in kinds_of(other_year)
    assert kinds_of(good_month) == set()


@pytest.mark.django_db
def test_phone_in_international_form_is_flagged_with_the_form_to_store() -> None:
    person = make_person(phone="+84912345678")
    run = run_quality_check(today=TODAY)
    assert "phải ghi là '0912345678'" in run.findings.get(person=person, kind="invalid_phone").detail


# --- related records: cards, relatives, residences, other names, household -----------------------------
def _card(person, *, issued: date, until: date | None, number: str | None = None, active: bool = True) -> None:
    IdentityCard.objects.create(person=person, card_number=number or person.id_number, issued_on=issued,
                                issued_by="Cục Cảnh sát QLHC về TTXH", valid_until=until, is_active=active)


@pytest.mark.django_db
def test_card_number_dates_and_expiry() -> None:
    good = make_person()  # born 1990-05-01
    _card(good, issued=date(2021, 3, 1), until=date(2030, 5, 1))
    _card(good, issued=date(2016, 3, 1), until=date(2030, 5, 1), number="001090999999", active=False)  # old card
    other_number = make_person("Lê Văn Hòa")
    _card(other_number, issued=date(2021, 3, 1), until=date(2030, 5, 1), number="001090999998")
    before_birth = make_person("Lê Văn Hùng")
    _card(before_birth, issued=date(1989, 3, 1), until=date(2015, 5, 1))
    expiry_before_issue = make_person("Lê Văn Huy")
    _card(expiry_before_issue, issued=date(2021, 3, 1), until=date(2020, 5, 1))
    wrong_expiry = make_person("Lê Văn Khánh")
    _card(wrong_expiry, issued=date(2021, 3, 1), until=date(2036, 3, 1))  # 15 years, not the 40th birthday
    future = make_person("Lê Văn Hải")
    _card(future, issued=TODAY + timedelta(days=1), until=date(2030, 5, 1))
    after_death = make_person("Lê Văn Hậu", status="deceased", died_on=date(2019, 1, 1))
    _card(after_death, issued=date(2021, 3, 1), until=date(2030, 5, 1), active=False)
    run_quality_check(today=TODAY)
    assert kinds_of(good) == set()
    assert kinds_of(other_number) == {"card_number_mismatch"}
    assert kinds_of(before_birth) == {"dates_out_of_order"}
    assert kinds_of(expiry_before_issue) == {"dates_out_of_order"}
    assert kinds_of(wrong_expiry) == {"card_expiry_mismatch"}
    assert "future_date" in kinds_of(future)
    assert kinds_of(after_death) == {"dates_out_of_order"}


@pytest.mark.django_db
def test_relatives_names_numbers_and_nationalities() -> None:
    father = make_person("Nguyễn Văn Ba", birth=date(1960, 1, 1))
    good = make_person()
    FamilyRelation.objects.create(person=good, kind="father", relative=father, relative_name=father.full_name,
                                  relative_id_number=father.id_number)
    FamilyRelation.objects.create(person=good, kind="mother", relative_name="H'Hen Niê", relative_nationality="VN")
    bad = make_person("Lê Văn Hòa")
    FamilyRelation.objects.create(person=bad, kind="father", relative=father, relative_name="Nguyen Van 3",
                                  relative_id_number="001060000000", relative_nationality="VN")  # not his number
    FamilyRelation.objects.create(person=bad, kind="mother", relative_name="Trần Thị Lan",
                                  relative_id_number="12345", relative_nationality="XX")
    run = run_quality_check(today=TODAY)
    assert kinds_of(good) == set() and kinds_of(father) == set()
    assert kinds_of(bad) == {"invalid_name", "relative_id_invalid", "unknown_nationality_code"}
    numbers = run.findings.get(person=bad, kind="relative_id_invalid").detail
    assert f"hồ sơ của người đó: {father.id_number}" in numbers and "'12345' sai định dạng" in numbers


@pytest.mark.django_db
def test_residence_dates_terms_units_and_address() -> None:
    good = make_person()
    Residence.objects.create(person=good, kind="permanent", address="Số 12 Hàng Bạc", commune_code=HOAN_KIEM,
                             province_code="01", valid_from=date(2010, 1, 1))
    Residence.objects.create(person=good, kind="temporary", address="Số 5 Kim Mã", commune_code=BA_DINH,
                             province_code="01", valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31))
    before_birth = make_person("Lê Văn Hòa")
    Residence.objects.create(person=before_birth, kind="permanent", address="Số 1 Hàng Bạc", commune_code=HOAN_KIEM,
                             province_code="01", valid_from=date(1985, 1, 1))
    too_long = make_person("Lê Văn Hùng")
    Residence.objects.create(person=too_long, kind="temporary", address="Số 5 Kim Mã", commune_code=BA_DINH,
                             province_code="01", valid_from=date(2026, 1, 1), valid_until=date(2029, 1, 1))
    expired = make_person("Lê Văn Huy")
    Residence.objects.create(person=expired, kind="temporary", address="Số 5 Kim Mã", commune_code=BA_DINH,
                             province_code="01", valid_from=date(2025, 1, 1), valid_until=date(2026, 6, 30))
    wrong_unit = make_person("Lê Văn Khánh")
    Residence.objects.create(person=wrong_unit, kind="permanent", address="Số 1 Hàng Bạc@", commune_code=HOAN_KIEM,
                             province_code="79", valid_from=date(2010, 1, 1))
    run_quality_check(today=TODAY)
    assert kinds_of(good) == set()
    assert kinds_of(before_birth) == {"dates_out_of_order"}
    assert kinds_of(too_long) == {"dates_out_of_order"}
    assert kinds_of(expired) == {"expired_temporary_residence"}
    assert kinds_of(wrong_unit) == {"commune_province_mismatch", "invalid_text"}


@pytest.mark.django_db
def test_other_names_and_relation_to_the_household_head() -> None:
    good = make_person()
    OtherName.objects.create(person=good, name="Nguyễn Văn Tèo", name_norm="nguyen van teo")
    bad = make_person("Lê Văn Hòa")
    OtherName.objects.create(person=bad, name="Tèo 99", name_norm="teo 99")
    household = Household.objects.create(code="HK0000000001", head=good, address="Số 12 Hàng Bạc",
                                         commune_code=HOAN_KIEM, province_code="01", created_on=date(2010, 1, 1))
    HouseholdMember.objects.create(household=household, person=good, relationship="head", joined_on=date(2010, 1, 1))
    HouseholdMember.objects.create(household=household, person=bad, relationship="neighbour",
                                   joined_on=date(2010, 1, 1))
    run = run_quality_check(today=TODAY)
    assert kinds_of(good) == set()
    assert kinds_of(bad) == {"invalid_name", "invalid_coded_value"}
    assert "'neighbour'" in run.findings.get(person=bad, kind="invalid_coded_value").detail


def test_every_new_kind_has_vietnamese_and_english_titles() -> None:
    for kind in (*PERSON_CASES, "relative_id_invalid", "card_number_mismatch", "card_expiry_mismatch",
                 "expired_temporary_residence"):
        spec = KINDS[kind]
        assert spec.title_vi and spec.title_en and spec.title_vi != spec.title_en


@pytest.mark.django_db
def test_a_clean_seeded_population_raises_none_of_the_format_kinds() -> None:
    """The other direction: valid data of every shape the generator writes is not flagged."""
    from popid.registry.synthetic import seed_population
    from popid.registry.synthetic.generator import REFERENCE_DATE

    seed_population(persons=2000, seed=11, error_rate=0.0)
    run = run_quality_check(today=REFERENCE_DATE)
    format_kinds = {*PERSON_CASES, "relative_id_invalid", "card_number_mismatch", "card_expiry_mismatch",
                    "expired_temporary_residence"}
    flagged = set(run.findings.values_list("kind", flat=True)) & format_kinds
    assert flagged == set()


def test_truth_comparison_keeps_format_kinds_out_of_the_overall_figures() -> None:
    """The seeder never injects the format kinds, so a seeded truth cannot grade them: they are
    listed per kind but do not lower the overall precision."""
    from popid.registry.quality.selectors import compare_with_truth

    report = {"errors": [{"id_number": "1", "kind": "unknown_religion_code"},
                         {"id_number": "2", "kind": "invalid_phone"}], "duplicates": []}
    truth = {"errors": [{"id_number": "1", "kind": "unknown_religion_code"}], "duplicates": []}
    result = compare_with_truth(report, truth)
    assert result["overall"]["precision"] == 1.0 and result["overall"]["found"] == 1
    assert result["kinds"]["invalid_phone"] == {"expected": 0, "found": 1, "true_positives": 0, "recall": None,
                                                "precision": 0.0}


@pytest.mark.django_db
def test_quality_page_shows_a_new_kind_in_vietnamese_and_english(client, supervisor_nation, family) -> None:
    from django.urls import reverse

    from popid.registry.models import Person

    Person.objects.filter(pk=family["khoi"].pk).update(phone="0501234567")
    run_quality_check()
    client.force_login(supervisor_nation)
    page = client.get(reverse("registry:quality"), {"kind": "invalid_phone"})
    html = page.content.decode()
    assert page.status_code == 200 and "Số điện thoại không đúng định dạng Việt Nam" in html
    assert reverse("registry:person", args=[family["khoi"].id_number]) in html
    client.post(reverse("web:set_language"), {"language": "en"})
    assert "Phone number is not a Vietnamese number" in client.get(reverse("registry:quality")).content.decode()
