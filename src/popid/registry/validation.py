"""Domain checks shared by the registry commands: codes, communes, dates.

Each raises a typed error naming the field, so the API answers with a problem response that
says which field is wrong and why, and the console shows the same message on the form.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.codes import NATIONALITIES, RELIGIONS, is_ethnic_group
from popid.core.text import clean_display_name
from popid.registry.errors import AbolishedCommune, ImpossibleDate, InvalidCode, InvalidCommune

BLOOD_TYPES = {"", "O", "A", "B", "AB", "O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"}


def today() -> date:
    return timezone.localdate()


def require_commune(code: str, *, field: str = "commune_code") -> admin_units.Unit:
    """An active 2025 commune; abolished pre-2025 codes get their own error."""
    unit = admin_units.commune(code or "")
    if unit is not None:
        return unit
    if admin_units.is_abolished_commune(code or ""):
        raise AbolishedCommune(_("Mã %(code)s thuộc đơn vị đã bị bãi bỏ từ 01/07/2025") % {"code": code},
                               field=field)
    raise InvalidCommune(_("Mã %(code)s không phải là đơn vị hành chính cấp xã") % {"code": code}, field=field)


def require_not_future(value: date, *, field: str) -> date:
    if value > today():
        raise ImpossibleDate(_("Ngày không được ở tương lai"), field=field)
    return value


def require_ethnicity(code: str, *, field: str = "ethnicity_code") -> str:
    if not is_ethnic_group(code):
        raise InvalidCode(_("Mã dân tộc %(code)s không có trong danh mục 54 dân tộc") % {"code": code}, field=field)
    return code


def require_religion(code: str, *, field: str = "religion_code") -> str:
    if code not in RELIGIONS:
        raise InvalidCode(_("Mã tôn giáo %(code)s không có trong danh mục") % {"code": code}, field=field)
    return code


def require_nationality(code: str, *, field: str = "nationality") -> str:
    if code not in NATIONALITIES:
        raise InvalidCode(_("Mã quốc tịch %(code)s không được hỗ trợ") % {"code": code}, field=field)
    return code


def require_blood_type(value: str, *, field: str = "blood_type") -> str:
    if value not in BLOOD_TYPES:
        raise InvalidCode(_("Nhóm máu %(value)s không hợp lệ") % {"value": value}, field=field)
    return value


def require_name(value: str, *, field: str = "full_name") -> str:
    name = clean_display_name(value or "")
    if not name or len(name) > 150 or any(ch.isdigit() for ch in name):
        raise InvalidCode(_("Họ tên không hợp lệ"), field=field)
    return name
