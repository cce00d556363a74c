"""The matcher's normaliser: input-method leftovers, diacritics-aware keys, dates, ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from popid.matching.normalise import (
    UnparseableDate,
    fix_input_method,
    is_vietnamese_syllable,
    name_parts,
    parse_birth_date,
    parse_document_id,
    parse_phone,
    parse_sex,
    spell_with_keystrokes,
    syllable_key,
)

VIETNAMESE_WORDS = ["Nguyễn", "Trường", "Đức", "Thị", "Văn", "Hoàng", "Quốc", "Hòa", "Ngọc", "Phượng", "Thủy",
                    "Quỳnh", "Tuấn", "Hương", "Giang", "Khánh", "Bảo", "Dũng", "Yến", "Xuân", "Lê", "Phạm"]


@pytest.mark.parametrize(("typed", "meant"), [
    ("Nguyeenx", "Nguyễn"), ("Nguye^~n", "Nguyễn"), ("Nguye6n4", "Nguyễn"), ("Hoangf", "Hoàng"),
    ("Truwowngf", "Trường"), ("Dduwcs", "Đức"), ("Thij", "Thị"), ("Vawn", "Văn"), ("NGUYEENX", "NGUYỄN"),
])
def test_input_method_leftovers_are_fixed(typed, meant):
    assert fix_input_method(typed) == meant


@pytest.mark.parametrize("word", ["James", "Chris", "O'Brien", "Thomas", "Lewis", "Mary", "Smith", "Anna", "An"])
def test_foreign_and_plain_words_pass_through(word):
    assert fix_input_method(word) == word


@given(st.sampled_from(VIETNAMESE_WORDS), st.sampled_from(["telex", "viqr"]))
def test_keystrokes_round_trip(word, method):
    typed = spell_with_keystrokes(word, method)
    assert syllable_key(fix_input_method(typed)) == syllable_key(word)


@given(st.text(max_size=30))
def test_fix_never_crashes_and_keeps_non_syllables(text):
    for word in text.split():
        fixed = fix_input_method(word)
        assert fixed == word or is_vietnamese_syllable(fixed)


def test_syllable_key_ignores_tone_placement_but_not_tones():
    assert syllable_key("Hoà Bình") == syllable_key("hòa  bình")
    assert syllable_key("Hòa") != syllable_key("Hóa")
    assert syllable_key("Nguyễn") != syllable_key("Nguyen")


def test_name_parts_accent_insensitive_and_sorted():
    a, b = name_parts("Nguyễn Văn An"), name_parts("Văn An Nguyễn")
    assert a.plain == "nguyen van an" and (a.family, a.middle, a.given) == ("nguyen", "van", "an")
    assert a.sorted_tokens == b.sorted_tokens and a.plain != b.plain
    assert name_parts("Nguyeenx Vawn An").exact == a.exact
    assert name_parts(None, family="Trần", given="Bình").plain == "tran binh"
    assert name_parts("   ") is None


@pytest.mark.parametrize(("text", "iso", "year"), [
    ("1990-05-12", "1990-05-12", 1990), ("12/05/1990", "1990-05-12", 1990), ("19900512", "1990-05-12", 1990),
    ("12.05.1990", "1990-05-12", 1990), ("1990", None, 1990),
])
def test_birth_dates_in_usual_formats(text, iso, year):
    parsed = parse_birth_date(text)
    assert parsed.iso == iso and parsed.year == year


@pytest.mark.parametrize("text", ["31/02/1990", "hôm qua", "1990-13-01", "12/05/90", "0000"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(UnparseableDate):
        parse_birth_date(text)


def test_ids_phones_and_sex():
    assert parse_document_id("001090012345") == ("001090012345", None)
    assert parse_document_id("012 345 678") == (None, "012345678")
    assert parse_document_id("") == (None, None)
    assert parse_phone("+84 912 345 678") == parse_phone("0912345678") == "912345678"
    assert parse_sex("Nữ") == parse_sex("female") == "F" and parse_sex("nam") == "M" and parse_sex("?") is None
