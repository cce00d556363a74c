"""Domain errors of the access ledger (mapped to RFC 9457 problems by popid.api)."""

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError, NotFound


class LeafIndexOutOfRange(DomainError):
    code = "leaf_index_out_of_range"
    status = 400
    title = _("Chỉ số lá nằm ngoài cây")


class TreeSizeOutOfRange(DomainError):
    code = "tree_size_out_of_range"
    status = 400
    title = _("Kích thước cây không hợp lệ")


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    title = _("Không có điểm kiểm tra với kích thước này")


class LedgerEmpty(NotFound):
    code = "ledger_empty"
    title = _("Sổ cái chưa có điểm kiểm tra nào")
