"""Stable error codes of police operations."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, NotFound


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
