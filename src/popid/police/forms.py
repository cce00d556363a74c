"""Forms of the police pages; every rule beyond the field types is in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.police.catalogue import categories, outcomes
from popid.police.models import Channel, Confidentiality, DocumentKind, PersonRole


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _category_choices() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in categories().values()]


class ReportForm(forms.Form):
    category_code = forms.ChoiceField(label=_("Loại sự việc"), choices=_category_choices)
    commune_code = forms.CharField(label=_("Mã xã/phường nơi xảy ra"), max_length=5)
    latitude = forms.DecimalField(label=_("Vĩ độ (không bắt buộc)"), required=False, max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(label=_("Kinh độ (không bắt buộc)"), required=False, max_digits=9,
                                   decimal_places=6)
    occurred_at = forms.DateTimeField(label=_("Thời gian xảy ra"),
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    description = forms.CharField(label=_("Nội dung sự việc"), widget=forms.Textarea(attrs={"rows": 6}),
                                  required=False)
    attachments = forms.FileField(label=_("Tệp đính kèm (PDF, PNG, JPEG; tối đa 10 MB mỗi tệp)"), required=False,
                                  widget=MultipleFileInput)

    def __init__(self, *args: Any, allow_anonymous_choice: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allow_anonymous_choice:
            self.fields["anonymous"] = forms.BooleanField(
                label=_("Gửi ẩn danh (không gắn với tài khoản của tôi)"), required=False)


class CounterReportForm(ReportForm):
    """A report an officer records at the counter or from a phone call."""

    channel = forms.ChoiceField(label=_("Kênh tiếp nhận"), choices=[(Channel.COUNTER, Channel.COUNTER.label),
                                                                    (Channel.PHONE, Channel.PHONE.label)])


class TrackingForm(forms.Form):
    tracking_code = forms.CharField(label=_("Mã theo dõi"), max_length=64)


class ClassifyForm(forms.Form):
    category_code = forms.ChoiceField(label=_("Phân loại"), choices=_category_choices)
    note = forms.CharField(label=_("Ghi chú nội bộ"), required=False, max_length=2000)


class AssignForm(forms.Form):
    username = forms.CharField(label=_("Tên đăng nhập cán bộ"), max_length=150)


class TransferForm(forms.Form):
    note = forms.CharField(label=_("Lý do chuyển Công an tỉnh"), max_length=2000)


class ExtendForm(forms.Form):
    reason = forms.CharField(label=_("Lý do gia hạn"), max_length=2000)


class DecideForm(forms.Form):
    outcome_code = forms.ChoiceField(label=_("Kết quả giải quyết"),
                                     choices=lambda: [(o.code, o.name) for o in outcomes().values()])
    note = forms.CharField(label=_("Ghi chú nội bộ"), required=False, max_length=2000)


class OpenCaseForm(forms.Form):
    title = forms.CharField(label=_("Tên hồ sơ vụ việc"), max_length=300)
    confidentiality = forms.ChoiceField(label=_("Độ mật"), choices=Confidentiality.choices)


class LinkPersonForm(forms.Form):
    id_number = forms.CharField(label=_("Số định danh cá nhân"), max_length=12)
    role = forms.ChoiceField(label=_("Tư cách"), choices=PersonRole.choices)


class EvidenceForm(forms.Form):
    label = forms.CharField(label=_("Số hiệu vật chứng"), max_length=40)
    description = forms.CharField(label=_("Mô tả"), max_length=500)
    holder = forms.CharField(label=_("Người/nơi giữ"), max_length=200)


class HandOverForm(forms.Form):
    label = forms.CharField(label=_("Số hiệu vật chứng"), max_length=40)
    to_holder = forms.CharField(label=_("Giao cho"), max_length=200)
    purpose = forms.CharField(label=_("Mục đích"), max_length=300)


class InvestigatorForm(forms.Form):
    username = forms.CharField(label=_("Tên đăng nhập điều tra viên"), max_length=150)


class FindCandidatesForm(forms.Form):
    """A person known only by name and birth year (and perhaps the commune): the matcher's candidates."""

    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    birth_year = forms.IntegerField(label=_("Năm sinh"), min_value=1900, max_value=2100)
    commune_code = forms.CharField(label=_("Mã xã/phường (nếu biết)"), max_length=5, required=False)
    role = forms.ChoiceField(label=_("Tư cách"), choices=PersonRole.choices)


class ConfirmCandidateForm(FindCandidatesForm):
    id_number = forms.CharField(max_length=12, widget=forms.HiddenInput)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Ghi chú"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại tài liệu"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("Tên tài liệu"), max_length=200)
    file = forms.FileField(label=_("Tệp (PDF, PNG, JPEG; tối đa 10 MB)"))
