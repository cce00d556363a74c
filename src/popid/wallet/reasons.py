"""Why a presentation was refused, in words a verifier at a counter understands: one text per
reason code of ``wallet.verify`` (the verifier pages and the verifier API both show them)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REASONS: dict[str, Promise] = {
    "oversized": _("Dữ liệu quá lớn, không phải mã QR giấy tờ hợp lệ"),
    "malformed": _("Dữ liệu không đúng định dạng giấy tờ số (SD-JWT)"),
    "alg_none": _("Giấy tờ không có chữ ký (alg: none) — không bao giờ chấp nhận"),
    "unsupported_alg": _("Thuật toán ký không được hỗ trợ"),
    "wrong_type": _("Loại giấy tờ không đúng hoặc không do cơ quan này cấp"),
    "untrusted_issuer": _("Cơ quan cấp không nằm trong danh sách được tin cậy"),
    "issuer_metadata_unavailable": _("Không tải được khóa công khai của cơ quan cấp"),
    "issuer_metadata_invalid": _("Thông tin công bố của cơ quan cấp không hợp lệ"),
    "unknown_issuer_key": _("Cơ quan cấp không có khóa ký này"),
    "bad_signature": _("Chữ ký của cơ quan cấp không hợp lệ (giấy tờ bị sửa hoặc chữ ký bị thay)"),
    "missing_key_binding": _("Thiếu chữ ký của người giữ giấy tờ (key binding)"),
    "bad_holder_key": _("Khóa của người giữ giấy tờ không hợp lệ"),
    "bad_key_binding_signature": _("Chữ ký của người giữ giấy tờ không hợp lệ"),
    "sd_hash_mismatch": _("Bản trình bày đã bị sửa sau khi người giữ ký (thông tin tiết lộ bị thay đổi)"),
    "wrong_audience": _("Bản trình bày được tạo cho bên xác minh khác"),
    "unsupported_sd_alg": _("Thuật toán băm của thông tin tiết lộ (_sd_alg) không được hỗ trợ"),
    "malformed_sd": _("Danh sách mã băm của giấy tờ (_sd) sai định dạng"),
    "malformed_disclosure": _("Thông tin tiết lộ sai định dạng"),
    "misplaced_disclosure": _("Thông tin tiết lộ sai vị trí (phần tử mảng dùng như thuộc tính hoặc ngược lại)"),
    "forbidden_claim_name": _("Thông tin tiết lộ dùng tên bị cấm"),
    "claim_name_collision": _("Thông tin tiết lộ trùng tên với thông tin đã có"),
    "duplicate_disclosure": _("Thông tin tiết lộ bị lặp"),
    "duplicate_digest": _("Giấy tờ chứa cùng một mã băm nhiều lần"),
    "unreferenced_disclosure": _("Thông tin tiết lộ không thuộc giấy tờ này (bị sửa, lấy từ giấy tờ khác, "
                                 "hoặc thiếu thông tin chứa nó)"),
    "credential_expired": _("Giấy tờ số đã hết hạn"),
    "credential_not_yet_valid": _("Giấy tờ số chưa có hiệu lực"),
    "status_unavailable": _("Không kiểm tra được trạng thái giấy tờ"),
    "status_unknown": _("Trạng thái giấy tờ không xác định"),
    "revoked": _("Giấy tờ đã bị thu hồi"),
    "suspended": _("Giấy tờ đang bị tạm đình chỉ (tạm giữ)"),
    "wrong_nonce": _("Bản trình bày không dùng mã phiên xác minh này"),
    "nonce_replayed": _("Mã phiên đã được dùng: bản trình bày bị phát lại"),
    "verifier_session_expired": _("Phiên xác minh đã hết hạn"),
    "presentation_expired": _("Mã QR đã quá 60 giây"),
    "presentation_from_future": _("Thời điểm tạo bản trình bày không hợp lệ"),
    "reference_unknown": _("Mã QR rút gọn không tồn tại hoặc không dành cho phiên xác minh này"),
    "reference_expired": _("Mã QR rút gọn đã quá 60 giây"),
    "reference_unavailable": _("Không tải được bản trình bày của mã QR rút gọn"),
}


def reason_text(code: str, default: str = "") -> str:
    """The refusal text for ``code`` (``default``, else the code itself, for an unknown one)."""
    text = REASONS.get(code)
    return str(text) if text is not None else (default or code)
