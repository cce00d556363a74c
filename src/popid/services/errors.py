"""Typed errors of the public-service workflow."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class ProcedureNotFound(NotFound):
    code = "procedure_not_found"
    title = _("Không tìm thấy thủ tục")


class DossierNotFound(NotFound):
    code = "dossier_not_found"
    title = _("Không tìm thấy hồ sơ")


class NotEntitled(PermissionDenied):
    code = "not_entitled"
    title = _("Không đủ điều kiện nộp hồ sơ thủ tục này")


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = 409
    title = _("Trạng thái hồ sơ không cho phép thao tác này")


class StaleDossier(Conflict):
    code = "stale_version"
    title = _("Hồ sơ đã được người khác thay đổi, hãy tải lại")


class IdempotencyMismatch(Conflict):
    code = "idempotency_key_reused"
    title = _("Khóa chống trùng đã được dùng cho một hồ sơ khác")
