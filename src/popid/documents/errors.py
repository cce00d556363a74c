"""Stable error codes of the document registries (mapped to problem JSON by popid.api)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound


class DocumentNotFound(NotFound):
    code = "document_not_found"
    title = _("Không tìm thấy giấy tờ")


class InvalidDocumentState(Conflict):
    code = "invalid_document_state"
    title = _("Trạng thái giấy tờ không cho phép thao tác này")


class InvalidLicenceClass(DomainError):
    code = "invalid_licence_class"
    status = 422
    title = _("Hạng giấy phép lái xe không hợp lệ")


class VehicleOnHold(Conflict):
    """A vehicle procedure refused while something unsettled is recorded against the vehicle
    (e.g. an overdue traffic fine); the detail names the reason."""

    code = "vehicle_on_hold"
    title = _("Phương tiện đang bị tạm dừng giải quyết thủ tục đăng ký")
