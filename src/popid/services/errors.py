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


class SubmissionNotFound(NotFound):
    code = "submission_not_found"
    title = _("Không tìm thấy hồ sơ chờ nộp")


class PaymentNotExpected(DomainError):
    code = "payment_not_expected"
    status = 409
    title = _("Hồ sơ này không ở trạng thái chờ thanh toán")


# --- gateway notices (callbacks and status answers): refused, nothing changed -------------------
class NoticeForged(DomainError):
    code = "payment_signature_invalid"
    status = 401
    title = _("Chữ ký thông báo thanh toán không hợp lệ")


class NoticeMalformed(DomainError):
    code = "payment_notice_malformed"
    status = 400
    title = _("Thông báo thanh toán sai định dạng")


class NoticeStale(DomainError):
    code = "payment_notice_stale"
    status = 400
    title = _("Thông báo thanh toán đã quá hạn hoặc có thời điểm không hợp lệ")


class NoticeReplayed(Conflict):
    code = "payment_notice_replayed"
    title = _("Thông báo thanh toán này đã được nhận trước đó")


class PaymentOrderNotFound(NotFound):
    code = "payment_order_not_found"
    title = _("Không tìm thấy giao dịch thanh toán")


class PaymentAmountMismatch(DomainError):
    code = "payment_amount_mismatch"
    status = 422
    title = _("Số tiền thanh toán không khớp với lệ phí")


class RefundNotAllowed(Conflict):
    code = "refund_not_allowed"
    title = _("Không thể hoàn tiền cho giao dịch này")


class SettlementReportUnavailable(DomainError):
    code = "settlement_report_unavailable"
    status = 502
    title = _("Không lấy được bảng kê đối soát của ngân hàng")
