from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.records.models import OcrState, RecordKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại hồ sơ"), choices=RecordKind.choices)
    title = forms.CharField(label=_("Tiêu đề"), max_length=300)
    original_ref = forms.CharField(label=_("Số hiệu bản gốc"), max_length=120, required=False)
    unit_code = forms.CharField(label=_("Mã đơn vị (xã/phường hoặc tỉnh)"), max_length=5, required=False,
                                help_text=_("Để trống: đơn vị của cán bộ"))
    file = forms.FileField(label=_("Tệp quét (PDF, PNG, JPEG, TIFF)"))


class LinkForm(forms.Form):
    id_number = forms.CharField(label=_("Số định danh (12 số) hoặc CMND (9 số)"), max_length=12)


class SearchForm(forms.Form):
    text = forms.CharField(label=_("Nội dung (có dấu hoặc không dấu)"), max_length=200, required=False)
    person = forms.CharField(label=_("Công dân (số định danh, CMND hoặc họ tên)"), max_length=100, required=False)
    place = forms.CharField(label=_("Địa bàn (mã xã/phường hoặc tỉnh)"), max_length=5, required=False)
    category = forms.CharField(label=_("Loại (loại hồ sơ hoặc loại tin báo)"), max_length=40, required=False)
    date_from = forms.DateField(label=_("Từ ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # paging links set these; a new search from the form starts again on page 1 of every list
    kind = forms.ChoiceField(choices=[("", ""), ("pages", "pages"), ("reports", "reports"), ("cases", "cases")],
                             required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(min_value=1, max_value=200, required=False, widget=forms.HiddenInput)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Đến ngày phải sau từ ngày"))
        return data


STATE_CHOICES = [("", _("Tất cả")), *OcrState.choices]
