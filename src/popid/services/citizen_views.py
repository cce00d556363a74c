"""Citizen portal pages for online public services (/dich-vu-cong/): the catalogue, the form
generated from a procedure definition, payment, receipt, "my dossiers" with the status timeline,
supplement answers, cancellation and the inbox. Thin: every decision is in the services; a
DomainError is shown on the page and its transaction has written nothing."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from popid.core.errors import DomainError
from popid.identity import auth
from popid.identity.models import CitizenAccount
from popid.identity.selectors import wards_of
from popid.notifications import services as notifications
from popid.notifications.models import Kind as NotificationKind
from popid.services import dossiers as dossier_commands
from popid.services import selectors, submissions
from popid.services.citizen_api import callback_url
from popid.services.citizen_forms import CancelForm, ProcedureForm, SupplementAnswerForm, communes
from popid.services.models import (
    FINAL_STATES,
    Dossier,
    DossierState,
    Notification,
    Payment,
    PaymentState,
    Refund,
    Submission,
    SubmissionState,
)
from popid.services.procedures import (
    Procedure,
    attachment_label,
    catalogue,
    data_rows,
    file_type_label,
    get_procedure,
    shown_value,
)
from popid.services.uploads import incoming_files
from popid.web.shell import CitizenRequest, citizen_view, render_citizen_page

OPEN_STATES = {DossierState.SUBMITTED, DossierState.IN_REVIEW, DossierState.SUPPLEMENT_REQUESTED}


def _show_error(form: forms.Form, exc: DomainError, uploads: list[tuple[str, Any]] | None = None) -> int:
    """Each error beside its field (``data.x`` → x, ``attachments[i]`` → that file's input)."""
    visible = {name for name, field in form.fields.items() if not field.widget.is_hidden}
    placed = False
    for error in exc.errors():
        name = error.get("field", "")
        if name.startswith("attachments[") and uploads:
            index = name[len("attachments["):].split("]")[0]
            if index.isdigit() and int(index) < len(uploads):
                name = f"attachments.{uploads[int(index)][0]}"
        name = form.field_name(name) if hasattr(form, "field_name") else name
        if name in visible:
            form.add_error(name, error.get("message") or str(exc.title))
            placed = True
    detail = str(exc.detail or "")
    form.domain_error = {"title": str(exc.title), "detail": "" if detail == str(exc.title) else detail,  # type: ignore[attr-defined]
                         "placed": placed, "code": exc.code}
    return exc.status if exc.status in {403, 404, 409} else 422


# --- catalogue and form ---------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET"])
def procedures(request: HttpRequest) -> HttpResponse:
    """The catalogue is public (issue #19 item 7): a visitor reads procedures, fees and deadlines
    before deciding to log in; opening one asks for the login."""
    items = sorted(catalogue().values(), key=lambda p: p.name)
    return render_citizen_page(request, "services/citizen/catalogue.html",
                               {"procedures": items, "account": auth.current_account(request)})


def _subject(request: CitizenRequest, procedure: Procedure) -> CitizenAccount | None:
    """The ward chosen for this submission (``cho`` = ward account pk), defaulting to the ward
    the guardian is acting for; None means the citizen themself. Entitlement is checked by the
    service, so an account that is not a ward is refused there."""
    raw = request.POST.get("cho") if request.method == "POST" else request.GET.get("cho")
    if raw is None:
        return auth.acting_for(request)
    if not raw or not raw.isdigit() or int(raw) == request.account.pk:
        return None
    return CitizenAccount.objects.select_related("person").filter(pk=int(raw)).first() or CitizenAccount(pk=int(raw))


@citizen_view
@require_http_methods(["GET", "POST"])
def procedure_form(request: CitizenRequest, code: str) -> HttpResponse:
    procedure = catalogue().get(code)
    if procedure is None:
        raise Http404
    account = request.account
    ward = _subject(request, procedure)
    context: dict[str, Any] = {"procedure": procedure, "account": account, "ward": ward,
                               "wards": wards_of(account=account) if procedure.guardian_allowed else [],
                               "communes": communes()}
    blocked: DomainError | None = None
    prefilled: dict[str, Any] = {}
    # The draft: one idempotency key from the first display of the form to its submission, so the
    # pre-fill is recorded in the access history once per draft (issue #19 item 5).
    draft = (request.POST.get("idempotency_key", "") if request.method == "POST" else "")[:100] \
        or secrets.token_urlsafe(18)
    try:
        dossier_commands.require_entitled(account, procedure, ward)
        prefilled = selectors.prefilled_fields(account=account, procedure=procedure, subject=ward, draft=draft)
    except DomainError as exc:
        blocked = exc
    if blocked is not None:
        context["blocked"] = {"title": str(blocked.title), "detail": str(blocked.detail or "")}
        return render_citizen_page(request, "services/citizen/form.html",
                                   context, status=blocked.status if request.method == "POST" else 200)
    form = ProcedureForm(request.POST or None, request.FILES or None, procedure=procedure, prefilled=prefilled,
                         initial={"idempotency_key": draft})
    status = 200
    if request.method == "POST":
        status = 422
        uploads: list[tuple[str, Any]] = []
        if form.is_valid():
            uploads = form.uploads()
            try:
                submission, _created = submissions.prepare_submission(
                    account=account, procedure_code=procedure.code, data=form.data_values(),
                    idempotency_key=form.cleaned_data["idempotency_key"], on_behalf_of=ward,
                    attachments=incoming_files(procedure, uploads))
            except DomainError as exc:
                status = _show_error(form, exc, uploads)
            else:
                if (dossier := submission.dossier) is not None:
                    messages.success(request, _("Đã nộp hồ sơ %(code)s") % {"code": dossier.code})
                    return redirect("dvc:receipt", code=dossier.code)
                return redirect("dvc:submission", public_id=submission.public_id)
    specs = {f.name: f for f in procedure.fields}
    context.update(form=form, prefilled=[(specs[k].label, shown_value(specs[k].type, v))
                                         for k, v in prefilled.items() if v is not None])
    return render_citizen_page(request, "services/citizen/form.html", context, status=status)


# --- payment --------------------------------------------------------------------------------------
def _own_submission(request: CitizenRequest, public_id: str) -> Submission:
    submission = Submission.objects.select_related("dossier").filter(public_id=public_id,
                                                                     applicant=request.account).first()
    if submission is None:
        raise Http404
    return submission


@citizen_view
@require_http_methods(["GET", "POST"])
def submission_page(request: CitizenRequest, public_id: str) -> HttpResponse:
    submission = _own_submission(request, public_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "abandon":
                submissions.abandon(account=request.account, public_id=public_id)
                messages.info(request, _("Đã hủy hồ sơ chưa nộp."))
                return redirect("dvc:dossiers")
            return_url = request.build_absolute_uri(reverse("dvc:payment_return", args=["ORDER_ID"]))
            _payment, url = submissions.start_payment(account=request.account, public_id=public_id,
                                                      return_url=return_url, callback_url=callback_url(request))
        except DomainError as exc:
            messages.error(request, str(exc.title))
            return redirect("dvc:submission", public_id=public_id)
        return redirect(url)
    submission = submissions.reconcile_submission(submission)
    if (dossier := submission.dossier) is not None:
        return redirect("dvc:receipt", code=dossier.code)
    procedure = get_procedure(submission.procedure_code)
    return render_citizen_page(request, "services/citizen/submission.html", {
        "submission": submission, "procedure": procedure,
        "payments": submission.payments.select_related("refund").order_by("-created_at"),
        "paid_state": SubmissionState.PAID})


@citizen_view
def payment_return(request: CitizenRequest, order_id: str) -> HttpResponse:
    """Where the gateway sends the payer back: reconcile this order, then show the outcome."""
    payment = Payment.objects.select_related("submission").filter(
        order_id=order_id, submission__applicant=request.account).first()
    if payment is None or payment.submission is None:
        raise Http404
    submission = submissions.reconcile_submission(payment.submission)
    payment.refresh_from_db()
    if (dossier := submission.dossier) is not None:
        messages.success(request, _("Thanh toán thành công. Đã nộp hồ sơ %(code)s") % {"code": dossier.code})
        return redirect("dvc:receipt", code=dossier.code)
    if payment.state == PaymentState.DECLINED:
        messages.error(request, _("Thanh toán không thành công. Bạn có thể thanh toán lại."))
    elif payment.state == PaymentState.PENDING:
        messages.info(request, _("Chưa nhận được kết quả thanh toán từ cổng thanh toán."))
    return redirect("dvc:submission", public_id=submission.public_id)


# --- my dossiers ----------------------------------------------------------------------------------
def _own_dossier(request: CitizenRequest, code: str) -> Dossier:
    dossier = (selectors.own_dossiers(request.account).select_related("subject", "applicant").filter(code=code)
               .first())
    if dossier is None:
        raise Http404
    return dossier


@citizen_view
def dossiers(request: CitizenRequest) -> HttpResponse:
    procedures_by_code = catalogue()
    rows = []
    for dossier in selectors.own_dossiers(request.account).select_related("subject")[:200]:
        status, left = selectors.deadline_status(dossier)
        procedure = procedures_by_code.get(dossier.procedure_code)
        rows.append({"dossier": dossier, "status": status, "left": left,
                     "procedure_name": procedure.name if procedure else dossier.procedure_code})
    pending = (Submission.objects.filter(applicant=request.account, dossier__isnull=True,
                                         state__in=[SubmissionState.AWAITING_PAYMENT, SubmissionState.PAID])
               .order_by("-created_at")[:50])
    refunds = (Refund.objects.filter(payment__submission__applicant=request.account)
               .select_related("payment__submission").order_by("-requested_at")[:50])
    return render_citizen_page(request, "services/citizen/dossiers.html", {
        "rows": rows, "refunds": refunds, "pending": [
        {"submission": s, "procedure_name": procedures_by_code[s.procedure_code].name
         if s.procedure_code in procedures_by_code else s.procedure_code} for s in pending]})


def _detail_context(request: CitizenRequest, dossier: Dossier, *, supplement_form: forms.Form | None = None,
                    cancel_form: forms.Form | None = None) -> dict[str, Any]:
    procedure = catalogue().get(dossier.procedure_code)
    status, left = selectors.deadline_status(dossier)
    context: dict[str, Any] = {
        "dossier": dossier, "procedure": procedure, "deadline_status": status, "working_days_left": left,
        "projected_deadline": selectors.projected_deadline(dossier),
        "data_rows": data_rows(procedure, dossier.data),
        "attachments": [{"a": a, "label": attachment_label(procedure, a.kind), "type": file_type_label(a.content_type)}
                        for a in dossier.attachments.all()], "events": dossier.events.all(),
        "payments": Payment.objects.filter(dossier=dossier).order_by("created_at"),
        "can_cancel": dossier.state in OPEN_STATES, "closed": dossier.state in FINAL_STATES,
    }
    if dossier.state == DossierState.SUPPLEMENT_REQUESTED and procedure is not None:
        context["supplement_form"] = supplement_form or SupplementAnswerForm(
            initial={"version": dossier.version}, procedure=procedure, prefix="supplement")
        context["supplement_request"] = dossier.events.filter(to_state=DossierState.SUPPLEMENT_REQUESTED).last()
    if context["can_cancel"]:
        context["cancel_form"] = cancel_form or CancelForm(initial={"version": dossier.version}, prefix="cancel")
    shown = {id(context.get("supplement_form")), id(context.get("cancel_form"))}
    failed = next((f for f in (supplement_form, cancel_form) if f is not None and id(f) not in shown), None)
    context["action_error"] = getattr(failed, "domain_error", None)  # its form is no longer on the page
    return context


@citizen_view
def dossier_detail(request: CitizenRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    Notification.objects.filter(account=request.account, dossier=dossier, read_at__isnull=True).update(
        read_at=timezone.now())
    notifications.mark_read_about(account=request.account, kind=NotificationKind.DOSSIER_STATUS, subject=dossier.code)
    return render_citizen_page(request, "services/citizen/detail.html", _detail_context(request, dossier))


@citizen_view
def receipt(request: CitizenRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    return render_citizen_page(request, "services/citizen/receipt.html", {
        "dossier": dossier, "procedure": catalogue().get(dossier.procedure_code),
        "payment": Payment.objects.filter(dossier=dossier, state=PaymentState.PAID).first()})


@citizen_view
@require_POST
def dossier_cancel(request: CitizenRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    form = CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            dossier_commands.cancel(account=request.account, code=code, expected_version=form.cleaned_data["version"])
        except DomainError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("Đã hủy hồ sơ %(code)s") % {"code": code})
            return redirect("dvc:dossier", code=code)
    else:
        status = 422
    dossier.refresh_from_db()
    return render_citizen_page(request, "services/citizen/detail.html",
                               _detail_context(request, dossier, cancel_form=form), status=status)


@citizen_view
@require_POST
def dossier_supplement(request: CitizenRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    procedure = get_procedure(dossier.procedure_code)
    form = SupplementAnswerForm(request.POST, request.FILES, procedure=procedure, prefix="supplement")
    status = 422
    uploads: list[tuple[str, Any]] = []
    if form.is_valid():
        uploads = form.uploads()
        try:
            dossier_commands.answer_supplement(account=request.account, code=code,
                                       attachments=incoming_files(procedure, uploads),
                                       expected_version=form.cleaned_data["version"], note=form.cleaned_data["note"])
        except DomainError as exc:
            status = _show_error(form, exc, uploads)
        else:
            messages.success(request, _("Đã gửi bổ sung cho hồ sơ %(code)s") % {"code": code})
            return redirect("dvc:dossier", code=code)
    dossier.refresh_from_db()
    if dossier.state != DossierState.SUPPLEMENT_REQUESTED:  # answered or closed meanwhile
        messages.error(request, str(getattr(form, "domain_error", {}).get("title", _("Không thể gửi bổ sung"))))
        return redirect("dvc:dossier", code=code)
    return render_citizen_page(request, "services/citizen/detail.html",
                               _detail_context(request, dossier, supplement_form=form), status=status)


@citizen_view
def attachment_download(request: CitizenRequest, code: str, pk: int) -> FileResponse:
    dossier = _own_dossier(request, code)
    attachment = dossier.attachments.filter(pk=pk).first()
    if attachment is None:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- inbox ----------------------------------------------------------------------------------------
@citizen_view
@require_http_methods(["GET", "POST"])
def inbox(request: CitizenRequest) -> HttpResponse:
    mine = Notification.objects.filter(account=request.account)
    if request.method == "POST":
        target = request.POST.get("notification", "")
        qs = mine.filter(read_at__isnull=True)
        if target.isdigit():
            qs = qs.filter(pk=int(target))
        qs.update(read_at=timezone.now())
        return redirect("dvc:inbox")
    return render_citizen_page(request, "services/citizen/inbox.html",
                               {"notifications": mine.select_related("dossier")[:200]})
