"""Typed errors of identity accounts: stable codes, translated titles (Vietnamese msgids).
Views show ``title``/``detail`` on the form; the field named in ``field`` gets the message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from popid.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class RegistryMismatch(DomainError):
    code = "registry_mismatch"
    status = 422
    title = _("Thông tin không khớp với Cơ sở dữ liệu quốc gia về dân cư")


class AccountExists(Conflict):
    code = "account_exists"
    title = _("Số định danh này đã có tài khoản định danh điện tử")


class InvalidPhoto(DomainError):
    code = "invalid_photo"
    status = 422
    title = _("Ảnh khuôn mặt không hợp lệ")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    title = _("Thông tin đăng nhập không đúng")


class Throttled(DomainError):
    code = "throttled"
    status = 429
    title = _("Thử sai quá nhiều lần")

    def __init__(self, retry_after: int) -> None:
        super().__init__(_("Vui lòng thử lại sau %(seconds)d giây.") % {"seconds": retry_after},
                         retry_after=retry_after)
        self.retry_after = retry_after


class ChallengeRequired(DomainError):
    """Many failed logins came from this address: the browser must solve a proof-of-work
    challenge first. Raised before the password is looked at, so it reveals nothing about it."""

    code = "challenge_required"
    status = 429
    title = _("Cần xác minh trình duyệt trước khi đăng nhập")

    def __init__(self, bits: int) -> None:
        super().__init__(_("Có nhiều lần đăng nhập sai từ địa chỉ mạng này. Trình duyệt của bạn giải một bài "
                           "toán xác minh tự động (vài giây); khi nút Đăng nhập sáng lại, hãy bấm lần nữa."))
        self.bits = bits


class OtpInvalid(DomainError):
    code = "otp_invalid"
    status = 422
    title = _("Mã OTP không đúng hoặc đã hết hạn")


class AccountLocked(PermissionDenied):
    code = "account_locked"
    title = _("Tài khoản đang bị khóa")


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = _("Không tìm thấy tài khoản định danh điện tử")


class LevelTwoRequired(PermissionDenied):
    code = "level2_required"
    title = _("Cần tài khoản định danh điện tử mức độ 2")


class CardMismatch(DomainError):
    code = "card_mismatch"
    status = 422
    title = _("Số thẻ căn cước không khớp với hồ sơ")


class GuardianshipRefused(PermissionDenied):
    code = "guardianship_refused"
    title = _("Không thể quản lý tài khoản này")
