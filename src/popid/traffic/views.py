"""Pages of the traffic app.

- officer console (``/phat-nguoi/can-bo/``): the review queue of the officer's jurisdiction, one
  detection with its evidence and the vehicle owner (the look-up is recorded), confirm with an
  amount inside the catalogue range or reject with a reason, the decision PDF;
- citizen portal (``/phat-nguoi/cua-toi/``): the fines on the citizen's vehicles with evidence;
- public (``/phat-nguoi/``): pay with the decision number and the plate (no personal data shown),
  the gateway's return page, and the verification page of the decision's QR code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from popid.core import admin_units
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.identity.oidc.provider import issuer_for
from popid.notifications import services as notifications
from popid.notifications.models import Kind as NotificationKind
from popid.services.models import Refund
from popid.traffic import decision_pdf, selectors, services
from popid.traffic.catalogue import get_violation
from popid.traffic.models import (
    Appeal,
    Decision,
    DetectionState,
    DriverNomination,
    EvidenceImage,
)
from popid.web import charts
from popid.web.shell import CitizenRequest, ConsoleRequest, apply_domain_error, citizen_view, officer_view


class ConfirmForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Mức phạt (đồng)"), min_value=1)
    plate = forms.CharField(label=gettext_lazy("Biển số (khi cần đọc lại)"), max_length=20, required=False)
    reason = forms.CharField(label=gettext_lazy("Nhận xét của cán bộ"), max_length=300)


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Lý do không xử phạt"), max_length=300)


class NameDriverForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("Số định danh của người điều khiển"), max_length=12)


class AppealForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Lý do khiếu nại"), max_length=2000, widget=forms.Textarea(
        attrs={"rows": 3}))
    attachment = forms.FileField(label=gettext_lazy("Tệp đính kèm (PDF, JPEG, PNG, tối đa 2 MB)"), required=False)


class AppealDecisionForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Trả lời khiếu nại"), max_length=300)


class PayLookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Số quyết định"), max_length=40)
    plate = forms.CharField(label=gettext_lazy("Biển số xe"), max_length=20)


def _verify_url_for(request: HttpRequest) -> Callable[[str], str]:
    origin = issuer_for(request)
    return lambda token: origin + reverse("traffic:verify", args=[token])


def _pdf_response(decision: Decision, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="QD-{decision.pk}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _image_response(image: EvidenceImage) -> FileResponse:
    response = FileResponse(image.file.open("rb"), content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- officer console ---------------------------------------------------------------------------------
@officer_view
@requires(Permission.TRAFFIC_READ)
@require_GET
def queue(request: ConsoleRequest) -> HttpResponse:
    state = request.GET.get("state", DetectionState.PENDING)
    rows = list(selectors.review_queue(actor=request.actor, state=state)[:selectors.MAX_LIST])
    appeals = list(Appeal.objects.filter(request.actor.jurisdiction_q("decision__commune_code"), state="pending")
                   .select_related("decision").order_by("due_on")[:selectors.MAX_LIST])
    return render(request, "traffic/queue.html", {"rows": rows, "state": state, "states": DetectionState.choices,
                                                  "appeals": appeals})


@officer_view
@requires(Permission.TRAFFIC_DECIDE)
@require_POST
def decide_appeal(request: ConsoleRequest, pk: int) -> HttpResponse:
    form = AppealDecisionForm(request.POST)
    appeal = Appeal.objects.select_related("decision").filter(pk=pk).first()
    if appeal is None or not request.actor.covers_commune(appeal.decision.commune_code):
        raise Http404
    if form.is_valid():
        services.decide_appeal(actor=request.actor, pk=pk, cancel=request.POST.get("outcome") == "cancel",
                               answer=form.cleaned_data["answer"])
        messages.success(request, _("Đã giải quyết khiếu nại"))
    else:
        messages.error(request, _("Cần ghi trả lời khiếu nại"))
    return redirect("traffic:detection", pk=appeal.decision.detection_id)


@officer_view
@requires(Permission.TRAFFIC_READ)
@require_http_methods(["GET", "POST"])
def detection_detail(request: ConsoleRequest, pk: int) -> HttpResponse:
    confirm_form = ConfirmForm(request.POST if request.POST.get("action") == "confirm" else None)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    status = 200
    if request.method == "POST":
        form = confirm_form if request.POST.get("action") == "confirm" else reject_form
        if form.is_valid():
            try:
                if form is confirm_form:
                    decided = services.confirm_detection(actor=request.actor, pk=pk, **form.cleaned_data)
                    messages.success(request, _("Đã ra quyết định xử phạt %(n)s") % {"n": decided.number})
                else:
                    services.reject_detection(actor=request.actor, pk=pk, reason=form.cleaned_data["reason"])
                    messages.success(request, _("Đã ghi nhận không xử phạt"))
                return redirect("traffic:detection", pk=pk)
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 404, 409} else 422
        else:
            status = 422
    detection = selectors.access_detection(ctx=selectors.officer_context(request.actor), pk=pk)
    decision = Decision.objects.filter(detection=detection).first()
    appeals = list(decision.appeals.order_by("-submitted_at")) if decision else []
    return render(request, "traffic/detection.html", {
        "appeals": appeals, "appeal_form": AppealDecisionForm(), "detection": detection,
        "violation": get_violation(detection.violation_code), "decision": decision,
        "confirm_form": confirm_form, "reject_form": reject_form,
        "open": detection.state in {DetectionState.PENDING, DetectionState.MANUAL},
        "may_write": request.actor.may_write}, status=status)


@officer_view
@requires(Permission.TRAFFIC_READ)
@require_GET
def officer_image(request: ConsoleRequest, pk: int, image: int) -> FileResponse:
    rows = selectors.review_queue(actor=request.actor).filter(pk=pk)
    stored = EvidenceImage.objects.filter(pk=image, detection__in=rows).first()
    if stored is None:
        raise Http404
    return _image_response(stored)


@officer_view
@requires(Permission.TRAFFIC_READ)
@require_GET
def officer_pdf(request: ConsoleRequest, pk: int) -> HttpResponse:
    detection = selectors.access_detection(ctx=selectors.officer_context(request.actor), pk=pk)
    decision = Decision.objects.select_related("owner", "vehicle", "detection").filter(detection=detection).first()
    if decision is None:
        raise Http404
    return _pdf_response(decision, decision_pdf.pdf_for(decision, ctx=selectors.officer_context(request.actor),
                                                        verify_url_for=_verify_url_for(request)))


@officer_view
@requires(Permission.TRAFFIC_READ)
@require_GET
def statistics_page(request: ConsoleRequest) -> HttpResponse:
    from popid.traffic import statistics

    rows = statistics.weekly(actor=request.actor)
    if request.GET.get("format") == "csv":
        response = HttpResponse(statistics.to_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="phat-nguoi-thong-ke.csv"'
        return response
    weeks = statistics.totals_by(rows, "week")[:WEEKS_CHARTED][::-1]
    communes = statistics.totals_by(rows, "commune_code")[:TOP_CHARTED]
    violations = statistics.totals_by(rows, "violation_code")[:TOP_CHARTED]
    totals = statistics.Totals(*(sum(getattr(r, f) for r in rows)
                                 for f in ("detections", "decisions", "paid", "revenue", "points")))
    return render(request, "traffic/statistics.html", {
        "rows": rows[:500], "totals": totals, "may_reconcile": request.actor.has(Permission.PAYMENTS_RECONCILE),
        "weekly_chart": _weekly_chart(weeks), "commune_chart": _money_chart(
            [(admin_units.commune_label(str(code)), t) for code, t in communes]),
        "violation_chart": _violation_chart(violations)})


WEEKS_CHARTED, TOP_CHARTED = 12, 15
DETECTION_FILL, DECISION_FILL, PAID_FILL, MONEY_FILL = "#8a97a8", "#1f5fa8", "#2e7d32", "#00838f"


def _count_chart(items: list[tuple[str, float, str, str]]) -> charts.Chart:
    maximum = float(max((n for _l, n, _v, _f in items), default=0))
    return charts.bar_chart(items, maximum, [round(maximum * t) for t in (0, 0.5, 1)] if maximum else [])


def _weekly_chart(weeks: list[tuple[object, Any]]) -> charts.Chart:
    """Per week: detections, decisions and paid decisions (with the paid rate), one bar each."""
    items: list[tuple[str, float, str, str]] = []
    for week, t in weeks:
        label = week.strftime("%d/%m/%Y") if hasattr(week, "strftime") else str(week)
        rate = "" if t.paid_rate is None else f" ({number_format(t.paid_rate, 1)}%)"
        items += [(_("Tuần %(w)s · phát hiện") % {"w": label}, t.detections, str(t.detections), DETECTION_FILL),
                  (_("Tuần %(w)s · quyết định") % {"w": label}, t.decisions, str(t.decisions), DECISION_FILL),
                  (_("Tuần %(w)s · đã nộp") % {"w": label}, t.paid, f"{t.paid}{rate}", PAID_FILL)]
    return _count_chart(items)


def _money_chart(items: list[tuple[str, Any]]) -> charts.Chart:
    """Revenue (VND actually paid) per commune, with the points deducted in the label."""
    rows = [(_("%(u)s · %(p)d điểm") % {"u": label, "p": t.points}, float(t.revenue),
             f"{t.revenue:,}".replace(",", "."), MONEY_FILL) for label, t in items]
    maximum = float(max((n for _l, n, _v, _f in rows), default=0))
    return charts.bar_chart(rows, maximum, [round(maximum * t) for t in (0, 0.5, 1)] if maximum else [])


def _violation_chart(items: list[tuple[object, Any]]) -> charts.Chart:
    rows = []
    for code, t in items:
        violation = get_violation(str(code))
        text = (violation.en if get_language() == "en" else violation.vi) if violation else ""
        name = f"{code} · {text}" if text else str(code)
        rows.append((name, t.decisions, str(t.decisions), DECISION_FILL))
    return _count_chart(rows)


# --- citizen portal ----------------------------------------------------------------------------------
@citizen_view
@require_GET
def my_fines(request: CitizenRequest) -> HttpResponse:
    return _my_fines_page(request)


def _my_fines_page(request: CitizenRequest, *, form_for: str = "", form: forms.Form | None = None,
                   appeal_for: str = "", appeal_form: forms.Form | None = None, status: int = 200) -> HttpResponse:
    decisions = list(selectors.citizen_decisions(request.account).prefetch_related("nominations__nominee", "appeals"))
    for decision in decisions:
        # display attributes for the template, set on the model instances
        appeal_list = list(decision.appeals.all())
        decision.appeal_list = appeal_list  # type: ignore[attr-defined]
        decision.may_appeal = (  # type: ignore[attr-defined]
            decision.state == "unpaid" and not any(a.state == "pending" for a in appeal_list))
        decision.appeal_form = (appeal_form if appeal_form is not None  # type: ignore[attr-defined]
                                and decision.number == appeal_for else AppealForm())
        decision.open_nomination = next(  # type: ignore[attr-defined]
            (n for n in decision.nominations.all() if n.state != "declined"), None)
        decision.name_form = (  # type: ignore[attr-defined]
            form if form is not None and decision.number == form_for else NameDriverForm())
        decision.refunds = list(  # type: ignore[attr-defined]
            Refund.objects.filter(payment__fine__decision=decision).select_related("payment").order_by("requested_at"))
    request.account.fine_notices.filter(read_at__isnull=True).update(read_at=timezone.now())
    notifications.mark_read_about(account=request.account, kind=NotificationKind.FINE_ISSUED)
    nominations = list(DriverNomination.objects.filter(nominee_id=request.account.person_id, state="pending")
                       .select_related("decision"))
    today = timezone.localdate()
    overdue = [d for d in decisions if d.state == "unpaid" and d.due_on < today]
    return render(request, "traffic/my_fines.html", {
        "decisions": decisions, "nominations": nominations, "citizen": request.account, "overdue": overdue,
        "overdue_total": sum(d.amount_due(today) for d in overdue)}, status=status)


@citizen_view
@require_POST
def name_driver(request: CitizenRequest, number: str) -> HttpResponse:
    form = NameDriverForm(request.POST)
    if form.is_valid():
        try:
            services.name_driver(account=request.account, number=number, id_number=form.cleaned_data["id_number"])
            messages.success(request, _("Đã gửi đề nghị tới người điều khiển; điểm được trừ trên giấy phép của "
                                        "người đó khi họ xác nhận."))
            return redirect("traffic:my_fines")
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _my_fines_page(request, form_for=number, form=form,
                                  status=exc.status if exc.status in {404, 409} else 422)
    return _my_fines_page(request, form_for=number, form=form, status=422)


@citizen_view
@require_POST
def file_appeal(request: CitizenRequest, number: str) -> HttpResponse:
    form = AppealForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data.get("attachment")
        if upload is not None and (upload.size or 0) > services.MAX_IMAGE_BYTES:
            form.add_error("attachment", _("Tệp vượt quá %(kb)d KB") % {"kb": services.MAX_IMAGE_BYTES // 1024})
        else:
            attachment = services.IncomingImage(name=upload.name or "", content=upload.read()) if upload else None
            try:
                services.file_appeal(account=request.account, number=number, reason=form.cleaned_data["reason"],
                                     attachment=attachment)
                messages.success(request, _("Đã gửi khiếu nại; trong thời gian giải quyết chưa phải nộp phạt."))
                return redirect("traffic:my_fines")
            except DomainError as exc:
                apply_domain_error(form, exc)
                return _my_fines_page(request, appeal_for=number, appeal_form=form,
                                      status=exc.status if exc.status in {404, 409} else 422)
    return _my_fines_page(request, appeal_for=number, appeal_form=form, status=422)


@citizen_view
@require_POST
def answer_nomination(request: CitizenRequest, pk: int) -> HttpResponse:
    try:
        services.answer_nomination(account=request.account, pk=pk, accept=request.POST.get("answer") == "accept")
    except DomainError as exc:
        messages.error(request, str(exc.title))
        return redirect("traffic:my_fines")
    messages.success(request, _("Đã ghi nhận trả lời của bạn."))
    return redirect("traffic:my_fines")


def _own_decision(request: CitizenRequest, number: str) -> Decision:
    try:
        return selectors.citizen_decision(request.account, number)
    except DomainError:
        raise Http404 from None


@citizen_view
@require_GET
def my_image(request: CitizenRequest, number: str, image: int) -> FileResponse:
    decision = _own_decision(request, number)
    stored = EvidenceImage.objects.filter(pk=image, detection_id=decision.detection_id).first()
    if stored is None:
        raise Http404
    return _image_response(stored)


@citizen_view
@require_GET
def my_pdf(request: CitizenRequest, number: str) -> HttpResponse:
    from popid.core.access import AccessContext
    from popid.identity.auth import citizen_actor

    decision = _own_decision(request, number)
    ctx = AccessContext(actor=citizen_actor(request.account), purpose="Công dân tải quyết định xử phạt",
                        legal_basis=services.LEGAL_BASIS, channel="portal")
    return _pdf_response(decision, decision_pdf.pdf_for(decision, ctx=ctx, verify_url_for=_verify_url_for(request)))


# --- public: pay and verify ----------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    """Look up a decision by number and plate; shows only the violation, the plate and the amount."""
    form = PayLookupForm(request.POST or request.GET or None)
    decision, status = None, 200
    if form.is_bound and form.is_valid():
        try:
            decision = services.decision_for_payer(**form.cleaned_data)
            if request.method == "POST" and request.POST.get("action") == "pay":
                _payment, url = services.start_fine_payment(
                    **form.cleaned_data, callback_url=_callback_url(request),
                    return_url=request.build_absolute_uri(reverse("traffic:payment_return", args=["ORDER_ID"])))
                return redirect(url)
        except DomainError as exc:
            apply_domain_error(form, exc)
            decision, status = None, exc.status if exc.status in {404, 409} else 422
    elif form.is_bound:
        status = 422
    return render(request, "traffic/pay.html", {
        "form": form, "decision": decision, "violation": get_violation(decision.violation_code) if decision else None},
        status=status)


def _callback_url(request: HttpRequest) -> str:
    from django.conf import settings

    configured = getattr(settings, "POPID_TRAFFIC_PAYMENT_CALLBACK_URL", "")
    return configured or request.build_absolute_uri(reverse("api:traffic_payment_callback"))


@never_cache
@require_GET
def payment_return(request: HttpRequest, order_id: str) -> HttpResponse:
    from popid.services.models import Payment, PaymentState

    payment = Payment.objects.select_related("fine__decision").filter(order_id=order_id, fine__isnull=False).first()
    if payment is None:
        raise Http404
    payment = services.reconcile_payment(payment)
    refund = getattr(payment, "refund", None)
    return render(request, "traffic/payment_return.html", {
        "payment": payment, "decision": payment.fine.decision, "refund": refund,
        "paid": payment.state == PaymentState.PAID and refund is None})


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    result = decision_pdf.verify(token)
    return render(request, "traffic/verify.html", {"result": result}, status=422 if result.status == "invalid" else 200)


