"""The finding kinds the quality engine reports and the synthetic population injects.

One vocabulary for both, so ``popid quality report --format json`` can be compared with the
seeder's ``--truth`` file kind by kind (recall and precision per kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Principle(StrEnum):
    CORRECT = "dung"  # đúng
    SUFFICIENT = "du"  # đủ
    CLEAN = "sach"  # sạch
    LIVE = "song"  # sống


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Kind:
    code: str
    principle: Principle
    severity: Severity
    title_vi: str
    title_en: str
    injected: bool = True  # the seeder injects it (see NOT_INJECTED)


CORRECT, SUFFICIENT, CLEAN, LIVE = Principle.CORRECT, Principle.SUFFICIENT, Principle.CLEAN, Principle.LIVE
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL
NO = False  # last column: the seeder does not inject this kind

# code, principle, severity, Vietnamese title, English title[, injected]
_TABLE: tuple[tuple[Any, ...], ...] = (
    # đúng: format, code lists, consistency
    ("id_invalid_format", CORRECT, CRITICAL, "Số định danh không đúng định dạng 12 chữ số",
     "ID number is not 12 digits"),
    ("id_sex_mismatch", CORRECT, HIGH, "Số định danh không khớp giới tính", "ID number disagrees with sex"),
    ("id_birth_year_mismatch", CORRECT, HIGH, "Số định danh không khớp năm sinh",
     "ID number disagrees with birth year"),
    ("id_unknown_place", CORRECT, HIGH, "Mã nơi đăng ký khai sinh trong số định danh không tồn tại",
     "ID number has an unknown place code"),
    ("unknown_ethnicity_code", CORRECT, MEDIUM, "Mã dân tộc không có trong danh mục", "Unknown ethnic group code"),
    ("unknown_religion_code", CORRECT, MEDIUM, "Mã tôn giáo không có trong danh mục", "Unknown religion code"),
    ("unknown_commune_code", CORRECT, MEDIUM, "Mã đơn vị hành chính không tồn tại", "Unknown administrative unit code"),
    ("future_birth_date", CORRECT, CRITICAL, "Ngày sinh ở tương lai", "Birth date in the future"),
    ("death_before_birth", CORRECT, CRITICAL, "Ngày chết trước ngày sinh", "Death before birth"),
    ("parent_younger_than_child", CORRECT, HIGH, "Cha/mẹ không lớn hơn con đủ tuổi",
     "Parent not plausibly older than child"),
    # đúng, added for issue #13 item 9: the format each of the 26 fields has in law; not injected
    ("invalid_name", CORRECT, MEDIUM, "Họ tên sai định dạng (ký tự không phải chữ cái, hoặc độ dài)",
     "Malformed name (characters other than letters, or length)", NO),
    ("birth_date_inconsistent", CORRECT, HIGH, "Ngày sinh, năm sinh và mức chính xác mâu thuẫn",
     "Birth date, birth year and precision disagree", NO),
    ("id_place_mismatch", CORRECT, HIGH, "Mã tỉnh trong số định danh không khớp nơi đăng ký khai sinh",
     "ID number's province code disagrees with the birth registration place", NO),
    ("commune_province_mismatch", CORRECT, MEDIUM, "Mã xã không thuộc mã tỉnh ghi cùng",
     "Commune code does not belong to the province recorded with it", NO),
    ("unknown_nationality_code", CORRECT, MEDIUM, "Mã quốc tịch không có trong danh mục ISO 3166-1",
     "Nationality is not an ISO 3166-1 country code", NO),
    ("invalid_coded_value", CORRECT, MEDIUM,
     "Giá trị không thuộc danh mục (giới tính, nhóm máu, hôn nhân, trạng thái, quan hệ với chủ hộ)",
     "Value outside its code list (sex, blood type, marital or life status, relation to the household head)", NO),
    ("invalid_old_id_number", CORRECT, MEDIUM, "Số chứng minh nhân dân cũ không gồm đúng 9 chữ số",
     "Old identity card number is not 9 digits", NO),
    ("relative_id_invalid", CORRECT, MEDIUM, "Số định danh của cha, mẹ, vợ/chồng hoặc người đại diện không hợp lệ",
     "Relative's ID number is malformed or differs from the linked record", NO),
    ("invalid_phone", CORRECT, LOW, "Số điện thoại không đúng định dạng Việt Nam",
     "Phone number is not a Vietnamese number", NO),
    ("invalid_email", CORRECT, LOW, "Địa chỉ thư điện tử sai định dạng", "Malformed e-mail address", NO),
    ("invalid_text", CORRECT, LOW, "Nơi sinh, quê quán, địa chỉ hoặc ghi chú có ký tự không hợp lệ",
     "Place, address or note contains invalid characters", NO),
    ("future_date", CORRECT, HIGH, "Ngày ở tương lai (chết, mất tích, cấp thẻ, cư trú)",
     "Date in the future (death, missing, card issue, residence)", NO),
    ("dates_out_of_order", CORRECT, HIGH, "Các ngày mâu thuẫn nhau (sinh ≤ cấp thẻ ≤ hết hạn, cư trú, mất tích)",
     "Dates contradict each other (birth ≤ issue ≤ expiry, residence, missing)", NO),
    ("card_number_mismatch", CORRECT, HIGH, "Số thẻ căn cước khác số định danh cá nhân",
     "ID card number differs from the personal ID number", NO),
    ("card_expiry_mismatch", CORRECT, MEDIUM, "Hạn thẻ căn cước không theo mốc tuổi 14, 25, 40, 60",
     "ID card expiry is not the legal age milestone (14, 25, 40, 60)", NO),
    ("underage_marriage", CORRECT, HIGH, "Đã kết hôn khi chưa đủ tuổi kết hôn (nam 20, nữ 18)",
     "Married below the legal marriage age (men 20, women 18)", NO),
    # đủ: mandatory fields present
    ("missing_mandatory_field", SUFFICIENT, MEDIUM, "Thiếu trường thông tin bắt buộc", "Mandatory field missing"),
    # sạch: one record per person, canonical forms
    ("probable_duplicate", CLEAN, HIGH, "Nghi trùng hồ sơ công dân", "Probable duplicate record"),
    ("non_canonical_name", CLEAN, LOW, "Họ tên chưa chuẩn hóa", "Name not in canonical form"),
    # sống: kept up to date with life events
    ("implausible_age", LIVE, MEDIUM, "Còn sống nhưng trên 120 tuổi", "Alive at 120 or older"),
    ("deceased_with_active_residence", LIVE, HIGH, "Đã chết nhưng còn đăng ký cư trú",
     "Deceased with an active residence"),
    ("residence_in_abolished_unit", LIVE, MEDIUM, "Cư trú tại đơn vị hành chính đã bị bãi bỏ",
     "Residence in an abolished unit"),
    ("life_status_inconsistent", LIVE, HIGH,
     "Trạng thái sống, chết, mất tích mâu thuẫn với ngày chết hoặc ngày mất tích",
     "Life status disagrees with the date of death or of going missing", NO),
    ("expired_temporary_residence", LIVE, MEDIUM, "Tạm trú đã hết thời hạn nhưng chưa xóa",
     "Temporary residence past its term and not ended", NO),
    ("expired_absence", LIVE, LOW, "Khai báo tạm vắng đã hết hạn nhưng chưa xóa",
     "Declared absence past its end date and not cleared", NO),
)

KINDS: dict[str, Kind] = {row[0]: Kind(*row) for row in _TABLE}

# Kinds the seeder does not inject: the legal-format checks of issue #13 item 9, tested on
# hand-written records (tests/registry/test_quality_formats.py) so their recall is not graded by the
# generator that wrote them. Several still appear in a seeded run, as consequences of injected errors,
# so comparisons with the seeder's truth leave them out of the overall figures.
NOT_INJECTED = frozenset(code for code, kind in KINDS.items() if not kind.injected)
