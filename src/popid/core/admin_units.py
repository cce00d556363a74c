"""Administrative units: the 34 provinces and 3,321 communes in force since 1 July 2025
(Resolution 202/2025/QH15), loaded from the ``vietnam-provinces`` package, plus the 63
pre-2025 province codes that existing ID numbers keep as their prefix.

Codes are strings: provinces two digits ("01"), communes five digits ("00070"), legacy ID
prefixes three digits ("001").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from vietnam_provinces import Province, Ward

from popid.core.text import normalize_text

# Pre-2025 province -> (name, 2025 province it was merged into). The ID prefix is "0" + code.
_LEGACY: dict[str, tuple[str, str]] = {
    "01": ("Hà Nội", "01"), "02": ("Hà Giang", "08"), "04": ("Cao Bằng", "04"),
    "06": ("Bắc Kạn", "19"), "08": ("Tuyên Quang", "08"), "10": ("Lào Cai", "15"),
    "11": ("Điện Biên", "11"), "12": ("Lai Châu", "12"), "14": ("Sơn La", "14"),
    "15": ("Yên Bái", "15"), "17": ("Hòa Bình", "25"), "19": ("Thái Nguyên", "19"),
    "20": ("Lạng Sơn", "20"), "22": ("Quảng Ninh", "22"), "24": ("Bắc Giang", "24"),
    "25": ("Phú Thọ", "25"), "26": ("Vĩnh Phúc", "25"), "27": ("Bắc Ninh", "24"),
    "30": ("Hải Dương", "31"), "31": ("Hải Phòng", "31"), "33": ("Hưng Yên", "33"),
    "34": ("Thái Bình", "33"), "35": ("Hà Nam", "37"), "36": ("Nam Định", "37"),
    "37": ("Ninh Bình", "37"), "38": ("Thanh Hóa", "38"), "40": ("Nghệ An", "40"),
    "42": ("Hà Tĩnh", "42"), "44": ("Quảng Bình", "44"), "45": ("Quảng Trị", "44"),
    "46": ("Thừa Thiên Huế", "46"), "48": ("Đà Nẵng", "48"), "49": ("Quảng Nam", "48"),
    "51": ("Quảng Ngãi", "51"), "52": ("Bình Định", "52"), "54": ("Phú Yên", "66"),
    "56": ("Khánh Hòa", "56"), "58": ("Ninh Thuận", "56"), "60": ("Bình Thuận", "68"),
    "62": ("Kon Tum", "51"), "64": ("Gia Lai", "52"), "66": ("Đắk Lắk", "66"),
    "67": ("Đắk Nông", "68"), "68": ("Lâm Đồng", "68"), "70": ("Bình Phước", "75"),
    "72": ("Tây Ninh", "80"), "74": ("Bình Dương", "79"), "75": ("Đồng Nai", "75"),
    "77": ("Bà Rịa - Vũng Tàu", "79"), "79": ("TP Hồ Chí Minh", "79"), "80": ("Long An", "80"),
    "82": ("Tiền Giang", "82"), "83": ("Bến Tre", "86"), "84": ("Trà Vinh", "86"),
    "86": ("Vĩnh Long", "86"), "87": ("Đồng Tháp", "82"), "89": ("An Giang", "91"),
    "91": ("Kiên Giang", "91"), "92": ("Cần Thơ", "92"), "93": ("Hậu Giang", "92"),
    "94": ("Sóc Trăng", "92"), "95": ("Bạc Liêu", "96"), "96": ("Cà Mau", "96"),
}

LEGACY_PROVINCES: dict[str, str] = {f"0{code}": name for code, (name, _) in _LEGACY.items()}
"""3-digit ID prefix -> pre-2025 province name."""

# Highest commune code of the pre-2025 list (10,599 communes numbered up to 32248). A
# five-digit code in that range that is not a current commune belonged to a unit abolished by
# the 2025 reorganisation (interpretation: the package ships no legacy commune list).
LEGACY_COMMUNE_CODE_MAX = 32248


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    province_code: str | None = None

    def __str__(self) -> str:
        return self.name


@cache
def provinces() -> dict[str, Unit]:
    return {
        f"{p.code.value:02d}": Unit(f"{p.code.value:02d}", p.name, p.division_type.value)
        for p in sorted(Province.iter_all(), key=lambda p: p.code.value)
    }


@cache
def communes() -> dict[str, Unit]:
    return {
        f"{w.code.value:05d}": Unit(
            f"{w.code.value:05d}", w.name, w.division_type.value, f"{w.province_code.value:02d}"
        )
        for w in sorted(Ward.iter_all(), key=lambda w: w.code.value)
    }


@cache
def communes_by_province() -> dict[str, list[Unit]]:
    grouped: dict[str, list[Unit]] = {code: [] for code in provinces()}
    for unit in communes().values():
        grouped[unit.province_code or ""].append(unit)
    return grouped


def province(code: str) -> Unit | None:
    return provinces().get(code)


def commune(code: str) -> Unit | None:
    return communes().get(code)


def is_active_commune(code: str) -> bool:
    return code in communes()


def is_abolished_commune(code: str) -> bool:
    """A pre-2025 commune code that no longer names a unit."""
    return (
        len(code) == 5
        and code.isdigit()
        and 0 < int(code) <= LEGACY_COMMUNE_CODE_MAX
        and code not in communes()
    )


def province_of_commune(code: str) -> str | None:
    unit = commune(code)
    return unit.province_code if unit else None


def id_prefix_for_province(province_code: str) -> str:
    """2025 province codes are a subset of the old ones, so a new birth gets "0" + code."""
    if province_code not in provinces():
        raise KeyError(province_code)
    return f"0{province_code}"


def current_province_for_legacy(prefix: str) -> str | None:
    """The 2025 province that absorbed the pre-2025 province with this ID prefix."""
    entry = _LEGACY.get(prefix[1:]) if len(prefix) == 3 and prefix.startswith("0") else None
    return entry[1] if entry else None


def legacy_prefixes_of(province_code: str) -> list[str]:
    return [f"0{old}" for old, (_, new) in _LEGACY.items() if new == province_code]


def commune_label(code: str | None) -> str:
    """'Phường Hoàn Kiếm, Thành phố Hà Nội' for display; the raw code when unknown."""
    if not code:
        return ""
    unit = commune(code)
    if unit is None:
        return code
    parent = province(unit.province_code or "")
    return f"{unit.name}, {parent.name}" if parent else unit.name


_UNIT_WORDS = ("phuong ", "xa ", "thi tran ", "dac khu ")


def _bare_name(name: str) -> str:
    folded = normalize_text(name)
    for word in _UNIT_WORDS:
        if folded.startswith(word):
            return folded[len(word):]
    return folded


def find_communes(text: str) -> list[Unit]:
    """The communes an officer means by a name typed with or without diacritics and with or
    without "Phường/Xã" ("hoan kiem" → Phường Hoàn Kiếm); a five-digit code is looked up as such.
    Exact names first; a unique prefix also counts, so "hoan ki" is enough on a phone."""
    text = (text or "").strip()
    if text.isdigit():
        unit = commune(text)
        return [unit] if unit else []
    wanted = _bare_name(text)
    if not wanted:
        return []
    units = list(communes().values())
    exact = [u for u in units if _bare_name(u.name) == wanted or normalize_text(u.name) == normalize_text(text)]
    return exact or [u for u in units if _bare_name(u.name).startswith(wanted)]
