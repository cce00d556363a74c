"""Officer console pages for public-service dossiers: the unit's queue with deadline colours,
one dossier with its history, and the actions (claim, request supplement, approve, reject).
Each action posts the ``version`` the officer saw; a DomainError is shown on the page and the
service's transaction has written nothing; success redirects (PRG) with a message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from popid.core.access import AccessContext, Actor
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.services import dossiers, selectors
from popid.services.forms import ApproveForm, QueueFilterForm, RejectForm, SupplementForm, VersionForm
from popid.services.models import Dossier, DossierState, PaymentState
from popid.services.procedures import attachment_label, catalogue, data_rows, file_type_label
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view, render_page

S = DossierState


@dataclass(frozen=True)
class Action:
    slug: str
    title: Any
    form: type[forms.Form]
    states: frozenset[str]
    call: Callable[[Actor, str, dict[str, Any]], Dossier]
    success: Any
    button: str = "btn"


ACTIONS: dict[str, Action] = {a.slug: a for a in [
    Action("claim", gettext_lazy("Nhận xử lý"), VersionForm, frozenset({S.SUBMITTED}),
           lambda actor, code, d: dossiers.claim(actor=actor, code=code, expected_version=d["version"]),
           gettext_lazy("Đã nhận xử lý hồ sơ %(code)s"), "btn btn-primary"),
    Action("request-supplement", gettext_lazy("Yêu cầu bổ sung"), SupplementForm, frozenset({S.IN_REVIEW}),
           lambda actor, code, d: dossiers.request_supplement(actor=actor, code=code, note=d["note"],
                                                              expected_version=d["version"]),
           gettext_lazy("Đã yêu cầu công dân bổ sung hồ sơ %(code)s")),
    Action("approve", gettext_lazy("Phê duyệt"), ApproveForm, frozenset({S.IN_REVIEW}),
           lambda actor, code, d: dossiers.approve(actor=actor, code=code, expected_version=d["version"],
                                                   note=d.get("note", "")),
           gettext_lazy("Đã phê duyệt hồ sơ %(code)s"), "btn btn-primary"),
    Action("reject", gettext_lazy("Từ chối"), RejectForm, frozenset({S.SUBMITTED, S.IN_REVIEW}),
           lambda actor, code, d: dossiers.reject(actor=actor, code=code, reason=d["reason"],
                                                  expected_version=d["version"]),
           gettext_lazy("Đã từ chối hồ sơ %(code)s"), "btn btn-danger"),
]}


PURPOSE_READ = "Xem hồ sơ thủ tục hành chính trên giao diện cán bộ"


def _dossier(actor: Actor, code: str) -> Dossier:
    return selectors.access_dossier_for_officer(
        ctx=AccessContext(actor=actor, purpose=PURPOSE_READ, channel="console"), code=code)


@officer_view
@requires(Permission.DOSSIER_READ)
def queue(request: ConsoleRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    rows = selectors.officer_queue(actor=request.actor, state=state or None)
    procedures = catalogue()
    listed = [{"dossier": r.dossier, "deadline_status": r.deadline_status, "working_days_left": r.working_days_left,
               "procedure_name": procedures[r.dossier.procedure_code].name
               if r.dossier.procedure_code in procedures else r.dossier.procedure_code} for r in rows]
    return render_page(request, "services/queue.html", {"form": form, "rows": listed})


def _detail_context(request: ConsoleRequest, dossier: Dossier,
                    bound: tuple[str, forms.Form] | None = None) -> dict[str, Any]:
    procedures = catalogue()
    procedure = procedures.get(dossier.procedure_code)
    status, left = selectors.deadline_status(dossier)
    labels_state = dict(DossierState.choices)
    actions = []
    if request.actor.has(Permission.DOSSIER_PROCESS):
        for action in ACTIONS.values():
            if dossier.state not in action.states:
                continue
            if bound and bound[0] == action.slug:
                form = bound[1]
            else:
                form = action.form(initial={"version": dossier.version}, prefix=action.slug)
            actions.append({"action": action, "form": form})
    return {
        "dossier": dossier, "procedure": procedure, "deadline_status": status, "working_days_left": left,
        "data_rows": data_rows(procedure, dossier.data),
        "attachments": [{"a": a, "label": attachment_label(procedure, a.kind), "type": file_type_label(a.content_type)}
                        for a in dossier.attachments.all()], "actions": actions,
        "paid_payment": dossier.payments.filter(state=PaymentState.PAID).first(),
        "events": [{"event": e, "from_label": labels_state.get(e.from_state, e.from_state),
                    "to_label": labels_state.get(e.to_state, e.to_state)} for e in dossier.events.all()],
    }


@officer_view
@requires(Permission.DOSSIER_READ)
def dossier_detail(request: ConsoleRequest, code: str) -> HttpResponse:
    dossier = _dossier(request.actor, code)
    return render_page(request, "services/detail.html", _detail_context(request, dossier))


@officer_view
@requires(Permission.DOSSIER_READ)
def attachment_download(request: ConsoleRequest, code: str, pk: int) -> FileResponse:
    dossier = _dossier(request.actor, code)
    attachment = dossier.attachments.filter(pk=pk).first()
    if attachment is None:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@officer_view
@requires(Permission.DOSSIER_PROCESS)
@require_POST
def dossier_action(request: ConsoleRequest, code: str, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    dossier = _dossier(request.actor, code)
    form = spec.form(request.POST, prefix=spec.slug)
    if form.is_valid():
        try:
            spec.call(request.actor, code, form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, str(spec.success) % {"code": code})
            return redirect("services:dossier_detail", code=code)
    dossier.refresh_from_db()
    context = _detail_context(request, dossier, bound=(spec.slug, form))
    if not any(a["action"].slug == spec.slug for a in context["actions"]):
        context["actions"].insert(0, {"action": spec, "form": form})
    return render_page(request, "services/detail.html", context, status=409 if getattr(
        form, "domain_error", {}).get("code") in {"stale_version", "transition_not_allowed"} else 422)
