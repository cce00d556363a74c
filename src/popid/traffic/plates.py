"""Vietnamese licence plates (biển số xe), normalised and validated.

Shapes accepted (separators — dash, dot, spaces — are optional on input):

- cars and other four-wheel vehicles: province code (2 digits, 11-99), a series of one or two
  letters, then 5 digits (``30A-123.45``) or, for old series, 4 digits (``30A-1234``);
- motorbikes: province code, a series of a letter and a digit (``29-B1 123.45``, old ``29-B1 1234``)
  or two letters for mopeds (``29-AA 123.45``);
- specialised series are two-letter series of the same shape: ``NG`` (diplomatic), ``NN``
  (foreign organisations and individuals), ``LD`` (foreign-invested enterprises), ``KT`` (military
  economic units) — e.g. ``51LD-123.45``. (Diplomatic plates with a country code in the middle are
  not modelled; they go to the manual queue as unreadable.)

``key`` is the canonical compact form (upper-case letters and digits only) used for matching;
``display`` the printed form. Without separators ``30A11234`` is ambiguous (series A1 + 1234 or
series A + 11234): the parser prefers the separators it was given, then the vehicle kind hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError

SPECIAL_SERIES = {"NG", "NN", "LD", "KT"}
_RAW = re.compile(r"^(\d{2})[-\s]*([A-Z]{1,2}\d?)[-\s]*(\d{3}\.?\d{2}|\d{4})$")
_SPLIT = re.compile(r"^(\d{2})[-\s]*([A-Z]{1,2})[-\s]*(\d{3}\.?\d{2}|\d{4})$")
MAX_RAW = 20


class InvalidPlate(DomainError):
    code = "invalid_plate"
    status = 422
    title = _("Biển số xe không hợp lệ")


@dataclass(frozen=True)
class Plate:
    province: str
    series: str
    number: str  # 4 or 5 digits

    @property
    def key(self) -> str:
        return f"{self.province}{self.series}{self.number}"

    @property
    def is_motorbike_series(self) -> bool:
        return self.series[-1].isdigit() or (self.series.isalpha() and len(self.series) == 2
                                            and self.series not in SPECIAL_SERIES and self.series[0] == self.series[1])

    @property
    def formatted_number(self) -> str:
        return f"{self.number[:3]}.{self.number[3:]}" if len(self.number) == 5 else self.number

    @property
    def display(self) -> str:
        if self.series[-1].isdigit():
            return f"{self.province}-{self.series} {self.formatted_number}"
        return f"{self.province}{self.series}-{self.formatted_number}"

    def spellings(self) -> list[str]:
        """Every way the same plate may be stored in a registry (for exact indexed look-ups)."""
        p, s, n, f = self.province, self.series, self.number, self.formatted_number
        return sorted({self.display, self.key, f"{p}{s}-{n}", f"{p}{s}-{f}", f"{p}-{s} {f}", f"{p}-{s} {n}",
                       f"{p}{s} {f}", f"{p}{s} {n}", f"{p}-{s}-{f}", f"{p}-{s}-{n}"})


def _clean(raw: str) -> str:
    text = (raw or "").strip().upper()
    if not text or len(text) > MAX_RAW:
        raise InvalidPlate(_("Biển số trống hoặc quá dài"), field="plate")
    return re.sub(r"\s+", " ", text.replace("Đ", "D"))


def _check(province: str, series: str, number: str) -> Plate:
    if not 11 <= int(province) <= 99:
        raise InvalidPlate(_("Mã tỉnh trên biển số phải từ 11 đến 99"), field="plate")
    if series.isalpha() and len(series) == 2 and series not in SPECIAL_SERIES and series[0] != series[1]:
        raise InvalidPlate(_("Sê-ri %(s)s không phải sê-ri biển số đã biết") % {"s": series}, field="plate")
    return Plate(province=province, series=series, number=number.replace(".", ""))


def parse_plate(raw: str, *, vehicle_kind: str = "") -> Plate:
    """Normalise a plate read by a camera or typed by a person; ``InvalidPlate`` otherwise."""
    text = _clean(raw)
    match = _RAW.match(text)
    if match is None:
        raise InvalidPlate(_("Biển số %(p)s không đúng định dạng") % {"p": text}, field="plate")
    province, series, number = match.groups()
    compact_digits = number.replace(".", "")
    # "30A11234": a digit glued to the series may belong to a 5-digit number instead.
    if (series[-1].isdigit() and len(compact_digits) == 4 and vehicle_kind == "car"
            and re.search(r"[A-Z]\d{5}$", re.sub(r"[-\s.]", "", text))):
        split = _SPLIT.match(f"{province}{series[:-1]}-{series[-1]}{compact_digits}")
        if split:
            province, series, number = split.groups()
    return _check(province, series, number)


def plate_key_or_raw(raw: str, *, vehicle_kind: str = "") -> tuple[Plate | None, str]:
    """(plate, key) for a readable plate, (None, cleaned raw text) for an unreadable one."""
    try:
        plate = parse_plate(raw, vehicle_kind=vehicle_kind)
    except InvalidPlate:
        return None, re.sub(r"[^0-9A-Z]", "", (raw or "").upper())[:MAX_RAW] or "?"
    return plate, plate.key
