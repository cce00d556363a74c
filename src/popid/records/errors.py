from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError, NotFound


class ScanRejected(DomainError):
    code = "records_scan_rejected"
    status = 422
    title = _("Tệp quét không hợp lệ")


class OcrFailed(DomainError):
    code = "records_ocr_failed"
    status = 503
    title = _("Không nhận dạng được văn bản")


class RecordNotFound(NotFound):
    code = "records_not_found"
    title = _("Không tìm thấy hồ sơ số hoá")


class LinkNotFound(NotFound):
    code = "records_link_not_found"
    title = _("Không tìm thấy đề xuất liên kết")


class LinkAlreadyDecided(DomainError):
    code = "records_link_decided"
    status = 409
    title = _("Đề xuất liên kết đã được xử lý")
