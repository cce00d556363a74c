"""Console forms for agencies, subsystems and grants (administrators), and nothing else: the
services validate again, so a form is only the first line of defence."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from popid.exchange.fields import FIELDS
from popid.exchange.models import EventType, Service


class AgencyForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Mã cơ quan"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Tên cơ quan, tổ chức"), max_length=200)
    kind = forms.CharField(label=gettext_lazy("Loại (ngân hàng, bệnh viện, bộ ngành…)"), max_length=40,
                           required=False)
    rate_per_minute = forms.IntegerField(label=gettext_lazy("Số yêu cầu tối đa mỗi phút"), min_value=1,
                                         initial=600)
    daily_quota = forms.IntegerField(label=gettext_lazy("Hạn mức mỗi ngày (số người)"), min_value=1,
                                     initial=100_000)


class LimitsForm(forms.Form):
    rate_per_minute = forms.IntegerField(label=gettext_lazy("Số yêu cầu tối đa mỗi phút"), min_value=1)
    daily_quota = forms.IntegerField(label=gettext_lazy("Hạn mức mỗi ngày (số người)"), min_value=1)


class SubsystemForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Mã hệ thống"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Tên hệ thống thông tin"), max_length=200)
    jwk = forms.CharField(label=gettext_lazy("Khóa công khai (JWK hoặc JWKS, JSON)"),
                          widget=forms.Textarea(attrs={"rows": 5}))

    def clean_jwk(self) -> Any:
        try:
            return json.loads(self.cleaned_data["jwk"])
        except ValueError as exc:
            raise forms.ValidationError(_("Khóa không phải JSON hợp lệ")) from exc


class GrantForm(forms.Form):
    subsystem = forms.ChoiceField(label=gettext_lazy("Hệ thống"))
    service = forms.ChoiceField(label=gettext_lazy("Dịch vụ"), choices=Service.choices)
    # not named "fields": that is the form's own field dictionary
    released_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Trường dữ liệu (trường nhạy cảm * cần công dân đồng ý)"), required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(f.name, f"{f.label}{' *' if f.sensitive else ''}") for f in FIELDS.values()])
    event_types = forms.MultipleChoiceField(label=gettext_lazy("Sự kiện (dịch vụ nhận sự kiện)"), required=False,
                                            widget=forms.CheckboxSelectMultiple, choices=EventType.choices)
    legal_basis = forms.CharField(label=gettext_lazy("Căn cứ pháp lý"), max_length=200)
    expires_on = forms.DateField(label=gettext_lazy("Hiệu lực đến hết ngày"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    confidential_allowed = forms.BooleanField(
        label=gettext_lazy("Được tra cứu bảo mật (ẩn với công dân đến một thời điểm)"), required=False)

    def __init__(self, *args: Any, subsystems: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["subsystem"]).choices = subsystems
