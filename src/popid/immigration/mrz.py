"""Machine-readable zones of travel documents (ICAO Doc 9303): parse, check, generate.

The check digits (7-3-1 weighting), the composite check digit and the per-field format checks are
those of the ``mrz`` package (PyPI); this module only adds what PopID needs around it:

* one entry point, :func:`parse`, that recognises the format from the shape of the zone
  (TD3 passport 2×44, MRV-A visa 2×44 starting with ``V``, TD2 2×36, MRV-B 2×36 starting with
  ``V``, TD1 card 3×30), refuses wrong lengths and characters before the library sees them, and
  turns the library's report into one stable error naming the first failed check;
* full dates from the two-digit years (birth dates never in the future, expiry dates within
  50 years either side of today);
* :func:`passport_mrz`, the TD3 zone of a passport PopID issues (issuing State ``VNM``), with the
  holder's name transliterated from Vietnamese (diacritics dropped, ``Đ`` → ``D``, as Doc 9303
  Part 3 prescribes for Latin letters with diacritics) and truncated to the 39 positions.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _
from mrz.base.functions import hash_string
from mrz.checker.mrva import MRVACodeChecker
from mrz.checker.mrvb import MRVBCodeChecker
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td2 import TD2CodeChecker
from mrz.checker.td3 import TD3CodeChecker
from mrz.generator.td3 import TD3CodeGenerator

from popid.core.errors import DomainError

ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
TD3, MRVA, TD2, MRVB, TD1 = "TD3", "MRV-A", "TD2", "MRV-B", "TD1"
SHAPES = {(2, 44): (TD3, MRVA), (2, 36): (TD2, MRVB), (3, 30): (TD1, TD1)}
CHECKERS = {TD3: TD3CodeChecker, MRVA: MRVACodeChecker, TD2: TD2CodeChecker, MRVB: MRVBCodeChecker,
            TD1: TD1CodeChecker}

# the ``mrz`` report's descriptions → PopID's stable check names (first failure wins, in this order)
CHECK_NAMES = {
    "document number hash": "document_number_check_digit",
    "birth date hash": "birth_date_check_digit",
    "expiry date hash": "expiry_date_check_digit",
    "optional data hash": "optional_data_check_digit",
    "final hash": "composite_check_digit",
    "document type format": "document_type",
    "valid country code": "issuing_state",
    "valid nationality code": "nationality",
    "birth date": "birth_date",
    "expiry date": "expiry_date",
    "valid genre format": "sex",
    "identifier": "name",
    "document number format": "document_number",
    "optional data format": "optional_data",
    "optional data 2 format": "optional_data",
}
CHECK_ORDER = list(dict.fromkeys(CHECK_NAMES.values()))


class InvalidMrz(DomainError):
    """A zone that is not a valid ICAO 9303 MRZ; ``check`` names the failed check."""

    code = "mrz_invalid"
    status = 422
    title = _("Vùng đọc máy (MRZ) không hợp lệ")

    def __init__(self, check: str, detail: str | object = "") -> None:
        self.check = check
        super().__init__(detail or _("Kiểm tra không đạt: %(check)s") % {"check": check}, field="mrz", check=check)

    def errors(self) -> list[dict[str, str]]:
        return [{"field": "mrz", "reason": self.check, "message": str(self.detail)}]


@dataclass(frozen=True)
class MrzData:
    format: str
    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None
    sex: str
    expiry_date: date | None
    optional_data: str
    lines: tuple[str, ...]

    @property
    def is_visa(self) -> bool:
        return self.format in (MRVA, MRVB)

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        data["expiry_date"] = self.expiry_date.isoformat() if self.expiry_date else None
        data["lines"] = list(self.lines)
        return data


def split_lines(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """The zone's lines from a string (newline separated) or a list; blank lines and surrounding
    spaces dropped (typed or scanned input), nothing else changed."""
    raw = text.splitlines() if isinstance(text, str) else [line for part in text for line in str(part).splitlines()]
    return [line.strip() for line in raw if line.strip()]


def _century(yymmdd: str, *, today: date, birth: bool) -> date | None:
    try:
        yy, mm, dd = int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    except ValueError:
        return None
    for century in (2000, 1900) if birth else (2000, 1900, 2100):
        try:
            value = date(century + yy, mm, dd)
        except ValueError:
            return None
        if birth and value <= today:
            return value
        if not birth and abs((value - today).days) <= 50 * 366:
            return value
    return None


def parse(text: str | list[str] | tuple[str, ...], *, today: date | None = None) -> MrzData:
    """Parse and check a zone; raise :class:`InvalidMrz` naming the first failed check."""
    lines = split_lines(text)
    shape = (len(lines), len(lines[0]) if lines else 0)
    if not lines or shape not in SHAPES or any(len(line) != shape[1] for line in lines):
        raise InvalidMrz("length", _("MRZ phải có 2 dòng 44 ký tự (hộ chiếu, thị thực MRV-A), 2 dòng 36 ký tự "
                                     "(TD2, thị thực MRV-B) hoặc 3 dòng 30 ký tự (thẻ TD1)"))
    for number, line in enumerate(lines, start=1):
        bad = sorted(set(line) - ALPHABET)
        if bad:
            raise InvalidMrz("characters", _("Dòng %(n)d có ký tự không được phép: %(chars)s (chỉ A–Z, 0–9 và <)")
                             % {"n": number, "chars": " ".join(bad)})
    plain, visa = SHAPES[shape]
    fmt = visa if lines[0][0] == "V" else plain
    checker = CHECKERS[fmt]("\n".join(lines))
    if not checker:
        failed = {CHECK_NAMES.get(name, name.replace(" ", "_")) for name, ok in checker.report.falses}
        first = next((name for name in CHECK_ORDER if name in failed), sorted(failed)[0] if failed else "mrz")
        raise InvalidMrz(first)
    fields = checker.fields()
    today = today or date.today()
    birth = _century(fields.birth_date, today=today, birth=True)
    expiry = _century(fields.expiry_date, today=today, birth=False)
    optional = fields.optional_data.replace("<", " ").strip()
    extra = getattr(fields, "optional_data_2", "")
    if extra:
        optional = f"{optional} {extra.replace('<', ' ').strip()}".strip()
    return MrzData(format=fmt, document_type=fields.document_type, issuing_state=fields.country,
                   surname=fields.surname.strip(), given_names=fields.name.strip(),
                   document_number=fields.document_number.replace("<", ""), nationality=fields.nationality,
                   birth_date=birth, sex=fields.sex if fields.sex in "MF" else "X", expiry_date=expiry,
                   optional_data=optional, lines=tuple(lines))


def check_digit(value: str) -> str:
    """The ICAO 9303 check digit of a field (the library's 7-3-1 computation)."""
    digit: str = hash_string(value)
    return digit


def transliterate(name: str) -> str:
    """A Vietnamese name in MRZ letters: diacritics dropped, Đ → D, separators → ``<``."""
    name = name.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = ["".join(c for c in word if c.isascii() and c.isalpha())
             for word in ascii_only.upper().replace("-", " ").split()]
    return "<".join(word for word in words if word)


def _name_field(surname: str, given_names: str, width: int = 39) -> tuple[str, str]:
    """Primary and secondary identifiers fitted into ``width`` positions (secondary truncated
    first, then the primary; Doc 9303 Part 3 §4.6 truncation, simplified)."""
    primary, secondary = transliterate(surname), transliterate(given_names)
    if not primary:
        raise InvalidMrz("name", _("Họ trống sau khi chuyển tự"))
    if len(primary) + 2 + len(secondary) > width:
        secondary = secondary[: max(0, width - len(primary) - 2)].rstrip("<")
    if len(primary) + 2 > width:
        primary, secondary = primary[:width - 2].rstrip("<"), ""
    return primary, secondary


def passport_mrz(*, document_number: str, surname: str, given_names: str, birth_date: date, sex: str,
                 expiry_date: date, id_number: str = "", issuing_state: str = "VNM",
                 nationality: str = "VNM") -> tuple[str, str]:
    """The two TD3 lines of a passport PopID issues (optional data = the 12-digit ID number)."""
    primary, secondary = _name_field(surname, given_names)
    generator = TD3CodeGenerator("P", issuing_state, primary.replace("<", " "), secondary.replace("<", " "),
                                 document_number, nationality, birth_date.strftime("%y%m%d"),
                                 sex if sex in ("M", "F") else "<", expiry_date.strftime("%y%m%d"), id_number,
                                 force=True)
    line1, line2 = str(generator).split("\n")
    return line1, line2


def passport_key(nationality: str, document_number: str) -> str:
    """The 12-character key a foreign person's access records carry (nationality + number)."""
    return f"{nationality}{document_number}"[:12]
