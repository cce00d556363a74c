"""Officer forms on a dossier: every action carries the ``version`` the officer saw."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.services.models import DossierState


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2_000_000_000, widget=forms.HiddenInput)


class ApproveForm(VersionForm):
    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class SupplementForm(VersionForm):
    note = forms.CharField(label=_("Nội dung cần bổ sung"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(VersionForm):
    reason = forms.CharField(label=_("Lý do từ chối"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Trạng thái"), required=False,
                              choices=[("", _("Đang mở (chưa kết thúc)")), *DossierState.choices])
