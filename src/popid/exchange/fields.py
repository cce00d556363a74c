"""What an agency may receive or verify about a person: one catalogue of shareable fields.

Grants, consents and the API name fields from this catalogue only. ``sensitive`` follows Decree
13/2023 (religion, ethnicity, health = blood type) and DOMAIN.md §3 (contact data): such a field is
released, or verified, only with the citizen's consent, whatever the grant says.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from popid.core import admin_units, codes
from popid.registry.models import DatePrecision, IdentityCard, Person, Residence, ResidenceKind


@dataclass(frozen=True)
class ShareableField:
    name: str
    label: Any
    sensitive: bool = False
    verifiable: bool = False  # may be an eKYC attribute (yes/no answer)


FIELDS: dict[str, ShareableField] = {f.name: f for f in [
    ShareableField("full_name", _("Họ, chữ đệm và tên khai sinh"), verifiable=True),
    ShareableField("birth_date", _("Ngày, tháng, năm sinh"), verifiable=True),
    ShareableField("sex", _("Giới tính"), verifiable=True),
    ShareableField("nationality", _("Quốc tịch"), verifiable=True),
    ShareableField("birth_place", _("Nơi sinh"), verifiable=True),
    ShareableField("hometown", _("Quê quán"), verifiable=True),
    ShareableField("old_id_number", _("Số chứng minh nhân dân cũ"), verifiable=True),
    ShareableField("id_card", _("Thẻ căn cước (số, ngày cấp, thời hạn)"), verifiable=True),
    ShareableField("permanent_address", _("Nơi thường trú")),
    ShareableField("current_address", _("Nơi ở hiện tại")),
    ShareableField("marital_status", _("Tình trạng hôn nhân")),
    ShareableField("life_status", _("Tình trạng còn sống / đã chết")),
    ShareableField("ethnicity", _("Dân tộc"), sensitive=True, verifiable=True),
    ShareableField("religion", _("Tôn giáo"), sensitive=True, verifiable=True),
    ShareableField("blood_type", _("Nhóm máu"), sensitive=True, verifiable=True),
    ShareableField("phone", _("Số điện thoại"), sensitive=True, verifiable=True),
    ShareableField("email", _("Thư điện tử"), sensitive=True, verifiable=True),
]}
SENSITIVE = frozenset(name for name, f in FIELDS.items() if f.sensitive)
VERIFIABLE = frozenset(name for name, f in FIELDS.items() if f.verifiable)


def unknown(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n not in FIELDS)


def sensitive_among(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n in SENSITIVE)


def labels(names: Iterable[str]) -> list[str]:
    return [str(FIELDS[n].label) if n in FIELDS else n for n in names]


# --- release ------------------------------------------------------------------------------
def _birth_date(person: Person) -> str | None:
    if person.birth_date is None:
        return str(person.birth_year) if person.birth_year else None
    if person.birth_date_precision == DatePrecision.YEAR:
        return f"{person.birth_date:%Y}"
    if person.birth_date_precision == DatePrecision.MONTH:
        return f"{person.birth_date:%Y-%m}"
    return person.birth_date.isoformat()


def _residence(person: Person, kinds: tuple[str, ...]) -> dict[str, Any] | None:
    rows = {r.kind: r for r in Residence.objects.filter(person=person, kind__in=kinds, ended_on__isnull=True)}
    row = next((rows[k] for k in kinds if k in rows), None)
    if row is None:
        return None
    return {"address": row.address, "commune_code": row.commune_code,
            "commune": admin_units.commune_label(row.commune_code)}


def _card(person: Person) -> dict[str, Any] | None:
    card = IdentityCard.objects.filter(person=person, is_active=True).order_by("-issued_on").first()
    if card is None:
        return None
    return {"number": card.card_number, "issued_on": card.issued_on.isoformat(),
            "valid_until": card.valid_until.isoformat() if card.valid_until else None}


def _value(person: Person, name: str) -> Any:
    if name == "full_name":
        return person.full_name
    if name == "birth_date":
        return _birth_date(person)
    if name == "id_card":
        return _card(person)
    if name == "permanent_address":
        return _residence(person, (ResidenceKind.PERMANENT,))
    if name == "current_address":
        return _residence(person, (ResidenceKind.CURRENT, ResidenceKind.TEMPORARY, ResidenceKind.PERMANENT))
    if name == "life_status":
        return {"status": person.status, "died_on": person.died_on.isoformat() if person.died_on else None}
    if name == "ethnicity":
        return {"code": person.ethnicity_code, "name": codes.ethnic_group_name(person.ethnicity_code)} \
            if person.ethnicity_code else None
    if name == "religion":
        return {"code": person.religion_code, "name": codes.religion_name(person.religion_code)} \
            if person.religion_code else None
    if name == "marital_status":
        return person.marital_status or None
    value = getattr(person, name)
    return value if value not in ("", None) else None


def release(person: Person, names: Iterable[str]) -> dict[str, Any]:
    """The person's values for exactly these catalogue fields (``None`` where the registry is empty)."""
    return {name: _value(person, name) for name in sorted(set(names)) if name in FIELDS}


# --- eKYC comparison -------------------------------------------------------------------------
def canonical(value: str) -> str:
    """NFC, case-folded, single spaces: "NGUYỄN  VĂN AN" equals "Nguyễn Văn An", but "Nguyen Van
    An" does not (diacritics distinguish Vietnamese names: Lê ≠ Lệ)."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def _date_matches(person: Person, given: str) -> bool:
    """Compared at the registry's precision: a record that knows only the year confirms the year
    only when the caller also gives only the year, so a full date is never 'confirmed' by a
    record that cannot know it."""
    stored = _birth_date(person)
    if stored is None:
        return False
    try:
        if len(given) == 10:
            date.fromisoformat(given)
    except ValueError:
        return False
    return given == stored


def matches(person: Person, name: str, given: Any) -> bool:
    """Does ``given`` equal the registry's value of field ``name``? Only a yes/no leaves."""
    if given is None:
        return False
    given_text = str(given)
    if name == "birth_date":
        return _date_matches(person, given_text.strip())
    if name == "id_card":
        card = _card(person)
        return card is not None and card["number"] == given_text.strip()
    if name in {"ethnicity", "religion"}:
        code = person.ethnicity_code if name == "ethnicity" else person.religion_code
        label = codes.ethnic_group_name(code) if name == "ethnicity" else codes.religion_name(code)
        return bool(code) and (given_text.strip() == code or canonical(given_text) == canonical(label))
    if name == "phone":
        digits = "".join(ch for ch in given_text if ch.isdigit())
        stored = "".join(ch for ch in person.phone if ch.isdigit())
        if digits.startswith("84"):
            digits = "0" + digits[2:]
        return bool(stored) and digits == stored
    stored_value = _value(person, name)
    if stored_value is None:
        return False
    return canonical(given_text) == canonical(str(stored_value))
