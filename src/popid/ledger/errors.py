"""Domain errors of the access ledger (mapped to RFC 9457 problems by popid.api)."""

from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError, NotFound


class LeafIndexOutOfRange(DomainError):
    """No leaf with this index in a tree of that size: no such audit path (404)."""

    code = "leaf_index_out_of_range"
    status = 404
    title = _("Chỉ số lá nằm ngoài cây")


class TreeSizeOutOfRange(DomainError):
    """A consistency proof from a larger to a smaller tree does not exist (404)."""

    code = "tree_size_out_of_range"
    status = 404
    title = _("Kích thước cây không hợp lệ")


class TreeSizeNotReached(NotFound):
    """A tree size the log has not reached (yet): no such tree, so no proof against it (404)."""

    code = "tree_size_not_reached"
    title = _("Sổ cái chưa đạt kích thước cây này")


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    title = _("Không có điểm kiểm tra với kích thước này")


class LedgerEmpty(NotFound):
    code = "ledger_empty"
    title = _("Sổ cái chưa có điểm kiểm tra nào")
