"""Matching errors: stable codes, translatable Vietnamese titles (core.errors.DomainError)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound


class MatchInputError(DomainError):
    """A file or option the matcher cannot use; nothing was written."""

    code = "match_input_invalid"
    status = 422
    title = _("Dữ liệu đầu vào không dùng được để so khớp")


class NothingToCompare(MatchInputError):
    code = "match_nothing_to_compare"
    title = _("Không có trường nào để so sánh")


class ModelFileInvalid(MatchInputError):
    code = "match_model_invalid"
    title = _("Tệp mô hình so khớp không hợp lệ")


class ModelFeatureMismatch(MatchInputError):
    code = "match_model_fields_mismatch"
    title = _("Mô hình được huấn luyện trên bộ trường khác")


class PairNotFound(NotFound):
    code = "match_pair_not_found"
    title = _("Không tìm thấy cặp hồ sơ cần xem xét")


class PairAlreadyDecided(Conflict):
    code = "match_pair_already_decided"
    title = _("Cặp hồ sơ này đã được cán bộ khác quyết định")
