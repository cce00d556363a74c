"""Citizen and officer forms: they parse what the browser sends; every rule (registry match,
password and passcode strength, photo checks) lives in ``identity.services``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}
CODE_WIDGET = forms.TextInput(attrs={**NUMERIC, "autocomplete": "one-time-code", "maxlength": "6",
                                     "pattern": "[0-9]{6}"})


ID_NUMBER_LABEL = _("Số định danh cá nhân")


def _id_number_field(label: StrOrPromise = ID_NUMBER_LABEL) -> forms.CharField:
    return forms.CharField(label=label, max_length=12, min_length=12,
                           widget=forms.TextInput(attrs={**NUMERIC, "autocomplete": "username"}))


class RegisterForm(forms.Form):
    id_number = _id_number_field()
    full_name = forms.CharField(label=_("Họ, chữ đệm và tên"), max_length=150)
    birth_date = forms.DateField(label=_("Ngày sinh"), widget=DATE_WIDGET)
    phone = forms.CharField(label=_("Số điện thoại"), max_length=15,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    email = forms.EmailField(label=_("Thư điện tử (không bắt buộc)"), required=False)
    face_photo = forms.FileField(label=_("Ảnh chân dung (JPEG/PNG, tối đa 2 MB)"),
                                 widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))
    password = forms.CharField(label=_("Mật khẩu (ít nhất 10 ký tự)"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label=_("Nhập lại mật khẩu"), strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    passcode = forms.CharField(label=_("Mã bảo vệ (6 chữ số)"), max_length=6, min_length=6,
                               widget=forms.PasswordInput(attrs=NUMERIC))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("Hai mật khẩu không giống nhau"))
        return data


class OtpForm(forms.Form):
    code = forms.CharField(label=_("Mã OTP (6 chữ số)"), max_length=6, widget=CODE_WIDGET)


class RecoveryOtpForm(OtpForm):
    new_password = forms.CharField(label=_("Mật khẩu mới"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class ProofOfWorkFields(forms.Form):
    """Hidden fields of a login form for ``core.throttle``'s proof-of-work challenge: the server
    puts a signed challenge in ``pow_challenge``; ``identity/pow.js`` writes the solution."""

    pow_challenge = forms.CharField(required=False, widget=forms.HiddenInput)  # lengths: core.throttle
    pow_solution = forms.CharField(required=False, widget=forms.HiddenInput)
    pow_bits = 0

    def offer_challenge(self, *, scope: str, bits: int) -> None:
        """Show a fresh challenge (a spent one is useless, so never the posted one)."""
        from popid.core import throttle

        if bits <= 0:
            return
        challenge = throttle.issue_challenge(scope=scope, bits=bits)
        if self.is_bound:
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data[self.add_prefix("pow_challenge")] = challenge
            data[self.add_prefix("pow_solution")] = ""
            self.data = data
        self.initial.update(pow_challenge=challenge, pow_solution="")
        self.fields["pow_challenge"].widget.attrs.update({"data-pow-bits": str(bits)})
        self.pow_bits = bits

    def pow_values(self) -> dict[str, str]:
        """The posted challenge and solution (raw: they are verified by ``core.throttle``)."""
        return {"pow_challenge": str(self.data.get(self.add_prefix("pow_challenge"), ""))[:400],
                "pow_solution": str(self.data.get(self.add_prefix("pow_solution"), ""))[:20]}


class LoginForm(ProofOfWorkFields):
    id_number = _id_number_field(_("Số định danh cá nhân (tên đăng nhập)"))
    password = forms.CharField(label=_("Mật khẩu"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["id_number", "password"]


class SecondFactorForm(forms.Form):
    code = forms.CharField(label=_("Mã bảo vệ 6 số hoặc mã TOTP"), max_length=6,
                           widget=forms.PasswordInput(attrs=NUMERIC))


class RecoveryStartForm(forms.Form):
    id_number = _id_number_field()
    phone = forms.CharField(label=_("Số điện thoại đã đăng ký"), max_length=15)


class UnlockStartForm(LoginForm):
    pass


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Mật khẩu hiện tại"), strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("Mật khẩu mới"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class ChangePasscodeForm(forms.Form):
    password = forms.CharField(label=_("Mật khẩu"), strip=False, widget=forms.PasswordInput)
    new_passcode = forms.CharField(label=_("Mã bảo vệ mới (6 chữ số)"), max_length=6,
                                   widget=forms.PasswordInput(attrs=NUMERIC))


class TotpCodeForm(forms.Form):
    code = forms.CharField(label=_("Mã từ ứng dụng xác thực"), max_length=6, widget=CODE_WIDGET)


class LockForm(forms.Form):
    reason = forms.CharField(label=_("Lý do (không bắt buộc)"), max_length=300, required=False)


class WardForm(forms.Form):
    ward_id_number = _id_number_field(_("Số định danh của con hoặc người được giám hộ"))
    passcode = forms.CharField(label=_("Mã bảo vệ của bạn"), max_length=6, widget=forms.PasswordInput(attrs=NUMERIC))


class Level2Form(forms.Form):
    card_number = forms.CharField(label=_("Số thẻ căn cước đã kiểm tra"), max_length=12,
                                  widget=forms.TextInput(attrs=NUMERIC))


class OfficerReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=300)
