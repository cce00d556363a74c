"""The finding kinds the quality engine reports and the synthetic population injects.

One vocabulary for both, so ``popid quality report --format json`` can be compared with the
seeder's ``--truth`` file kind by kind (recall and precision per kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


KINDS: dict[str, Kind] = {
    k.code: k
    for k in [
        # đúng: format, code lists, consistency
        Kind("id_invalid_format", Principle.CORRECT, Severity.CRITICAL,
             "Số định danh không đúng định dạng 12 chữ số", "ID number is not 12 digits"),
        Kind("id_sex_mismatch", Principle.CORRECT, Severity.HIGH,
             "Số định danh không khớp giới tính", "ID number disagrees with sex"),
        Kind("id_birth_year_mismatch", Principle.CORRECT, Severity.HIGH,
             "Số định danh không khớp năm sinh", "ID number disagrees with birth year"),
        Kind("id_unknown_place", Principle.CORRECT, Severity.HIGH,
             "Mã nơi đăng ký khai sinh trong số định danh không tồn tại", "ID number has an unknown place code"),
        Kind("unknown_ethnicity_code", Principle.CORRECT, Severity.MEDIUM,
             "Mã dân tộc không có trong danh mục", "Unknown ethnic group code"),
        Kind("unknown_religion_code", Principle.CORRECT, Severity.MEDIUM,
             "Mã tôn giáo không có trong danh mục", "Unknown religion code"),
        Kind("unknown_commune_code", Principle.CORRECT, Severity.MEDIUM,
             "Mã đơn vị hành chính không tồn tại", "Unknown administrative unit code"),
        Kind("future_birth_date", Principle.CORRECT, Severity.CRITICAL,
             "Ngày sinh ở tương lai", "Birth date in the future"),
        Kind("death_before_birth", Principle.CORRECT, Severity.CRITICAL,
             "Ngày chết trước ngày sinh", "Death before birth"),
        Kind("parent_younger_than_child", Principle.CORRECT, Severity.HIGH,
             "Cha/mẹ không lớn hơn con đủ tuổi", "Parent not plausibly older than child"),
        # đủ: mandatory fields present
        Kind("missing_mandatory_field", Principle.SUFFICIENT, Severity.MEDIUM,
             "Thiếu trường thông tin bắt buộc", "Mandatory field missing"),
        # sạch: one record per person, canonical forms
        Kind("probable_duplicate", Principle.CLEAN, Severity.HIGH,
             "Nghi trùng hồ sơ công dân", "Probable duplicate record"),
        Kind("non_canonical_name", Principle.CLEAN, Severity.LOW,
             "Họ tên chưa chuẩn hóa", "Name not in canonical form"),
        # sống: kept up to date with life events
        Kind("implausible_age", Principle.LIVE, Severity.MEDIUM,
             "Còn sống nhưng trên 120 tuổi", "Alive at 120 or older"),
        Kind("deceased_with_active_residence", Principle.LIVE, Severity.HIGH,
             "Đã chết nhưng còn đăng ký cư trú", "Deceased with an active residence"),
        Kind("residence_in_abolished_unit", Principle.LIVE, Severity.MEDIUM,
             "Cư trú tại đơn vị hành chính đã bị bãi bỏ", "Residence in an abolished unit"),
    ]
}
