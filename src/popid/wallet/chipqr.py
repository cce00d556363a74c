"""The front-of-card QR code of the chip ID card (Circular 06/2021 model, DOMAIN.md §8):
``ID12|CMND9|Full name|DDMMYYYY|Nam/Nữ|Permanent residence|DDMMYYYY``. The old ID may be empty and
some cards carry more fields, so fields are read by position and extra ones ignored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from popid.core.errors import ValidationFailed

MAX_LENGTH = 600
ID_RE = re.compile(r"^\d{12}$")
CMND_RE = re.compile(r"^\d{9}$|^$")
DATE_RE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")


@dataclass(frozen=True)
class ChipCardQr:
    id_number: str
    old_id_number: str
    full_name: str
    birth_date: date
    sex: str  # "M" / "F"
    permanent_address: str
    issued_on: date


def _date(text: str, field: str) -> date:
    match = DATE_RE.match(text)
    try:
        if match is None:
            raise ValueError
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError as exc:
        raise ValidationFailed([{"field": field, "reason": "format",
                                 "message": _("Ngày phải có dạng NNTTNNNN (ví dụ 12051990)")}]) from exc


def parse_chip_qr(text: str) -> ChipCardQr:
    text = (text or "").strip()
    if not text or len(text) > MAX_LENGTH or "\n" in text:
        raise ValidationFailed([{"field": "qr", "reason": "format", "message": _("Mã QR thẻ căn cước không hợp lệ")}])
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 7:
        raise ValidationFailed([{"field": "qr", "reason": "format",
                                 "message": _("Mã QR thẻ căn cước cần ít nhất 7 trường ngăn cách bởi |")}])
    id_number, cmnd, name, birth, sex, address, issued = parts[:7]
    errors = []
    if not ID_RE.match(id_number):
        errors.append({"field": "id_number", "reason": "format",
                       "message": _("Số định danh cá nhân gồm đúng 12 chữ số")})
    if not CMND_RE.match(cmnd):
        errors.append({"field": "old_id_number", "reason": "format",
                       "message": _("Số CMND cũ gồm 9 chữ số hoặc để trống")})
    if sex not in {"Nam", "Nữ"}:
        errors.append({"field": "sex", "reason": "format", "message": _("Giới tính phải là Nam hoặc Nữ")})
    if not name:
        errors.append({"field": "full_name", "reason": "required", "message": _("Thiếu họ và tên")})
    if errors:
        raise ValidationFailed(errors)
    return ChipCardQr(id_number=id_number, old_id_number=cmnd, full_name=name, birth_date=_date(birth, "birth_date"),
                      sex="M" if sex == "Nam" else "F", permanent_address=address,
                      issued_on=_date(issued, "issued_on"))


# --- offline check and test cards (issue #19 item 11) ------------------------------------------
# Law on Identification 2023, art. 21: a card is renewed at 14, 25, 40 and 60; one issued within
# the two years before such an age stays valid until the next one (*interpretation* for the
# offline check: no card number or registry is needed).
RENEWAL_AGES = (14, 25, 40, 60)


@dataclass(frozen=True)
class OfflineCheck:
    """What can be checked without the registry. The front QR code is not signed: consistency,
    not authenticity (an officer's online check compares it with the registry)."""

    card: ChipCardQr
    problems: list[tuple[str, str]]  # (code, text)
    valid_until: date | None  # None: valid for life (issued at 58 or later)

    @property
    def consistent(self) -> bool:
        return not self.problems


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def card_valid_until(birth_date: date, issued_on: date) -> date | None:
    for age in RENEWAL_AGES:
        milestone = _add_years(birth_date, age)
        if issued_on < _add_years(milestone, -2):
            return milestone
    return None


def check_offline(card: ChipCardQr, *, today: date) -> OfflineCheck:
    """The ID number against sex and birth year (its digits encode both), a known place code,
    the dates' order, and the card's validity by the renewal ages."""
    from popid.core.id_numbers import InvalidIdNumber, check_id_number

    problems: list[tuple[str, str]] = []
    try:
        check_id_number(card.id_number, sex=card.sex, birth_year=card.birth_date.year)
    except InvalidIdNumber as exc:
        texts = {"sex_mismatch": _("Số định danh không khớp với giới tính trên thẻ"),
                 "birth_year_mismatch": _("Số định danh không khớp với năm sinh trên thẻ"),
                 "unknown_place_code": _("Mã nơi đăng ký khai sinh trong số định danh không tồn tại")}
        problems.append((exc.reason, str(texts.get(exc.reason, _("Số định danh không hợp lệ")))))
    if card.birth_date > today:
        problems.append(("birth_in_future", _("Ngày sinh ở tương lai")))
    if card.issued_on > today:
        problems.append(("issued_in_future", _("Ngày cấp ở tương lai")))
    if card.issued_on < card.birth_date:
        problems.append(("issued_before_birth", _("Ngày cấp trước ngày sinh")))
    valid_until = card_valid_until(card.birth_date, card.issued_on)
    if valid_until is not None and valid_until <= today:
        problems.append(("card_expired", _("Thẻ đã hết hạn ngày %(d)s (phải đổi khi đủ 14, 25, 40, 60 tuổi)")
                         % {"d": valid_until.strftime("%d/%m/%Y")}))
    return OfflineCheck(card=card, problems=problems, valid_until=valid_until)


def make_chip_qr(*, full_name: str, birth_date: date, sex: str, permanent_address: str, issued_on: date,
                 id_number: str = "", old_id_number: str = "", place_code: str = "001") -> str:
    """The front-of-card QR text of a test card (for demos and tests; parse_chip_qr reads it back).
    Without ``id_number``, one consistent with sex and birth year is made (random serial)."""
    from popid.core.id_numbers import generate_id_number

    number = id_number or generate_id_number(place_code, sex, birth_date.year)
    text = "|".join([number, old_id_number, full_name, birth_date.strftime("%d%m%Y"), "Nam" if sex == "M" else "Nữ",
                     permanent_address, issued_on.strftime("%d%m%Y")])
    parse_chip_qr(text)  # never hand out a code the parser refuses
    return text
