"""Console frame forms: the staff login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from popid.core import throttle
from popid.core.models import StaffRole


class StaffLoginForm(AuthenticationForm):
    """Django's login form, refusing accounts that hold no staff role in PopID."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": _("Tài khoản này không phải tài khoản cán bộ, không được dùng giao diện nghiệp vụ."),
    }

    def clean(self) -> dict[str, Any]:
        """Throttled per account and client IP (core.throttle): slows guessing, never locks out."""
        username = self.cleaned_data.get("username") or ""
        ip = throttle.client_ip(self.request) if self.request else "unknown"
        verdict = throttle.check(scope="console-login", account=username, ip=ip)
        if not verdict.allowed:
            raise forms.ValidationError(
                _("Đăng nhập sai nhiều lần. Vui lòng thử lại sau %(seconds)d giây.") % {"seconds": verdict.retry_after},
                code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(scope="console-login", account=username, ip=ip)
            raise
        throttle.record_success(scope="console-login", account=username, ip=ip)
        return cleaned

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not StaffRole.objects.filter(user=user).exists():
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")
