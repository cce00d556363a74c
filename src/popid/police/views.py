"""Officer console pages of police operations (/cong-an/): the unit's report queue with the
art. 147 deadline, one report with the handling actions, case files (persons linked through the
registry, evidence and its chain of custody) and the supervisor's audit of case openings.
Thin: every decision is in the services and selectors; a DomainError is shown on the page and the
service's transaction has written nothing; success redirects (PRG) with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.police import forms as pf
from popid.police import selectors, services
from popid.police.catalogue import categories, outcomes
from popid.police.models import CustodyRecord, Report, ReportState
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view, render_page


def _deadline_row(report: Report) -> dict[str, Any]:
    due = services.deadline(report)
    days_left = (due - timezone.localdate()).days
    open_ = report.state in services.OPEN_STATES
    status = "closed" if not open_ else "overdue" if days_left < 0 else "due_soon" if days_left <= 3 else "on_time"
    return {"report": report, "deadline": due, "days_left": days_left, "deadline_status": status,
            "category": categories().get(report.category_code)}


@officer_view
@requires(Permission.POLICE_READ)
def queue(request: ConsoleRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in ReportState.values:
        state = ""
    rows = [_deadline_row(r) for r in selectors.report_queue(actor=request.actor, state=state)]
    return render_page(request, "police/queue.html", {"rows": rows, "states": ReportState.choices, "state": state})


@officer_view
@requires(Permission.POLICE_READ)
def counter_report(request: ConsoleRequest) -> HttpResponse:
    """A report taken at the counter or by phone: same rules as online; the receipt shows the
    tracking code once so the officer can hand it to the reporter."""
    from popid.police.citizen_views import _attachments

    form = pf.CounterReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                report, tracking = services.submit_report(
                    anonymous=True, channel=data["channel"], recorded_by=request.actor,
                    category_code=data["category_code"], commune_code=data["commune_code"].strip(),
                    occurred_at=data["occurred_at"], description=data.get("description") or "",
                    latitude=data.get("latitude"), longitude=data.get("longitude"),
                    attachments=_attachments(request.FILES.getlist("attachments")))
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 404, 409} else 422
            else:
                return render_page(request, "police/counter_receipt.html",
                               {"report": report, "tracking_code": tracking,
                                "category": categories().get(report.category_code)}, status=201)
    return render_page(request, "police/counter.html", {"form": form}, status=status)


@officer_view
@requires(Permission.POLICE_READ)
def attachment(request: ConsoleRequest, code: str, pk: int) -> HttpResponse:
    """An attachment of a report of the officer's unit, always as a download (never rendered inline)."""
    report = selectors.report_for_officer(actor=request.actor, code=code)
    item = report.attachments.filter(pk=pk).first()
    if item is None:
        raise Http404
    response = HttpResponse(bytes(item.content), content_type=item.content_type)
    response["Content-Disposition"] = f'attachment; filename="attachment-{item.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


REPORT_ACTIONS: dict[str, tuple[type[forms.Form], Callable[..., Any], Any]] = {
    "classify": (pf.ClassifyForm, services.classify, _("Đã phân loại tin báo %(code)s")),
    "assign": (pf.AssignForm, services.assign, _("Đã phân công cán bộ giải quyết tin báo %(code)s")),
    "transfer": (pf.TransferForm, services.transfer_to_province, _("Đã chuyển tin báo %(code)s lên Công an tỉnh")),
    "extend": (pf.ExtendForm, services.extend_deadline, _("Đã gia hạn giải quyết tin báo %(code)s")),
    "decide": (pf.DecideForm, services.decide, _("Đã ghi kết quả giải quyết tin báo %(code)s")),
}


def _report_context(request: ConsoleRequest, code: str, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    report = selectors.report_for_officer(actor=request.actor, code=code)
    forms_ = {slug: form_class() for slug, (form_class, _call, _msg) in REPORT_ACTIONS.items()}
    forms_["open_case"] = pf.OpenCaseForm(initial={"title": categories()[report.category_code].name
                                                   if report.category_code in categories() else ""})
    forms_.update({slug.replace("-", "_"): form for slug, form in (bound or {}).items()})
    case = getattr(report, "case", None) if hasattr(report, "case") else None
    return {**_deadline_row(report), "forms": forms_, "events": report.events.all(),
            "attachments": report.attachments.only("name", "size", "content_type", "sha256"),
            "outcome": outcomes().get(report.outcome_code), "case": case,
            "is_open": report.state in services.OPEN_STATES}


@officer_view
@requires(Permission.POLICE_READ)
def report_detail(request: ConsoleRequest, code: str) -> HttpResponse:
    return render_page(request, "police/report.html", _report_context(request, code))


@officer_view
@requires(Permission.POLICE_HANDLE)
@require_POST
def report_action(request: ConsoleRequest, code: str, action: str) -> HttpResponse:
    if action == "open-case":
        form: forms.Form = pf.OpenCaseForm(request.POST)
        call: Callable[..., Any] = lambda d: services.open_case(actor=request.actor, report_code=code, **d)  # noqa: E731
        success = _("Đã lập hồ sơ vụ việc %(code)s")
    elif action in REPORT_ACTIONS:
        form_class, service, success = REPORT_ACTIONS[action]
        form = form_class(request.POST)
        call = lambda d: service(actor=request.actor, code=code, **d)  # noqa: E731
    else:
        raise Http404
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, str(success) % {"code": getattr(result, "number", code)})
            if action == "open-case":
                return redirect("police:case", number=result.number)
            return redirect("police:report", code=code)
    return render_page(request, "police/report.html", _report_context(request, code, {action: form}), status=422)


# --- case files ----------------------------------------------------------------------------------
@officer_view
@requires(Permission.POLICE_READ)
def case_list(request: ConsoleRequest) -> HttpResponse:
    return render_page(request, "police/cases.html", {"cases": selectors.cases_for(actor=request.actor)})


def _confirm_candidate(*, actor: Any, number: str, **data: Any) -> Any:
    return services.confirm_candidate(actor=actor, number=number, **data)


CASE_ACTIONS: dict[str, tuple[type[forms.Form] | None, Callable[..., Any], Any]] = {
    "link-person": (pf.LinkPersonForm, services.link_person, _("Đã liên kết người tham gia vào hồ sơ")),
    "confirm-person": (pf.ConfirmCandidateForm, _confirm_candidate,
                       _("Đã xác nhận và liên kết người tham gia theo kết quả đối sánh")),
    "note": (pf.NoteForm, services.add_note, _("Đã thêm ghi chú")),
    "evidence": (pf.EvidenceForm, services.record_evidence, _("Đã ghi nhận vật chứng")),
    "hand-over": (pf.HandOverForm, services.hand_over, _("Đã ghi nhận giao nhận vật chứng")),
    "investigator": (pf.InvestigatorForm, services.add_investigator, _("Đã phân công điều tra viên")),
    "close": (None, services.close_case, _("Đã đóng hồ sơ vụ việc")),
}


def _case_context(request: ConsoleRequest, number: str, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    case = selectors.case_for(actor=request.actor, number=number)
    forms_ = {slug.replace("-", "_"): form_class() for slug, (form_class, _c, _m) in CASE_ACTIONS.items()
              if form_class}
    forms_.update({slug.replace("-", "_"): form for slug, form in (bound or {}).items()})
    forms_.setdefault("find_person", pf.FindCandidatesForm())
    forms_.setdefault("document", pf.DocumentForm())
    custody = CustodyRecord.objects.filter(item__case=case).select_related("item").order_by("seq")
    return {"case": case, "forms": forms_, "persons": case.persons.select_related("person"),
            "evidence": case.evidence.all(), "custody": custody, "investigators": case.investigators.all(),
            "notes": case.notes.all(),
            "documents": case.documents.only("at", "kind", "title", "name", "size", "sha256", "uploaded_by")}


@officer_view
@requires(Permission.POLICE_READ)
def case_detail(request: ConsoleRequest, number: str) -> HttpResponse:
    return render_page(request, "police/case.html", _case_context(request, number))


@officer_view
@requires(Permission.POLICE_READ)
def case_timeline(request: ConsoleRequest, number: str) -> HttpResponse:
    case = selectors.case_for(actor=request.actor, number=number)
    return render_page(request, "police/timeline.html", {"case": case, "items": selectors.case_timeline(case)})


@officer_view
@requires(Permission.POLICE_READ)
def case_document(request: ConsoleRequest, number: str, pk: int) -> HttpResponse:
    """A document of a case the officer may open, always as a download (never rendered inline)."""
    document = selectors.case_document(actor=request.actor, number=number, pk=pk)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="tai-lieu-{document.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _find_person(request: ConsoleRequest, number: str) -> HttpResponse:
    """The matcher's candidates for a person known by name and birth year (each shown candidate is
    a sealed look-up for the case); the officer confirms one with its own button."""
    form = pf.FindCandidatesForm(request.POST)
    candidates: list[Any] = []
    status = 422
    if form.is_valid():
        try:
            data = form.cleaned_data
            candidates = services.find_candidates(actor=request.actor, number=number, full_name=data["full_name"],
                                                  birth_year=data["birth_year"],
                                                  commune_code=data.get("commune_code") or "")
            status = 200
        except DomainError as exc:
            apply_domain_error(form, exc)
    context = _case_context(request, number, {"find-person": form})
    context.update({"candidates": candidates, "candidate_query": form.cleaned_data if status == 200 else None,
                    "searched": status == 200})
    return render_page(request, "police/case.html", context, status=status)


def _add_document(request: ConsoleRequest, number: str) -> HttpResponse:
    upload = request.FILES.get("file")
    form = pf.DocumentForm(request.POST, request.FILES)
    if upload is not None and (upload.size or 0) > services.MAX_ATTACHMENT_BYTES:  # refused before it is read
        form = pf.DocumentForm(request.POST)
        form.is_valid()
        form.add_error(None, str(_("Tệp vượt quá %(mb)d MB") % {"mb": services.MAX_ATTACHMENT_BYTES // 2**20}))
    elif form.is_valid() and upload is not None:
        data = form.cleaned_data
        try:
            services.add_document(actor=request.actor, number=number, kind=data["kind"], title=data["title"],
                                  attachment=services.Attachment(name=upload.name or "tai-lieu", content=upload.read(),
                                                                 content_type=upload.content_type or ""))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, str(_("Đã thêm tài liệu vào hồ sơ")))
            return redirect("police:case", number=number)
    return render_page(request, "police/case.html", _case_context(request, number, {"document": form}), status=422)


@officer_view
@requires(Permission.POLICE_HANDLE)
@require_POST
def case_action(request: ConsoleRequest, number: str, action: str) -> HttpResponse:
    if action == "find-person":
        return _find_person(request, number)
    if action == "document":
        return _add_document(request, number)
    if action not in CASE_ACTIONS:
        raise Http404
    form_class, service, success = CASE_ACTIONS[action]
    form = form_class(request.POST) if form_class else forms.Form(request.POST)
    if form.is_valid():
        try:
            service(actor=request.actor, number=number, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, str(success))
            return redirect("police:case", number=number)
    bound = {action: form} if form_class else {}
    context = _case_context(request, number, bound)
    if not form_class:
        context["close_error"] = getattr(form, "domain_error", None)
    return render_page(request, "police/case.html", context, status=422)


@officer_view
@requires(Permission.POLICE_AUDIT)
def audit(request: ConsoleRequest) -> HttpResponse:
    return render_page(request, "police/audit.html", {"openings": selectors.case_openings(actor=request.actor),
                                                      "lookups": selectors.case_person_lookups(actor=request.actor)})
