"""Typed domain errors with stable codes; one handler (core.problems) turns them into
RFC 9457 problem responses, and the console shows their translated title and detail."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    status = 400
    title: Any = _("Yêu cầu không hợp lệ")

    def __init__(self, detail: str | Any = "", *, field: str | None = None, **extra: Any) -> None:
        super().__init__(str(detail) or str(self.title))
        self.detail = detail
        self.field = field
        self.extra = extra

    def errors(self) -> list[dict[str, str]]:
        if not self.field:
            return []
        return [{"field": self.field, "reason": self.code, "message": str(self.detail or self.title)}]


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422
    title = _("Dữ liệu không hợp lệ")

    def __init__(self, errors: list[dict[str, str]], detail: str | Any = "") -> None:
        super().__init__(detail or _("Một hoặc nhiều trường không hợp lệ"))
        self._errors = errors

    def errors(self) -> list[dict[str, str]]:
        return self._errors


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = _("Không tìm thấy")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = _("Không có quyền thực hiện")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = _("Xung đột dữ liệu")
