"""Stable error codes of police operations."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound


class ReportNotFound(NotFound):
    code = "police_report_not_found"
    title = _("Không tìm thấy tin báo")


class CaseNotFound(NotFound):
    code = "police_case_not_found"
    title = _("Không tìm thấy hồ sơ vụ việc")


class InvalidReportState(Conflict):
    code = "police_invalid_report_state"
    title = _("Trạng thái tin báo không cho phép thao tác này")


class CaseClosed(Conflict):
    code = "police_case_closed"
    title = _("Hồ sơ vụ việc đã đóng")


class DocumentTooLarge(DomainError):
    """A case document over ``services.MAX_ATTACHMENT_BYTES``, refused from the upload's declared
    size before it is read (API: 413)."""

    code = "police_document_too_large"
    status = 413
    title = _("Tài liệu vượt quá dung lượng cho phép")
