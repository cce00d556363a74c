"""Errors of the data-sharing services, each with a stable code an agency can act on
(mapped to RFC 9457 problem JSON by popid.api, shown translated in the console)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError, NotFound, PermissionDenied


class AgencyNotFound(NotFound):
    code = "agency_not_found"
    title = _("Không tìm thấy cơ quan, tổ chức")


class ServiceNotGranted(PermissionDenied):
    code = "service_not_granted"
    title = _("Hệ thống chưa được cấp quyền dùng dịch vụ này")


class GrantExpired(PermissionDenied):
    code = "grant_expired"
    title = _("Quyền khai thác dữ liệu đã hết hạn")


class FieldNotGranted(PermissionDenied):
    code = "field_not_granted"
    title = _("Trường dữ liệu nằm ngoài phạm vi được cấp")


class ConfidentialNotAllowed(PermissionDenied):
    code = "confidential_not_allowed"
    title = _("Cơ quan không được phép tra cứu bảo mật (ẩn với công dân)")


class ConsentRequired(PermissionDenied):
    """Sensitive fields without a usable consent. ``code`` says why: missing, pending, refused,
    expired or revoked, so the agency knows whether asking again makes sense."""

    code = "consent_missing"
    title = _("Cần sự đồng ý của công dân cho dữ liệu nhạy cảm")


class ConsentPending(ConsentRequired):
    code = "consent_pending"
    title = _("Công dân chưa trả lời yêu cầu đồng ý")


class ConsentRefused(ConsentRequired):
    code = "consent_refused"
    title = _("Công dân đã từ chối chia sẻ dữ liệu nhạy cảm")


class ConsentExpired(ConsentRequired):
    code = "consent_expired"
    title = _("Sự đồng ý của công dân đã hết hạn")


class ConsentRevoked(ConsentRequired):
    code = "consent_revoked"
    title = _("Công dân đã thu hồi sự đồng ý")


class ConsentNotFound(NotFound):
    code = "consent_not_found"
    title = _("Không tìm thấy yêu cầu đồng ý")


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    status = 413
    title = _("Lô yêu cầu vượt quá số lượng cho phép")


class Throttled(DomainError):
    """429 with ``Retry-After``: per-minute rate or daily quota of the agency used up."""

    code = "rate_limited"
    status = 429
    title = _("Vượt quá tần suất yêu cầu cho phép")

    def __init__(self, detail: str = "", *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class QuotaExceeded(Throttled):
    code = "quota_exceeded"
    title = _("Đã dùng hết hạn mức yêu cầu trong ngày")
