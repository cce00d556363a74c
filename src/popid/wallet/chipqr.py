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
