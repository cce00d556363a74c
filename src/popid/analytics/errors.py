"""Domain errors of the analytics app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError


class StoreRefused(DomainError):
    """A row that does not fit the store's schema (never written)."""

    code = "analytics_store_refused"
    status = 422
    title = _("Dữ liệu không phù hợp với kho phân tích")


class OutsideJurisdiction(DomainError):
    code = "analytics_outside_jurisdiction"
    status = 404
    title = _("Không có dữ liệu phân tích cho đơn vị này trong phạm vi quản lý của cán bộ")


class UnknownCategory(DomainError):
    code = "analytics_unknown_category"
    status = 404
    title = _("Không có loại số liệu này")


class AlertNotFound(DomainError):
    code = "analytics_alert_not_found"
    status = 404
    title = _("Không tìm thấy cảnh báo")


class NoticeNotFound(DomainError):
    code = "analytics_notice_not_found"
    status = 404
    title = _("Không tìm thấy thông báo")


class BadStaffingAssumption(DomainError):
    code = "analytics_bad_staffing_assumption"
    status = 422
    title = _("Giả định tính nhân lực không hợp lệ")
