"""Counter intake in the officer console: a dossier received in person is registered through
``dossiers.register_counter_dossier`` (channel "counter", so the online rate stays honest).

The form is built from the procedure definition, like the citizen form: the officer types the
subject's ID number and the fields the registry does not know; pre-filled fields come from the
registry. Field names mirror the service's error fields (``id_number``, ``data.<name>``,
``attachments.<kind>``) so each refusal is shown next to its input; nothing is written on error."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from popid.core.errors import DomainError, ValidationFailed
from popid.core.permissions import Permission, requires
from popid.services import dossiers
from popid.services.procedures import Procedure, catalogue
from popid.web.fields import CommuneField
from popid.web.shell import ConsoleRequest, apply_domain_error, commune_datalist, officer_view, render_page

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ProcedureChoiceForm(forms.Form):
    procedure = forms.ChoiceField(label=gettext_lazy("Thủ tục"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["procedure"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.code, p.name) for p in catalogue().values()]


def _form_field(ftype: str, label: str, required: bool) -> forms.Field:
    if ftype == "text":
        return forms.CharField(label=label, required=required, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    if ftype == "date":
        return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
    if ftype == "datetime":
        return forms.DateTimeField(label=label, required=required,
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    if ftype == "integer":
        return forms.IntegerField(label=label, required=required)
    if ftype == "id_list":
        return forms.CharField(label=label, required=required, max_length=2000,
                               help_text=gettext_lazy("Các số định danh, cách nhau bởi dấu phẩy"))
    if ftype == "commune":
        return CommuneField(label=label, required=required)
    if ftype == "id_number":
        return forms.CharField(label=label, required=required, max_length=12,
                               widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    return forms.CharField(label=label, required=required, max_length=500)


def counter_form_class(procedure: Procedure) -> type[forms.Form]:
    """A form with the subject's ID number, the procedure's typed fields and its attachments."""
    fields: dict[str, forms.Field] = {
        "id_number": forms.CharField(label=gettext_lazy("Số định danh cá nhân của người được giải quyết"),
                                     max_length=12, widget=forms.TextInput(attrs={"inputmode": "numeric"})),
    }
    for f in procedure.fields:
        if not f.prefill:
            fields[f"data.{f.name}"] = _form_field(f.type, f.label, f.required)
    for a in procedure.attachments:
        fields[f"attachments.{a.kind}"] = forms.FileField(
            label=a.label, required=a.required,
            help_text=_("%(types)s, tối đa %(kb)d KB") % {"types": ", ".join(a.types), "kb": a.max_size_kb},
            widget=forms.ClearableFileInput(attrs={"accept": ",".join(a.types)}))
    return type("CounterForm", (forms.Form,), fields)


def _payload(procedure: Procedure, cleaned: dict[str, Any]) -> tuple[dict[str, Any], list[dossiers.IncomingFile]]:
    data: dict[str, Any] = {}
    for f in procedure.fields:
        value = cleaned.get(f"data.{f.name}")
        if value in (None, ""):
            continue
        if f.type in {"date", "datetime"}:
            value = value.isoformat()
        elif f.type == "id_list":
            value = [part.strip() for part in value.split(",") if part.strip()]
        data[f.name] = value
    files = []
    for a in procedure.attachments:
        upload = cleaned.get(f"attachments.{a.kind}")
        if upload:
            files.append(dossiers.IncomingFile(kind=a.kind, name=upload.name, content=upload.read(),
                                               content_type=upload.content_type or ""))
    return data, files


def _name_attachment_errors(exc: DomainError, files: list[dossiers.IncomingFile]) -> DomainError:
    """The service names a bad file by its position (``attachments[i]``); the form names it by kind."""
    if not isinstance(exc, ValidationFailed):
        return exc
    renamed = []
    for error in exc.errors():
        match = re.fullmatch(r"attachments\[(\d+)\]", error.get("field", ""))
        if match and int(match.group(1)) < len(files):
            error = {**error, "field": f"attachments.{files[int(match.group(1))].kind}"}
        renamed.append(error)
    return ValidationFailed(renamed, detail=exc.detail)


@officer_view
@requires(Permission.DOSSIER_PROCESS)
def counter_intake(request: ConsoleRequest) -> HttpResponse:
    request.actor.require(Permission.DOSSIER_PROCESS)
    chooser = ProcedureChoiceForm(request.GET or None)
    procedure = catalogue().get(chooser.data.get("procedure", "")) if chooser.is_bound and chooser.is_valid() \
        else None
    form = None
    if procedure is not None:
        form_class = counter_form_class(procedure)
        if request.method == "POST":
            form = form_class(request.POST, request.FILES)
            if form.is_valid():
                data, files = _payload(procedure, form.cleaned_data)
                try:
                    dossier = dossiers.register_counter_dossier(
                        actor=request.actor, procedure_code=procedure.code,
                        subject_id_number=form.cleaned_data["id_number"].strip(), data=data, attachments=files)
                except DomainError as exc:
                    apply_domain_error(form, _name_attachment_errors(exc, files))
                else:
                    messages.success(request, _("Đã tiếp nhận hồ sơ %(code)s") % {"code": dossier.code})
                    return redirect("services:dossier_detail", code=dossier.code)
        else:
            initial = {}
            if (commune := procedure.field("commune_code")) is not None and commune.type == "commune":
                initial["data.commune_code"] = request.actor.unit_code if request.actor.level == "commune" else ""
            form = form_class(initial=initial)
    status = 422 if form is not None and form.is_bound else 200  # a bound form here was refused
    return render_page(request, "services/counter.html", {
        "chooser": chooser, "procedure": procedure, "form": form, "communes": commune_datalist(request.actor),
    }, status=status)
