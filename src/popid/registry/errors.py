"""Registry errors with stable codes (mapped to problem JSON in one place, popid.api)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = _("Không tìm thấy công dân")


class HouseholdNotFound(NotFound):
    code = "household_not_found"
    title = _("Không tìm thấy hộ gia đình")


class StaleVersion(Conflict):
    """Someone else changed the record since it was read (optimistic locking)."""

    code = "stale_version"
    title = _("Hồ sơ đã được người khác cập nhật, vui lòng tải lại")


class InvalidCommune(DomainError):
    code = "invalid_commune"
    status = 422
    title = _("Mã đơn vị hành chính cấp xã không hợp lệ")


class AbolishedCommune(InvalidCommune):
    code = "abolished_commune"
    title = _("Đơn vị hành chính cấp xã đã bị bãi bỏ")


class ImpossibleDate(DomainError):
    code = "impossible_date"
    status = 422
    title = _("Ngày tháng không hợp lệ")


class DeathBeforeBirth(ImpossibleDate):
    code = "death_before_birth"
    title = _("Ngày chết trước ngày sinh")


class ChildBornBeforeParent(ImpossibleDate):
    code = "child_before_parent"
    title = _("Con sinh trước cha/mẹ")


class InvalidCode(DomainError):
    code = "invalid_code"
    status = 422
    title = _("Mã không có trong danh mục")


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409
    title = _("Không thể thực hiện với trạng thái hiện tại của hồ sơ")


class IdNumberUnavailable(Conflict):
    code = "id_number_unavailable"
    title = _("Không cấp được số định danh")


class MergeRefused(DomainError):
    """A merge or split that the registry cannot carry out (same person, dead or merged record,
    undo window passed, already split)."""

    code = "merge_refused"
    status = 409
    title = _("Không thể hợp nhất hoặc tách hồ sơ")
