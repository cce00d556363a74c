"""Stable error codes of the traffic app (mapped to problem JSON by popid.api)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound
from popid.traffic.plates import InvalidPlate

__all__ = ["AmountOutOfRange", "DecisionNotFound", "DetectionNotFound", "InvalidDetectionState", "InvalidEvidence",
           "InvalidPlate", "UnknownViolation"]


class UnknownViolation(DomainError):
    code = "unknown_violation"
    status = 422
    title = _("Mã lỗi vi phạm không có trong danh mục")


class InvalidEvidence(DomainError):
    code = "invalid_evidence"
    status = 422
    title = _("Ảnh bằng chứng không hợp lệ")


class DetectionNotFound(NotFound):
    code = "detection_not_found"
    title = _("Không tìm thấy phát hiện vi phạm")


class DecisionNotFound(NotFound):
    code = "decision_not_found"
    title = _("Không tìm thấy quyết định xử phạt")


class InvalidDetectionState(Conflict):
    code = "invalid_detection_state"
    title = _("Trạng thái của phát hiện vi phạm không cho phép thao tác này")


class AmountOutOfRange(DomainError):
    code = "amount_out_of_range"
    status = 422
    title = _("Mức phạt nằm ngoài khung của lỗi vi phạm")


class DecisionAlreadyPaid(Conflict):
    code = "decision_already_paid"
    title = _("Quyết định xử phạt đã được nộp phạt")


class DriverNotEligible(DomainError):
    code = "driver_not_eligible"
    status = 422
    title = _("Không có người có giấy phép lái xe phù hợp với số định danh này")


class NominationNotAllowed(Conflict):
    code = "nomination_not_allowed"
    title = _("Không thể nêu tên người điều khiển cho quyết định này")


class AppealNotAllowed(Conflict):
    code = "appeal_not_allowed"
    title = _("Không thể khiếu nại hoặc giải quyết khiếu nại cho quyết định này")
