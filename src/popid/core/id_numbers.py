"""The 12-digit personal identification number (số định danh cá nhân).

Structure ``PPP G YY NNNNNN`` (Decree 137/2015 Art. 13, Circular 59/2021, Law on
Identification 2023 Art. 12): PPP is the province code of birth registration (one of
the 63 pre-2025 codes) or a country code 101-295 for births registered abroad; G holds
century and sex; YY the last two digits of the birth year; NNNNNN is random. There is
no check digit, so validity means: format, a known place code, and agreement with the
person's sex and birth year.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum

from popid.core.admin_units import LEGACY_PROVINCES

ID_NUMBER_RE = re.compile(r"^\d{12}$")
OLD_ID_RE = re.compile(r"^\d{9}$")
ABROAD_CODES = range(101, 296)
FIRST_CENTURY = 1900
LAST_CENTURY = 2300


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class InvalidIdNumber(ValueError):
    """Raised with a machine-readable reason when a number cannot be a valid ID number."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ParsedIdNumber:
    id_number: str
    place_code: str
    is_abroad: bool
    sex: Sex
    birth_year: int
    serial: str

    @property
    def province_name(self) -> str | None:
        return LEGACY_PROVINCES.get(self.place_code)


def _century_digit(birth_year: int, sex: Sex) -> int:
    if not FIRST_CENTURY <= birth_year < LAST_CENTURY + 100:
        raise InvalidIdNumber("birth_year_out_of_range", f"birth year {birth_year} has no century digit")
    return 2 * ((birth_year - FIRST_CENTURY) // 100) + (1 if sex == Sex.FEMALE else 0)


def is_known_place_code(code: str) -> bool:
    """A pre-2025 province code or a country code for births registered abroad."""
    return code in LEGACY_PROVINCES or (code.isdigit() and int(code) in ABROAD_CODES)


def parse_id_number(value: str) -> ParsedIdNumber:
    """Split a number into its parts, refusing anything malformed or with an unknown place."""
    if not isinstance(value, str) or not ID_NUMBER_RE.match(value):
        raise InvalidIdNumber("format", "an ID number is exactly 12 digits")
    place, g, yy, serial = value[:3], int(value[3]), int(value[4:6]), value[6:]
    if not is_known_place_code(place):
        raise InvalidIdNumber("unknown_place_code", f"{place} is not a province or country code")
    sex = Sex.FEMALE if g % 2 else Sex.MALE
    return ParsedIdNumber(value, place, int(place) >= 100, sex, FIRST_CENTURY + 100 * (g // 2) + yy, serial)


def is_valid_id_number(value: str) -> bool:
    try:
        parse_id_number(value)
    except InvalidIdNumber:
        return False
    return True


def check_id_number(value: str, *, sex: str | None = None, birth_year: int | None = None) -> ParsedIdNumber:
    """Parse and check the digits against the person's sex and birth year (đúng rule)."""
    parsed = parse_id_number(value)
    if sex is not None and parsed.sex != sex:
        raise InvalidIdNumber("sex_mismatch", "the century/sex digit disagrees with the person's sex")
    if birth_year is not None and parsed.birth_year != birth_year:
        raise InvalidIdNumber("birth_year_mismatch", "the digits disagree with the person's birth year")
    return parsed


def id_number_prefix(place_code: str, sex: str, birth_year: int) -> str:
    """The first six digits, which everything but the random serial determines."""
    if not is_known_place_code(place_code):
        raise InvalidIdNumber("unknown_place_code", f"{place_code} is not a province or country code")
    return f"{place_code}{_century_digit(birth_year, Sex(sex))}{birth_year % 100:02d}"


def generate_id_number(place_code: str, sex: str, birth_year: int, rng: random.Random | None = None) -> str:
    """A candidate number; the caller checks uniqueness (registry.services retries on collision)."""
    rng = rng or random.SystemRandom()
    return f"{id_number_prefix(place_code, sex, birth_year)}{rng.randrange(1_000_000):06d}"
