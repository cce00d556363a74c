"""Code lists: the 54 ethnic groups (GSO codes, Decision 121-TCTK/PPCĐ), recognised
religions, blood types, marital statuses and the nationalities the registry records.

Shares are approximate population counts (thousands) from the 2019 census, used by the
synthetic population generator to draw realistic proportions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    weight: float = 0.0


ETHNIC_GROUPS: dict[str, Code] = {
    c.code: c
    for c in [
        Code("01", "Kinh", 82086), Code("02", "Tày", 1845), Code("03", "Thái", 1820),
        Code("04", "Hoa", 750), Code("05", "Khmer", 1320), Code("06", "Mường", 1452),
        Code("07", "Nùng", 1083), Code("08", "Mông", 1394), Code("09", "Dao", 892),
        Code("10", "Gia Rai", 513), Code("11", "Ngái", 1.6), Code("12", "Ê Đê", 399),
        Code("13", "Ba Na", 287), Code("14", "Xơ Đăng", 212), Code("15", "Sán Chay", 201),
        Code("16", "Cơ Ho", 200), Code("17", "Chăm", 179), Code("18", "Sán Dìu", 183),
        Code("19", "Hrê", 149), Code("20", "Mnông", 127), Code("21", "Raglay", 146),
        Code("22", "Xtiêng", 100), Code("23", "Bru Vân Kiều", 94), Code("24", "Thổ", 91),
        Code("25", "Giáy", 67), Code("26", "Cơ Tu", 75), Code("27", "Gié Triêng", 63),
        Code("28", "Mạ", 50), Code("29", "Khơ Mú", 90), Code("30", "Co", 40),
        Code("31", "Tà Ôi", 52), Code("32", "Chơ Ro", 29), Code("33", "Kháng", 16),
        Code("34", "Xinh Mun", 29), Code("35", "Hà Nhì", 25), Code("36", "Chu Ru", 23),
        Code("37", "Lào", 17), Code("38", "La Chí", 15), Code("39", "La Ha", 10),
        Code("40", "Phù Lá", 12), Code("41", "La Hủ", 12), Code("42", "Lự", 6.8),
        Code("43", "Lô Lô", 4.8), Code("44", "Chứt", 7.5), Code("45", "Mảng", 4.6),
        Code("46", "Pà Thẻn", 8), Code("47", "Cơ Lao", 4), Code("48", "Cống", 2.7),
        Code("49", "Bố Y", 3.2), Code("50", "Si La", 0.9), Code("51", "Pu Péo", 0.9),
        Code("52", "Brâu", 0.5), Code("53", "Ơ Đu", 0.4), Code("54", "Rơ Măm", 0.6),
    ]
}
FOREIGN_ETHNICITY = "55"  # "người nước ngoài" for foreign-born citizens, as on GSO forms

RELIGIONS: dict[str, Code] = {
    c.code: c
    for c in [
        Code("00", "Không", 86320), Code("01", "Phật giáo", 4600), Code("02", "Công giáo", 5900),
        Code("03", "Tin lành", 960), Code("04", "Cao Đài", 556), Code("05", "Phật giáo Hòa Hảo", 983),
        Code("06", "Hồi giáo", 70), Code("07", "Bà-la-môn", 65),
        Code("08", "Tịnh độ Cư sĩ Phật hội Việt Nam", 30), Code("09", "Tứ Ân Hiếu Nghĩa", 30),
        Code("10", "Bửu Sơn Kỳ Hương", 15), Code("11", "Phật đường Nam tông Minh sư đạo", 5),
        Code("12", "Minh lý đạo - Tam Tông Miếu", 1), Code("13", "Baha'i", 7),
        Code("14", "Cơ đốc Phục lâm", 18), Code("15", "Các Thánh hữu ngày sau (Mặc Môn)", 1),
        Code("16", "Minh Sư đạo", 1),
    ]
}

BLOOD_TYPES = ("O", "A", "B", "AB")
BLOOD_TYPE_WEIGHTS = (42.0, 21.0, 30.0, 7.0)

NATIONALITIES: dict[str, str] = {
    "VN": "Việt Nam", "US": "Hoa Kỳ", "FR": "Pháp", "CN": "Trung Quốc", "KR": "Hàn Quốc",
    "JP": "Nhật Bản", "LA": "Lào", "KH": "Campuchia", "TH": "Thái Lan", "AU": "Úc",
    "DE": "Đức", "GB": "Vương quốc Anh", "CA": "Canada", "RU": "Nga", "TW": "Đài Loan",
}


def is_ethnic_group(code: str) -> bool:
    return code in ETHNIC_GROUPS or code == FOREIGN_ETHNICITY


def ethnic_group_name(code: str | None) -> str:
    if code == FOREIGN_ETHNICITY:
        return "Người nước ngoài"
    return ETHNIC_GROUPS[code].name if code in ETHNIC_GROUPS else (code or "")


def religion_name(code: str | None) -> str:
    return RELIGIONS[code].name if code in RELIGIONS else (code or "")


@lru_cache(maxsize=1024)
def is_country_code(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code of a country in force (``pycountry``'s copy of the standard);
    nationalities and relatives' nationalities are stored this way."""
    import pycountry  # loaded on first use: most processes never check a nationality

    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None
