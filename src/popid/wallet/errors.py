"""Stable error codes of the wallet (problem JSON through popid.api, messages on pages)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError, NotFound


class DocumentUnavailable(NotFound):
    code = "document_unavailable"
    title = _("Không cấp được giấy tờ số")


class WalletLevelRequired(DomainError):
    code = "level2_required"
    status = 403
    title = _("Ví giấy tờ chỉ dành cho tài khoản định danh mức độ 2")


class PresentationRefused(DomainError):
    """A presentation that failed verification; ``reason`` is the sdjwt/verify reason code."""

    code = "presentation_refused"
    status = 422
    title = _("Giấy tờ số không được chấp nhận")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason, reason=reason)
        self.reason = reason


class VerifierSessionNotFound(NotFound):
    code = "verifier_session_not_found"
    title = _("Không tìm thấy phiên xác minh")
