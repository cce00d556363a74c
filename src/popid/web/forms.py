"""Console frame forms: the staff login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from popid.core import throttle
from popid.core.models import StaffRole
from popid.core.net import Client
from popid.identity.forms import ProofOfWorkFields


class StaffLoginForm(AuthenticationForm, ProofOfWorkFields):
    """Django's login form, refusing accounts that hold no staff role in PopID."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": _("Tài khoản này không phải tài khoản cán bộ, không được dùng giao diện nghiệp vụ."),
    }
    challenge_bits = 0

    def clean(self) -> dict[str, Any]:
        """Throttled by ``core.throttle.begin_login`` (scope ``console-login``) before the password
        is looked at: known devices have their own back-off, other browsers share the account's,
        and from an address with many failures a solved proof-of-work challenge is needed."""
        username = self.cleaned_data.get("username") or ""
        client = Client.of(self.request) if self.request is not None else Client(ip="unknown")
        attempt = throttle.begin_login(client, scope=throttle.CONSOLE_LOGIN,
                                       account=username, **self.pow_values())
        if attempt.verdict.challenge_bits:
            self.challenge_bits = attempt.verdict.challenge_bits
            raise forms.ValidationError(
                _("Có nhiều lần đăng nhập sai từ địa chỉ mạng này. Trình duyệt của bạn giải một bài toán xác minh "
                  "tự động (vài giây); khi nút Đăng nhập sáng lại, hãy bấm lần nữa."), code="challenge_required")
        if not attempt.verdict.allowed:
            raise forms.ValidationError(
                _("Đăng nhập sai nhiều lần. Vui lòng thử lại sau %(seconds)d giây.")
                % {"seconds": attempt.verdict.retry_after}, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        return cleaned

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not StaffRole.objects.filter(user=user).exists():
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")
