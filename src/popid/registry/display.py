"""How registry values read on screen: Vietnamese field labels (translated through gettext),
codes shown by name, history before/after as rows. Pure functions so templates stay simple."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import Actor
from popid.core.codes import NATIONALITIES, ethnic_group_name, religion_name
from popid.core.models import ScopeLevel
from popid.registry.models import (
    DatePrecision,
    HistoryEntry,
    HouseholdRelationship,
    MaritalStatus,
    Person,
    PersonStatus,
    Sex,
)

FIELD_LABELS: dict[str, Any] = {
    "id_number": gettext_lazy("Số định danh cá nhân"),
    "full_name": gettext_lazy("Họ, chữ đệm và tên khai sinh"),
    "other_names": gettext_lazy("Tên gọi khác"),
    "birth_date": gettext_lazy("Ngày, tháng, năm sinh"),
    "birth_year": gettext_lazy("Năm sinh"),
    "birth_date_precision": gettext_lazy("Độ chính xác ngày sinh"),
    "sex": gettext_lazy("Giới tính"),
    "birth_place": gettext_lazy("Nơi sinh"),
    "birth_registration_commune_code": gettext_lazy("Nơi đăng ký khai sinh"),
    "birth_registration_province_code": gettext_lazy("Tỉnh đăng ký khai sinh"),
    "hometown": gettext_lazy("Quê quán"),
    "ethnicity_code": gettext_lazy("Dân tộc"),
    "religion_code": gettext_lazy("Tôn giáo"),
    "nationality": gettext_lazy("Quốc tịch"),
    "blood_type": gettext_lazy("Nhóm máu"),
    "old_id_number": gettext_lazy("Số Chứng minh nhân dân cũ"),
    "absence_status": gettext_lazy("Khai báo tạm vắng"),
    "absence_until": gettext_lazy("Tạm vắng đến ngày"),
    "residence_file_number": gettext_lazy("Số hồ sơ cư trú"),
    "marital_status": gettext_lazy("Tình trạng hôn nhân"),
    "status": gettext_lazy("Trạng thái"),
    "died_on": gettext_lazy("Ngày chết"),
    "missing_since": gettext_lazy("Mất tích từ ngày"),
    "phone": gettext_lazy("Số điện thoại"),
    "email": gettext_lazy("Thư điện tử"),
    "commune_code": gettext_lazy("Xã/phường quản lý"),
    "province_code": gettext_lazy("Tỉnh/thành phố quản lý"),
    "permanent_residence": gettext_lazy("Nơi thường trú"),
    # the names public-service forms pre-fill from (services/selectors.py), as the access history shows them
    "permanent_address": gettext_lazy("Nơi thường trú"),
    "permanent_commune_code": gettext_lazy("Xã/phường thường trú"),
    "household_code": gettext_lazy("Mã hộ gia đình"),
    "temporary_residence": gettext_lazy("Nơi tạm trú"),
    "current_residence": gettext_lazy("Nơi ở hiện tại"),
    "household": gettext_lazy("Hộ gia đình"),
    "relationship": gettext_lazy("Quan hệ với chủ hộ"),
    "spouse": gettext_lazy("Vợ/chồng"),
    "valid_until": gettext_lazy("Có giá trị đến"),
}

COMMAND_LABELS: dict[str, Any] = {
    "register_birth": gettext_lazy("Đăng ký khai sinh"),
    "record_death": gettext_lazy("Đăng ký khai tử"),
    "register_permanent_residence": gettext_lazy("Đăng ký thường trú"),
    "register_temporary_residence": gettext_lazy("Đăng ký tạm trú"),
    "change_current_residence": gettext_lazy("Cập nhật nơi ở hiện tại"),
    "split_household": gettext_lazy("Tách hộ"),
    "record_marriage": gettext_lazy("Đăng ký kết hôn"),
    "correct_person": gettext_lazy("Điều chỉnh thông tin"),
    "reissue_id_number": gettext_lazy("Hủy và cấp lại số định danh"),
    "declare_absence": gettext_lazy("Khai báo tạm vắng"),
    "import": gettext_lazy("Nhập dữ liệu ban đầu"),
}

PRINCIPLE_LABELS: dict[str, Any] = {
    "dung": gettext_lazy("Đúng"), "du": gettext_lazy("Đủ"), "sach": gettext_lazy("Sạch"), "song": gettext_lazy("Sống"),
}

PERSON_FIELD_ORDER = [
    "full_name", "id_number", "birth_date", "sex", "birth_place", "birth_registration_commune_code", "hometown",
    "ethnicity_code", "religion_code", "nationality", "blood_type", "old_id_number", "marital_status", "status",
    "died_on", "missing_since", "absence_status", "absence_until", "residence_file_number", "phone", "email",
    "commune_code",
]
CODE_FIELDS = {"ethnicity_code", "religion_code", "nationality", "sex", "marital_status", "status",
               "birth_registration_commune_code", "commune_code", "province_code",
               "birth_registration_province_code", "birth_date_precision", "relationship"}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _choice_label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def value_label(name: str, value: Any) -> str:
    """A stored value as an officer reads it: codes by name (with the code), dates dd/mm/yyyy."""
    if value in (None, ""):
        return "—"
    text = str(value)
    if name == "ethnicity_code":
        return f"{ethnic_group_name(text)} ({text})"
    if name == "religion_code":
        return f"{religion_name(text)} ({text})"
    if name == "nationality":
        return f"{NATIONALITIES.get(text, text)} ({text})"
    if name == "sex":
        return _choice_label(Sex, text)
    if name == "marital_status":
        return _choice_label(MaritalStatus, text)
    if name == "status":
        return _choice_label(PersonStatus, text)
    if name == "birth_date_precision":
        return _choice_label(DatePrecision, text)
    if name == "relationship":
        return _choice_label(HouseholdRelationship, text)
    if name in {"birth_registration_commune_code", "commune_code"}:
        return f"{admin_units.commune_label(text)} ({text})"
    if name in {"province_code", "birth_registration_province_code"}:
        unit = admin_units.province(text)
        return f"{unit.name} ({text})" if unit else text
    if hasattr(value, "strftime"):
        return str(value.strftime("%d/%m/%Y"))
    if name in {"birth_date", "died_on", "missing_since", "absence_until", "valid_until"} and len(text) == 10:
        year, month, day = text.split("-")
        return f"{day}/{month}/{year}"
    return text


def birth_date_label(person: Person) -> str:
    """Old records may know only the year of birth: show what is known, no invented day."""
    if person.birth_date is None or person.birth_date_precision == DatePrecision.YEAR:
        return str(person.birth_year)
    if person.birth_date_precision == DatePrecision.MONTH:
        return person.birth_date.strftime("%m/%Y")
    return person.birth_date.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    value: str


def person_fields(person: Person) -> list[FieldRow]:
    rows = []
    for name in PERSON_FIELD_ORDER:
        value = getattr(person, name)
        if name in {"died_on", "missing_since", "absence_status", "absence_until"} and not value:
            continue
        shown = birth_date_label(person) if name == "birth_date" else value_label(name, value)
        rows.append(FieldRow(name, field_label(name), shown))
    return rows


def correctable_values(person: Person) -> dict[str, Any]:
    """The current values the correction form starts from (and diffs against)."""
    return {
        "full_name": person.full_name, "birth_date": person.birth_date, "birth_place": person.birth_place,
        "hometown": person.hometown, "ethnicity_code": person.ethnicity_code, "religion_code": person.religion_code,
        "nationality": person.nationality, "blood_type": person.blood_type, "old_id_number": person.old_id_number,
        "marital_status": person.marital_status, "phone": person.phone, "email": person.email,
    }


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryRow:
    entry: HistoryEntry
    command: str
    changes: list[Change]


def history_row(entry: HistoryEntry) -> HistoryRow:
    """A history entry with its before/after as labelled pairs (only changed keys; a
    registration's 'after' lists what was recorded)."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*after, *before]))
    if entry.command == "register_birth":
        keys = [k for k in keys if k in {"full_name", "id_number", "birth_date", "sex", "commune_code"}]
    changes = [
        Change(field_label(k), value_label(k, before.get(k)), value_label(k, after.get(k)))
        for k in keys if before.get(k) != after.get(k)
    ]
    return HistoryRow(entry, str(COMMAND_LABELS.get(entry.command, entry.command)), changes)


def jurisdiction_label(actor: Actor) -> str:
    if actor.level == ScopeLevel.NATION:
        return _("Toàn quốc")
    if actor.level == ScopeLevel.PROVINCE:
        unit = admin_units.province(actor.unit_code)
        return unit.name if unit else actor.unit_code
    return admin_units.commune_label(actor.unit_code)


# --- quality -------------------------------------------------------------------------------------
def principle_label(code: str) -> str:
    return str(PRINCIPLE_LABELS.get(code, code))


SEVERITY_LABELS: dict[str, Any] = {
    "low": gettext_lazy("Thấp"), "medium": gettext_lazy("Trung bình"), "high": gettext_lazy("Cao"),
    "critical": gettext_lazy("Nghiêm trọng"),
}


def severity_label(code: str) -> str:
    return str(SEVERITY_LABELS.get(code, code))


def principle_choices() -> list[tuple[str, str]]:
    return [(code, principle_label(code)) for code in PRINCIPLE_LABELS]


def kind_title(code: str) -> str:
    """Finding kinds carry their own Vietnamese and English titles in the shared vocabulary."""
    from popid.registry.quality.kinds import KINDS

    spec = KINDS.get(code)
    if spec is None:
        return code
    return spec.title_en if (get_language() or "vi").startswith("en") else spec.title_vi


def kind_choices() -> list[tuple[str, str]]:
    from popid.registry.quality.kinds import KINDS

    return [(code, kind_title(code)) for code in KINDS]


def principle_totals(by_kind: list[dict[str, Any]]) -> list[tuple[str, int]]:
    totals = dict.fromkeys(PRINCIPLE_LABELS, 0)
    for row in by_kind:
        totals[row["principle"]] = totals.get(row["principle"], 0) + row["count"]
    return list(totals.items())


TIER_CLASSES = {"meets_standard": "tier-good", "needs_fixing": "tier-fix", "rebuild": "tier-rebuild",
                "too_few_records": "tier-few"}


@dataclass(frozen=True)
class ScoreRow:
    unit_code: str
    unit_name: str
    persons: int
    persons_with_findings: int
    findings: int
    score: float
    tier: str
    tier_label: str
    tier_class: str


def unit_name(level: str, code: str) -> str:
    if level == "province":
        unit = admin_units.province(code)
    elif level == "commune":
        unit = admin_units.commune(code)
    else:
        return _("Toàn quốc")
    return unit.name if unit else code


def tier_label(code: str) -> str:
    from popid.registry.quality.models import Tier

    return str(Tier(code).label) if code in Tier.values else code


def score_row(row: Any) -> ScoreRow:
    return ScoreRow(
        unit_code=row.unit_code, unit_name=unit_name(row.level, row.unit_code), persons=row.persons,
        persons_with_findings=row.persons_with_findings, findings=row.findings, score=row.score, tier=row.tier,
        tier_label=tier_label(row.tier), tier_class=TIER_CLASSES.get(row.tier, "tier-fix"),
    )
