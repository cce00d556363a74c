"""Stable error codes of the immigration database (problem JSON under /api/, messages on pages)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class EstablishmentNotFound(NotFound):
    code = "establishment_not_found"
    title = _("Không tìm thấy cơ sở lưu trú")


class ForeignPersonNotFound(NotFound):
    code = "foreign_person_not_found"
    title = _("Không tìm thấy người nước ngoài")


class NotEstablishmentStaff(PermissionDenied):
    code = "not_establishment_staff"
    title = _("Không được khai báo cho cơ sở lưu trú này")


class PassportExpired(DomainError):
    code = "passport_expired"
    status = 422
    title = _("Hộ chiếu đã hết hạn vào ngày đến")


class DepartureBeforeArrival(DomainError):
    code = "departure_before_arrival"
    status = 422
    title = _("Thời điểm đi trước thời điểm đến")


class ArrivalInFuture(DomainError):
    code = "arrival_in_future"
    status = 422
    title = _("Thời điểm đến ở tương lai")


class VietnameseGuest(DomainError):
    code = "vietnamese_guest"
    status = 422
    title = _("Khách là công dân Việt Nam: dùng thủ tục thông báo lưu trú")


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    title = _("Khách đang lưu trú tại cơ sở này")


class NoOpenStay(Conflict):
    code = "no_open_stay"
    title = _("Khách không có lượt lưu trú đang mở tại cơ sở này")


class InvalidVisa(DomainError):
    code = "invalid_visa"
    status = 422
    title = _("Thị thực không hợp lệ")


class DocumentMismatch(DomainError):
    code = "document_mismatch"
    status = 422
    title = _("Thông tin nhập không khớp với MRZ")


class WatchHitNotFound(NotFound):
    code = "watch_hit_not_found"
    title = _("Không tìm thấy kết quả đối chiếu")


class BorderEventOrder(DomainError):
    code = "border_event_order"
    status = 422
    title = _("Xuất cảnh trước lần nhập cảnh gần nhất")


class PassportNotFound(NotFound):
    code = "passport_not_found"
    title = _("Không tìm thấy hộ chiếu")


class PassportAlreadyLost(Conflict):
    code = "passport_already_lost"
    title = _("Hộ chiếu đã được báo mất")
