"""The per-record rules of "đúng, đủ, sạch, sống", as pure functions over one row.

They take plain tuples, not model instances, because the engine streams millions of rows with
``values_list``; building a ``Person`` per row would cost more than the checks themselves.
Rules that need other rows (parents, residences, duplicates) live in ``engine``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from popid.core.admin_units import (
    current_province_for_legacy,
    is_abolished_commune,
    is_active_commune,
    province_of_commune,
)
from popid.core.codes import RELIGIONS, is_country_code, is_ethnic_group
from popid.core.id_numbers import FIRST_CENTURY, ID_NUMBER_RE, OLD_ID_RE, is_known_place_code
from popid.core.text import clean_display_name
from popid.registry.models import DatePrecision, HouseholdRelationship, MaritalStatus, PersonStatus

PERSON_FIELDS: tuple[str, ...] = (
    "id", "id_number", "full_name", "name_norm", "birth_date", "birth_year", "birth_date_precision",
    "sex", "birth_place", "birth_registration_commune_code", "birth_registration_province_code",
    "hometown", "ethnicity_code", "religion_code", "nationality", "status", "died_on",
    "commune_code", "province_code",
    "blood_type", "old_id_number", "absence_status", "absence_until", "residence_file_number",
    "marital_status", "missing_since", "phone", "email", "other_info",
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
    # the further fields of Art. 9 (defaults: a record that leaves them empty, as most do)
    blood_type: str = ""
    old_id_number: str = ""
    absence_status: str = ""
    absence_until: date | None = None
    residence_file_number: str = ""
    marital_status: str = ""
    missing_since: date | None = None
    phone: str = ""
    email: str = ""
    other_info: Any = None


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
        *check_formats(row),
        *check_birth_date(row),
        *check_id_place(row),
        *check_person_units(row),
        *check_life_dates(row, today),
        *check_marriage_age(row, today),
    ]



# --- the legal format of each field (issue #13 item 9) ------------------------------------------
# Vietnamese is written in Latin letters with these combining marks: the five tones (grave, acute,
# tilde, hook above, dot below) and the vowel marks of ă â ê ô ơ ư (breve, circumflex, horn); đ is
# its own letter. Names of some ethnic groups keep an apostrophe inside a word ("H'Hen Niê").
VIETNAMESE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
VOWELS = frozenset("aeiouyAEIOUY")
APOSTROPHES = frozenset("'’")  # "H'Hen Niê", "Cư M’gar"
NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 100
# Mobile numbers since the 2018 switch to 10 digits (Ministry of Information and Communications
# plan, Circular 22/2014 numbering): 03[2-9], 05[2 5 6 8 9], 07[0 6-9], 08[1-9], 09x; fixed lines
# are 0 + a 2xx area code, 11 digits in all since 2017.
MOBILE_RE = re.compile(r"^0(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}$")
FIXED_LINE_RE = re.compile(r"^02\d{9}$")
# Places, addresses and notes: letters and marks of any script (births abroad), digits, spaces
# and the punctuation addresses use. Anything else (control characters, "»", "…" from a broken
# encoding, "@", "?") is a transcription or conversion error.
TEXT_PUNCTUATION = frozenset(",.-/()'’:;&#+–\u00a0")
BLOOD_TYPE_RE = re.compile(r"^(?:AB|A|B|O)[+-]?$")  # core.codes.BLOOD_TYPES, with the Rh factor if known
SEX_CODES = frozenset({"M", "F"})
MARITAL_CODES = frozenset(MaritalStatus.values)
PRECISION_CODES = frozenset(DatePrecision.values)
STATUS_CODES = frozenset(PersonStatus.values)
RELATIONSHIP_CODES = frozenset(HouseholdRelationship.values)
EVER_MARRIED = frozenset({MaritalStatus.MARRIED, MaritalStatus.DIVORCED, MaritalStatus.WIDOWED})
# Law on Marriage and Family 2014 Art. 8: men from 20, women from 18.
MARRIAGE_AGE = {"M": 20, "F": 18}
# Law on Identification 2023 Art. 21: the card is renewed at 14, 25, 40 and 60; one issued within
# two years before an age stays valid until the next one; from 58 it does not expire.
CARD_MILESTONES = (14, 25, 40, 60)
# Law on Residence 2020 Art. 27: a temporary residence is registered for at most two years.
TEMPORARY_RESIDENCE_YEARS = 2


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@lru_cache(maxsize=200_000)  # names repeat: the run checks each distinct one once
def name_problem(value: str) -> str | None:
    """None for a well-formed name, else what is wrong with it (in Vietnamese)."""
    text = value.strip()
    if not NAME_MIN_LENGTH <= len(text) <= NAME_MAX_LENGTH:
        return f"dài {len(text)} ký tự (cho phép {NAME_MIN_LENGTH}–{NAME_MAX_LENGTH})"
    decomposed = unicodedata.normalize("NFD", text)
    bad: list[str] = []
    base = ""  # the letter the following combining marks sit on
    for index, char in enumerate(decomposed):
        if char in VIETNAMESE_MARKS:
            if base not in VOWELS:
                bad.append(unicodedata.normalize("NFC", base + char) if base else repr(char))
            continue
        base = char
        if char == " " or char in "đĐ" or ("a" <= char.lower() <= "z"):
            continue
        if char in APOSTROPHES and 0 < index < len(decomposed) - 1 and decomposed[index - 1].isalpha() \
                and decomposed[index + 1].isalpha():
            continue
        bad.append(char)
    if bad:
        shown = ", ".join(f"'{c}'" for c in dict.fromkeys(bad))
        return f"có ký tự không phải chữ cái tiếng Việt: {shown}"
    return None


def phone_problem(value: str) -> str | None:
    """None for a Vietnamese mobile (or fixed-line) number written 0xxxxxxxxx, else why not."""
    if MOBILE_RE.match(value) or FIXED_LINE_RE.match(value):
        return None
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("+84"):
        compact = "0" + compact[3:]
    elif compact.startswith("84") and len(compact) == 11:
        compact = "0" + compact[2:]
    if MOBILE_RE.match(compact) or FIXED_LINE_RE.match(compact):
        return f"'{value}' phải ghi là '{compact}'"
    if re.fullmatch(r"01\d{9}", compact):
        return f"'{value}' là đầu số 11 chữ số cũ (đã chuyển sang 10 chữ số từ 2018)"
    return f"'{value}' không phải số di động (10 chữ số, đầu 03, 05, 07, 08, 09) hay số cố định (02x)"


def email_problem(value: str) -> str | None:
    try:
        validate_email(value)
    except ValidationError:
        return f"'{value}' không phải địa chỉ thư điện tử hợp lệ"
    return None


TEXT_OK = re.compile(r"(?:[^\W_]|[ ,./()'’:;&#+\u2013\u00a0-])*")  # the common case, without a Python loop


def text_problem(value: str) -> str | None:
    """None for text a place, address or note may hold, else the offending characters."""
    if TEXT_OK.fullmatch(value):
        return None
    bad = [c for c in value if not (c.isalnum() or c == " " or unicodedata.category(c).startswith("M")
                                    or c in TEXT_PUNCTUATION)]
    if bad:
        return "có ký tự không hợp lệ: " + ", ".join(repr(c) for c in dict.fromkeys(bad))
    return None


def check_formats(row: PersonRow) -> list[Finding]:
    """Names, codes, numbers and free text of one record, each against its legal format."""
    found: list[Finding] = []
    if row.full_name and (problem := name_problem(row.full_name)):
        found.append(("invalid_name", f"Họ tên '{row.full_name}' {problem}"))
    if row.nationality and not is_country_code(row.nationality):
        found.append(("unknown_nationality_code", f"Quốc tịch '{row.nationality}' không phải mã ISO 3166-1"))
    coded = [("giới tính", row.sex, SEX_CODES), ("tình trạng hôn nhân", row.marital_status, MARITAL_CODES),
             ("mức chính xác ngày sinh", row.birth_date_precision, PRECISION_CODES),
             ("trạng thái", row.status, STATUS_CODES)]
    wrong = [f"{label} '{value}'" for label, value, allowed in coded if value and value not in allowed]
    if row.blood_type and not BLOOD_TYPE_RE.match(row.blood_type):
        wrong.append(f"nhóm máu '{row.blood_type}'")
    if wrong:
        found.append(("invalid_coded_value", "Không thuộc danh mục: " + ", ".join(wrong)))
    if row.old_id_number and not OLD_ID_RE.match(row.old_id_number):
        found.append(("invalid_old_id_number", f"Số CMND '{row.old_id_number}' không gồm đúng 9 chữ số"))
    if row.phone and (problem := phone_problem(row.phone)):
        found.append(("invalid_phone", problem))
    if row.email and (problem := email_problem(row.email)):
        found.append(("invalid_email", problem))
    texts = [("nơi sinh", row.birth_place), ("quê quán", row.hometown), ("tạm vắng", row.absence_status),
             ("số hồ sơ cư trú", row.residence_file_number)]
    bad_text = [f"{label} {problem}" for label, value in texts if value and (problem := text_problem(value))]
    if row.other_info is not None and not isinstance(row.other_info, dict):
        bad_text.append("thông tin khác không phải đối tượng JSON")
    if bad_text:
        found.append(("invalid_text", "; ".join(bad_text)))
    return found


def check_birth_date(row: PersonRow) -> list[Finding]:
    """Date, year and precision are three views of one fact: they must agree."""
    if row.birth_date is None:
        return []
    problems = []
    if row.birth_year and row.birth_year != row.birth_date.year:
        problems.append(f"năm sinh {row.birth_year} khác ngày sinh {row.birth_date.isoformat()}")
    if row.birth_date_precision == DatePrecision.YEAR and (row.birth_date.month, row.birth_date.day) != (1, 1):
        problems.append(f"chỉ biết năm sinh nhưng ghi ngày {row.birth_date.isoformat()}")
    if row.birth_date_precision == DatePrecision.MONTH and row.birth_date.day != 1:
        problems.append(f"chỉ biết tháng sinh nhưng ghi ngày {row.birth_date.isoformat()}")
    return [("birth_date_inconsistent", "; ".join(problems))] if problems else []


def id_place_matches(place: str, province_code: str) -> bool:
    """Is ``place`` (the ID number's first three digits) the birth registration province? The
    number keeps the pre-2025 province; the registry records the province as coded then or as
    merged in 2025 (Resolution 202/2025/QH15), so both are right."""
    return province_code == place[1:] or current_province_for_legacy(place) == province_code


def check_id_place(row: PersonRow) -> list[Finding]:
    """The PPP digits name the province where the birth was registered (Decree 137/2015 Art. 13)."""
    value = row.id_number or ""
    if not ID_NUMBER_RE.match(value) or not row.birth_registration_province_code:
        return []
    place = value[:3]
    if int(place) >= 100 or not is_known_place_code(place):  # abroad, or already id_unknown_place
        return []
    if id_place_matches(place, row.birth_registration_province_code):
        return []
    return [("id_place_mismatch", f"Mã {place} trong số định danh, nơi đăng ký khai sinh thuộc tỉnh "
                                  f"{row.birth_registration_province_code}")]


def unit_pair_problem(commune_code: str, province_code: str) -> str | None:
    """A commune in force must lie in the province recorded beside it (its 2025 province, or a
    pre-2025 province merged into it)."""
    if not commune_code or not province_code or not is_active_commune(commune_code):
        return None
    actual = province_of_commune(commune_code)
    if actual == province_code or current_province_for_legacy(f"0{province_code}") == actual:
        return None
    return f"xã {commune_code} thuộc tỉnh {actual}, ghi tỉnh {province_code}"


def check_person_units(row: PersonRow) -> list[Finding]:
    problems = [f"{label}: {problem}" for label, commune, province in (
        ("nơi đăng ký khai sinh", row.birth_registration_commune_code, row.birth_registration_province_code),
        ("đơn vị quản lý", row.commune_code, row.province_code),
    ) if (problem := unit_pair_problem(commune, province))]
    return [("commune_province_mismatch", "; ".join(problems))] if problems else []


def check_life_dates(row: PersonRow, today: date) -> list[Finding]:
    """Death and disappearance: not in the future, not before birth, and the status agrees."""
    found: list[Finding] = []
    future = [f"{label} {day.isoformat()}" for label, day in (("ngày chết", row.died_on),
                                                             ("ngày mất tích", row.missing_since))
              if day is not None and day > today]
    if future:
        found.append(("future_date", "Sau ngày hôm nay: " + ", ".join(future)))
    if row.missing_since is not None and row.birth_date is not None and row.missing_since < row.birth_date:
        found.append(("dates_out_of_order",
                      f"Mất tích từ {row.missing_since.isoformat()}, trước ngày sinh {row.birth_date.isoformat()}"))
    status = []
    if row.status == PersonStatus.DECEASED and row.died_on is None:
        status.append("đã chết nhưng không có ngày chết")
    if row.status == PersonStatus.ALIVE and row.died_on is not None:
        status.append(f"còn sống nhưng có ngày chết {row.died_on.isoformat()}")
    if row.status == PersonStatus.MISSING and row.missing_since is None:
        status.append("mất tích nhưng không có ngày mất tích")
    if row.status == PersonStatus.ALIVE and row.missing_since is not None:
        status.append(f"còn sống nhưng ghi mất tích từ {row.missing_since.isoformat()}")
    if status:
        found.append(("life_status_inconsistent", "; ".join(status)))
    if row.absence_status and row.absence_until is not None and row.absence_until < today:
        found.append(("expired_absence", f"Tạm vắng đến {row.absence_until.isoformat()}, chưa xóa"))
    return found


def check_marriage_age(row: PersonRow, today: date) -> list[Finding]:
    """Someone married, divorced or widowed who is still below the marriage age today married
    below it."""
    limit = MARRIAGE_AGE.get(row.sex)
    if limit is None or row.marital_status not in EVER_MARRIED:
        return []
    age = age_on(row.birth_date, row.birth_year, today)
    if age is None or age < 0 or age >= limit:  # born in the future: future_birth_date says so
        return []
    return [("underage_marriage", f"{age} tuổi, tình trạng hôn nhân '{row.marital_status}' (tuổi kết hôn: {limit})")]


# --- related records: cards (14), relatives (15), residences (16-18), other names (2) ------------
class CardRow(NamedTuple):
    card_number: str
    issued_on: date
    valid_until: date | None
    is_active: bool


def card_expiry(birth_date: date, issued_on: date) -> date | None:
    """The legal end of validity of a card issued on ``issued_on`` (None: does not expire)."""
    renew_from = add_years(issued_on, 2)
    for age in CARD_MILESTONES:
        milestone = add_years(birth_date, age)
        if milestone > renew_from:
            return milestone
    return None


def check_card(card: CardRow, *, id_number: str, birth_date: date | None, precise_birth: bool,
               died_on: date | None, today: date) -> list[Finding]:
    found: list[Finding] = []
    if card.is_active and card.card_number != id_number:
        found.append(("card_number_mismatch", f"Thẻ số {card.card_number}, số định danh {id_number}"))
    if card.issued_on > today:
        found.append(("future_date", f"Thẻ cấp ngày {card.issued_on.isoformat()}, sau ngày hôm nay"))
    order = []
    if birth_date is not None and card.issued_on < birth_date:
        order.append(f"thẻ cấp ngày {card.issued_on.isoformat()} trước ngày sinh {birth_date.isoformat()}")
    if card.valid_until is not None and card.valid_until <= card.issued_on:
        order.append(f"thẻ hết hạn {card.valid_until.isoformat()} không sau ngày cấp {card.issued_on.isoformat()}")
    if died_on is not None and card.issued_on > died_on:
        order.append(f"thẻ cấp ngày {card.issued_on.isoformat()} sau ngày chết {died_on.isoformat()}")
    if order:
        found.append(("dates_out_of_order", "; ".join(order)))
    elif birth_date is not None and precise_birth:
        expected = card_expiry(birth_date, card.issued_on)
        if expected != card.valid_until:
            shown = expected.isoformat() if expected else "không thời hạn"
            recorded = card.valid_until.isoformat() if card.valid_until else "không thời hạn"
            found.append(("card_expiry_mismatch", f"Thẻ cấp ngày {card.issued_on.isoformat()} có hạn {recorded}, "
                                                   f"theo luật: {shown}"))
    return found


class RelationRow(NamedTuple):
    kind: str
    relative_name: str
    relative_id_number: str
    relative_nationality: str
    linked_id_number: str | None  # the number of the relative's own record, when linked


RELATION_LABELS = {"father": "cha", "mother": "mẹ", "spouse": "vợ/chồng", "child": "con",
                   "guardian": "người đại diện", "ward": "người được đại diện"}


def check_relation(relation: RelationRow) -> list[Finding]:
    label = RELATION_LABELS.get(relation.kind, relation.kind)
    found: list[Finding] = []
    if relation.relative_name and (problem := name_problem(relation.relative_name)):
        found.append(("invalid_name", f"Tên {label} '{relation.relative_name}' {problem}"))
    number = relation.relative_id_number
    if number and not (ID_NUMBER_RE.match(number) and is_known_place_code(number[:3])):
        found.append(("relative_id_invalid", f"Số định danh của {label} '{number}' sai định dạng"))
    elif number and relation.linked_id_number and number != relation.linked_id_number:
        found.append(("relative_id_invalid",
                      f"Số định danh của {label} ghi '{number}', hồ sơ của người đó: {relation.linked_id_number}"))
    if relation.relative_nationality and not is_country_code(relation.relative_nationality):
        found.append(("unknown_nationality_code",
                      f"Quốc tịch của {label} '{relation.relative_nationality}' không phải mã ISO 3166-1"))
    return found


class ResidenceRow(NamedTuple):
    kind: str
    address: str
    commune_code: str
    province_code: str
    valid_from: date
    valid_until: date | None
    ended_on: date | None


RESIDENCE_KIND_LABELS = {"permanent": "thường trú", "temporary": "tạm trú", "current": "nơi ở hiện tại"}


def check_residence(residence: ResidenceRow, *, birth_date: date | None, today: date) -> list[Finding]:
    label = RESIDENCE_KIND_LABELS.get(residence.kind, residence.kind)
    found: list[Finding] = []
    if residence.address and (problem := text_problem(residence.address)):
        found.append(("invalid_text", f"Địa chỉ {label} {problem}"))
    if problem := unit_pair_problem(residence.commune_code, residence.province_code):
        found.append(("commune_province_mismatch", f"{label}: {problem}"))
    if residence.valid_from > today:
        found.append(("future_date", f"{label.capitalize()} từ {residence.valid_from.isoformat()}, sau ngày hôm nay"))
    order = []
    if birth_date is not None and residence.valid_from < birth_date:
        order.append(f"{label} từ {residence.valid_from.isoformat()}, trước ngày sinh {birth_date.isoformat()}")
    if residence.ended_on is not None and residence.ended_on < residence.valid_from:
        order.append(f"{label} kết thúc {residence.ended_on.isoformat()} trước khi bắt đầu")
    if residence.valid_until is not None and residence.valid_until < residence.valid_from:
        order.append(f"{label} hết hạn {residence.valid_until.isoformat()} trước khi bắt đầu")
    if residence.kind == "temporary" and residence.valid_until is not None and \
            residence.valid_until > add_years(residence.valid_from, TEMPORARY_RESIDENCE_YEARS):
        order.append(f"tạm trú {residence.valid_from.isoformat()}–{residence.valid_until.isoformat()} quá 2 năm")
    if order:
        found.append(("dates_out_of_order", "; ".join(order)))
    if residence.kind == "temporary" and residence.ended_on is None and residence.valid_until is not None \
            and residence.valid_until < today:
        found.append(("expired_temporary_residence",
                      f"Tạm trú tại {residence.commune_code} hết hạn {residence.valid_until.isoformat()}, chưa xóa"))
    return found


def check_other_name(name: str) -> list[Finding]:
    problem = name_problem(name) if name else None
    return [("invalid_name", f"Tên gọi khác '{name}' {problem}")] if problem else []


def check_relationship(code: str) -> list[Finding]:
    if code in RELATIONSHIP_CODES:
        return []
    return [("invalid_coded_value", f"Không thuộc danh mục: quan hệ với chủ hộ '{code}'")]
