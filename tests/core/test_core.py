"""Core kernel: ID numbers (properties), administrative units, code lists, normalisation."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from popid.core import admin_units
from popid.core.codes import ETHNIC_GROUPS, RELIGIONS, is_ethnic_group
from popid.core.id_numbers import (
    InvalidIdNumber,
    Sex,
    check_id_number,
    generate_id_number,
    is_valid_id_number,
    parse_id_number,
)
from popid.core.text import clean_display_name, normalize_text

PLACES = sorted(admin_units.LEGACY_PROVINCES) + [f"{c}" for c in range(101, 296)]


@given(place=st.sampled_from(PLACES), sex=st.sampled_from(list(Sex)), year=st.integers(1900, 2399),
       seed=st.integers(0, 2**32))
def test_generated_numbers_parse_back_to_their_parts(place, sex, year, seed):
    number = generate_id_number(place, sex, year, random.Random(seed))
    parsed = check_id_number(number, sex=sex, birth_year=year)
    assert (parsed.place_code, parsed.sex, parsed.birth_year) == (place, sex, year)
    assert parsed.is_abroad == (int(place) >= 100)


@given(st.text(max_size=20))
def test_parser_never_crashes_on_arbitrary_text(value):
    try:
        parse_id_number(value)
    except InvalidIdNumber as exc:
        assert exc.reason in {"format", "unknown_place_code"}


@pytest.mark.parametrize(
    ("number", "sex", "year"),
    [("001090123456", "M", 1990), ("079303000001", "F", 2003), ("046185999999", "F", 1985),
     ("001200000000", "M", 2000), ("101195000000", "F", 1995)],
)
def test_known_examples(number, sex, year):
    parsed = parse_id_number(number)
    assert (parsed.sex, parsed.birth_year) == (sex, year)


@pytest.mark.parametrize("bad", ["", "12345678901", "0010901234567", "00109012345a", "003090123456",
                                 "099090123456", "296090123456", " 001090123456"])
def test_invalid_numbers(bad):
    assert not is_valid_id_number(bad)


def test_digits_must_agree_with_sex_and_birth_year():
    with pytest.raises(InvalidIdNumber) as info:
        check_id_number("001090123456", sex="F")
    assert info.value.reason == "sex_mismatch"
    with pytest.raises(InvalidIdNumber) as info:
        check_id_number("001090123456", birth_year=1991)
    assert info.value.reason == "birth_year_mismatch"


def test_administrative_units_2025():
    assert len(admin_units.provinces()) == 34
    assert len(admin_units.communes()) == 3321
    assert len(admin_units.LEGACY_PROVINCES) == 63
    kinds = [u.kind for u in admin_units.communes().values()]
    assert (kinds.count("xã"), kinds.count("phường"), kinds.count("đặc khu")) == (2621, 687, 13)
    assert admin_units.commune_label("00070") == "Phường Hoàn Kiếm, Thành phố Hà Nội"
    # every pre-2025 province was absorbed by exactly one 2025 province
    assert {admin_units.current_province_for_legacy(p) for p in admin_units.LEGACY_PROVINCES} == set(
        admin_units.provinces())
    assert admin_units.current_province_for_legacy("024") == "24"  # Bắc Giang -> Bắc Ninh
    assert admin_units.current_province_for_legacy("027") == "24"  # Bắc Ninh -> Bắc Ninh
    assert admin_units.id_prefix_for_province("79") == "079"


def test_abolished_versus_unknown_communes():
    assert admin_units.is_active_commune("00070")
    assert admin_units.is_abolished_commune("00001")  # a pre-2025 code not kept
    assert not admin_units.is_abolished_commune("00070")
    assert not admin_units.is_abolished_commune("99999")
    assert not admin_units.is_abolished_commune("abcde")


def test_code_lists():
    assert len(ETHNIC_GROUPS) == 54 and ETHNIC_GROUPS["01"].name == "Kinh"
    assert is_ethnic_group("54") and not is_ethnic_group("99")
    assert RELIGIONS["00"].name == "Không"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("Nguyễn Văn Đức", "nguyen van duc"), ("  ĐẶNG   THỊ  HỒNG ", "dang thi hong"),
     ("Nguyễn Văn An", "nguyen van an"), ("Huỳnh Ngọc Ánh", "huynh ngoc anh")],
)
def test_normalize_text_ignores_accents_case_and_spacing(raw, normal):
    assert normalize_text(raw) == normal


def test_normalize_handles_decomposed_unicode():
    decomposed = "Nguye\u0302\u0303n"  # NFD form as some keyboards send it
    assert normalize_text(decomposed) == "nguyen"


def test_clean_display_name_keeps_diacritics():
    assert clean_display_name("nguyễn  văn AN") == "Nguyễn Văn An"
