"""Citizen forms generated from a procedure definition: one input per field the registry does not
already fill, one file input per attachment kind. No per-procedure form or view exists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from popid.core import admin_units
from popid.services.procedures import FieldDef, Procedure
from popid.web.fields import CommuneField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IdListField(forms.CharField):
    """Twelve-digit numbers separated by commas, spaces or new lines."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list, not the str of CharField
        text = super().to_python(value) or ""
        return [part for part in text.replace(",", " ").split() if part]


def _field(spec: FieldDef) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": spec.required}
    if spec.type == "text":
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if spec.type == "date":
        return forms.DateField(widget=DATE, **common)
    if spec.type == "datetime":
        return forms.DateTimeField(widget=DATETIME, **common)
    if spec.type == "integer":
        return forms.IntegerField(min_value=0, max_value=2_000_000_000, **common)
    if spec.type == "id_number":
        return forms.CharField(min_length=12, max_length=12, widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                               **common)
    if spec.type == "id_list":
        return IdListField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Các số định danh, cách nhau bởi dấu phẩy hoặc xuống dòng"), **common)
    if spec.type == "commune":
        return CommuneField(help_text=_("Gõ tên xã/phường (có dấu hoặc không) rồi chọn trong danh sách"), **common)
    return forms.CharField(max_length=500, **common)


def _value(spec: FieldDef, value: Any) -> Any:
    if value in (None, "", []):
        return None
    if spec.type == "date":
        return value.isoformat()
    if spec.type == "datetime":
        return value.isoformat()
    return value


class ProcedureForm(forms.Form):
    """Built per request from the procedure and the values the registry already holds."""

    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, procedure: Procedure, prefilled: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.entered: list[FieldDef] = []
        for spec in procedure.fields:
            if spec.prefill and prefilled.get(spec.name) is not None:
                continue  # shown read-only, taken from the registry on submit
            self.fields[spec.name] = _field(spec)
            self.entered.append(spec)
        for attachment in procedure.attachments:
            accept = ",".join(attachment.types)
            self.fields[f"file_{attachment.kind}"] = forms.FileField(
                label=attachment.label, required=attachment.required,
                widget=forms.ClearableFileInput(attrs={"accept": accept}),
                help_text=_("PDF, JPEG hoặc PNG; tối đa %(kb)d KB") % {"kb": attachment.max_size_kb})

    def data_values(self) -> dict[str, Any]:
        return {spec.name: v for spec in self.entered
                if (v := _value(spec, self.cleaned_data.get(spec.name))) is not None}

    def uploads(self) -> list[tuple[str, Any]]:
        return [(spec.kind, f) for spec in self.procedure.attachments
                if (f := self.cleaned_data.get(f"file_{spec.kind}"))]

    def field_name(self, error_field: str) -> str:
        """Map a service error's field (``data.address``, ``attachments.proof``) to this form's."""
        if error_field.startswith("data."):
            return error_field[5:]
        if error_field.startswith("attachments."):
            return f"file_{error_field.split('.', 1)[1]}"
        return error_field


class SupplementAnswerForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2_000_000_000, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Nội dung bổ sung"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, procedure: Procedure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        for spec in procedure.attachments:
            self.fields[f"file_{spec.kind}"] = forms.FileField(
                label=spec.label, required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ",".join(spec.types)}),
                help_text=_("PDF, JPEG hoặc PNG; tối đa %(kb)d KB") % {"kb": spec.max_size_kb})

    def uploads(self) -> list[tuple[str, Any]]:
        return [(spec.kind, f) for spec in self.procedure.attachments
                if (f := self.cleaned_data.get(f"file_{spec.kind}"))]

    def field_name(self, error_field: str) -> str:
        if error_field.startswith("attachments."):
            return f"file_{error_field.split('.', 1)[1]}"
        return error_field


class CancelForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2_000_000_000, widget=forms.HiddenInput)


def communes() -> list[admin_units.Unit]:
    return list(admin_units.communes().values())
