"""The per-record rules of "đúng, đủ, sạch, sống", as pure functions over one row.

They take plain tuples, not model instances, because the engine streams millions of rows with
``values_list``; building a ``Person`` per row would cost more than the checks themselves.
Rules that need other rows (parents, residences, duplicates) live in ``engine``.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.conf import settings

from popid.core.admin_units import is_abolished_commune, is_active_commune
from popid.core.codes import RELIGIONS, is_ethnic_group
from popid.core.id_numbers import FIRST_CENTURY, ID_NUMBER_RE, is_known_place_code
from popid.core.text import clean_display_name

PERSON_FIELDS: tuple[str, ...] = (
    "id", "id_number", "full_name", "name_norm", "birth_date", "birth_year", "birth_date_precision",
    "sex", "birth_place", "birth_registration_commune_code", "birth_registration_province_code",
    "hometown", "ethnicity_code", "religion_code", "nationality", "status", "died_on",
    "commune_code", "province_code",
)


class PersonRow(NamedTuple):
    id: int
    id_number: str
    full_name: str
    name_norm: str
    birth_date: date | None
    birth_year: int | None
    birth_date_precision: str
    sex: str
    birth_place: str
    birth_registration_commune_code: str
    birth_registration_province_code: str
    hometown: str
    ethnicity_code: str
    religion_code: str
    nationality: str
    status: str
    died_on: date | None
    commune_code: str
    province_code: str


Finding = tuple[str, str]  # (kind code, detail)

# Decree 137/2015 Art. 14 minimum for a number at birth registration, plus place of birth
# (Art. 9 field 6). Parents' names are checked by the duplicate scorer, not here: foundlings
# legitimately have none.
MANDATORY_FIELDS: dict[str, str] = {
    "full_name": "họ tên",
    "birth_date": "ngày/năm sinh",
    "sex": "giới tính",
    "birth_registration_commune_code": "nơi đăng ký khai sinh",
    "hometown": "quê quán",
    "ethnicity_code": "dân tộc",
    "nationality": "quốc tịch",
    "birth_place": "nơi sinh",
}
SEX_LABELS = {"M": "Nam", "F": "Nữ"}


def max_alive_age() -> int:
    """Age from which a living record is considered not kept up to date (default 120)."""
    return int(getattr(settings, "POPID_QUALITY_MAX_ALIVE_AGE", 120))


def age_on(birth_date: date | None, birth_year: int | None, today: date) -> int | None:
    if birth_date is not None:
        return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if birth_year:
        return today.year - birth_year
    return None


def check_id_number_digits(row: PersonRow) -> list[Finding]:
    """Format, place code, and the G/YY digits against sex and birth year. Each part is checked
    on its own so one record can show an unknown place and a sex mismatch at once."""
    value = row.id_number or ""
    if not ID_NUMBER_RE.match(value):
        return [("id_invalid_format", f"Số định danh '{value}' không gồm đúng 12 chữ số")]
    found: list[Finding] = []
    place, g, yy = value[:3], int(value[3]), int(value[4:6])
    if not is_known_place_code(place):
        found.append(("id_unknown_place", f"Mã {place} không phải mã tỉnh hay mã quốc gia"))
    id_sex = "F" if g % 2 else "M"
    if row.sex in SEX_LABELS and id_sex != row.sex:
        found.append(("id_sex_mismatch",
                      f"Chữ số thứ 4 ({g}) ứng với giới tính {SEX_LABELS[id_sex]}, hồ sơ ghi {SEX_LABELS[row.sex]}"))
    id_year = FIRST_CENTURY + 100 * (g // 2) + yy
    if row.birth_year and id_year != row.birth_year:
        found.append(("id_birth_year_mismatch", f"Số định danh ứng với năm sinh {id_year}, hồ sơ ghi {row.birth_year}"))
    return found


def commune_code_problem(code: str) -> str | None:
    """'unknown' for a code that never named a unit, 'abolished' for a pre-2025 unit, else None."""
    if not code or is_active_commune(code):
        return None
    return "abolished" if is_abolished_commune(code) else "unknown"


def check_codes(row: PersonRow) -> list[Finding]:
    found: list[Finding] = []
    if row.ethnicity_code and not is_ethnic_group(row.ethnicity_code):
        found.append(("unknown_ethnicity_code", f"Mã dân tộc '{row.ethnicity_code}' không có trong danh mục"))
    if row.religion_code and row.religion_code not in RELIGIONS:
        found.append(("unknown_religion_code", f"Mã tôn giáo '{row.religion_code}' không có trong danh mục"))
    return found


def unknown_person_communes(row: PersonRow) -> list[str]:
    """Unknown codes on the person row itself. A birth registered in a commune abolished in 2025
    is historically right, so only codes that never named a unit count here."""
    details = []
    if commune_code_problem(row.birth_registration_commune_code) == "unknown":
        details.append(f"nơi đăng ký khai sinh '{row.birth_registration_commune_code}'")
    if commune_code_problem(row.commune_code) == "unknown":
        details.append(f"đơn vị quản lý '{row.commune_code}'")
    return details


def check_dates(row: PersonRow, today: date) -> list[Finding]:
    found: list[Finding] = []
    if (row.birth_date and row.birth_date > today) or (row.birth_year and row.birth_year > today.year):
        found.append(("future_birth_date", f"Ngày sinh {row.birth_date or row.birth_year} sau ngày hôm nay"))
    if row.died_on is not None:
        if row.birth_date is not None and row.birth_date_precision == "day":
            before = row.died_on < row.birth_date
        else:
            before = bool(row.birth_year) and row.died_on.year < (row.birth_year or 0)
        if before:
            found.append(("death_before_birth",
                          f"Ngày chết {row.died_on.isoformat()} trước ngày sinh {row.birth_date or row.birth_year}"))
    return found


def check_mandatory(row: PersonRow) -> list[Finding]:
    """One finding listing every missing field, so a half-empty record counts once."""
    missing = [label for name, label in MANDATORY_FIELDS.items() if name != "birth_date" and not getattr(row, name)]
    # A year-only record (old registers) is complete; a day-precision record needs its date.
    if not row.birth_year or (row.birth_date is None and row.birth_date_precision == "day"):
        missing.insert(1, MANDATORY_FIELDS["birth_date"])
    if not missing:
        return []
    return [("missing_mandatory_field", "Thiếu: " + ", ".join(missing))]


def check_name(row: PersonRow) -> list[Finding]:
    if row.full_name and row.full_name != clean_display_name(row.full_name):
        return [("non_canonical_name", f"'{row.full_name}' nên ghi là '{clean_display_name(row.full_name)}'")]
    return []


def check_alive_age(row: PersonRow, today: date, limit: int) -> list[Finding]:
    if row.status != "alive":
        return []
    age = age_on(row.birth_date, row.birth_year, today)
    if age is not None and age >= limit:
        return [("implausible_age", f"Còn sống, {age} tuổi: chưa cập nhật khai tử?")]
    return []


def check_person(row: PersonRow, today: date, *, max_age: int | None = None) -> list[Finding]:
    """All single-record rules except commune codes (which the engine merges with residences)."""
    return [
        *check_id_number_digits(row),
        *check_codes(row),
        *check_dates(row, today),
        *check_mandatory(row),
        *check_name(row),
        *check_alive_age(row, today, max_age if max_age is not None else max_alive_age()),
    ]
