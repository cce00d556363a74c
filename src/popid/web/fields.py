"""Form fields shared by the console and the portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.core import admin_units


class CommuneField(forms.CharField):
    """A commune by name or code: a phone user types "hoan kiem" and picks from the list (no number
    pad, issue #19 item 7); the cleaned value is the commune's code. The page supplies the
    ``communes`` datalist."""

    def __init__(self, *, required: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Xã/phường (tên hoặc mã)"))
        super().__init__(max_length=100, required=required,
                         widget=forms.TextInput(attrs={"list": "communes", "autocomplete": "off"}), **kwargs)

    def clean(self, value: Any) -> str:
        typed = str(super().clean(value) or "").strip()
        if not typed:
            return ""
        found = admin_units.find_communes(typed)
        if not found:
            raise forms.ValidationError(_("Không có xã/phường nào tên hoặc mã “%(typed)s”."), params={"typed": typed})
        if len(found) > 1:
            names = "; ".join(admin_units.commune_label(u.code) for u in found[:5])
            raise forms.ValidationError(
                _("Có %(count)s xã/phường trùng tên “%(typed)s”: %(names)s. Hãy chọn trong danh sách."),
                params={"count": len(found), "typed": typed, "names": names})
        return found[0].code
