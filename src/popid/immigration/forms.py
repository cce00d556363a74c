"""Forms of the establishment staff pages and the police console."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.immigration.models import Entries, Sex, VisaKind


class ArrivalForm(forms.Form):
    """The MRZ (typed or from a scanner that types it) fills the guest fields: the "Đọc MRZ"
    button posts ``action=read`` and the page comes back with the fields filled in."""

    mrz = forms.CharField(label=_("Vùng đọc máy (MRZ) trên hộ chiếu"), required=False,
                          widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "autocomplete": "off",
                                                       "spellcheck": "false"}),
                          help_text=_("2 dòng × 44 ký tự (hộ chiếu) hoặc 3 dòng × 30 ký tự (thẻ)"))
    nationality = forms.CharField(label=_("Quốc tịch (mã ICAO)"), max_length=3, required=False)
    document_number = forms.CharField(label=_("Số hộ chiếu"), max_length=20, required=False)
    surname = forms.CharField(label=_("Họ"), max_length=80, required=False)
    given_names = forms.CharField(label=_("Tên"), max_length=120, required=False)
    birth_date = forms.DateField(label=_("Ngày sinh"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Giới tính"), choices=Sex.choices, initial=Sex.UNSPECIFIED)
    document_expiry = forms.DateField(label=_("Hộ chiếu có giá trị đến"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    arrival_at = forms.DateTimeField(label=_("Thời điểm đến"),
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    room = forms.CharField(label=_("Phòng"), max_length=20, required=False)
    visa_number = forms.CharField(label=_("Số thị thực / thẻ tạm trú"), max_length=30, required=False)
    visa_kind = forms.ChoiceField(label=_("Loại"), choices=VisaKind.choices, initial=VisaKind.E_VISA)
    visa_entries = forms.ChoiceField(label=_("Số lần nhập cảnh"), choices=Entries.choices, initial=Entries.SINGLE)
    visa_valid_from = forms.DateField(label=_("Thị thực có giá trị từ"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    visa_valid_until = forms.DateField(label=_("Thị thực có giá trị đến"), required=False,
                                       widget=forms.DateInput(attrs={"type": "date"}))


class DepartureForm(forms.Form):
    stay = forms.IntegerField(widget=forms.HiddenInput)
    departure_at = forms.DateTimeField(label=_("Thời điểm đi"),
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class CsvForm(forms.Form):
    file = forms.FileField(label=_("Tệp CSV (UTF-8)"))


class LookupForm(forms.Form):
    nationality = forms.CharField(label=_("Quốc tịch (mã ICAO)"), max_length=3)
    document_number = forms.CharField(label=_("Số hộ chiếu"), max_length=20)


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Kết quả xem xét"), max_length=300)


class PassportLossForm(forms.Form):
    """The holder's declaration of a lost passport (Law on Exit and Entry 2019, Art. 28)."""

    lost_on = forms.DateField(label=_("Ngày phát hiện mất"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("Nơi mất"), max_length=200)
    circumstances = forms.CharField(label=_("Hoàn cảnh bị mất"), max_length=500, required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("Tôi hiểu hộ chiếu này bị hủy giá trị ngay và không dùng lại được"))
