"""Console page of the daily payment reconciliation (đối soát): the runs (one per day and
gateway, kept with the report's SHA-256), one run's lines with the mismatches first, and a form
to run a day now. Supervisors and administrators only (``payments.reconcile``); no personal data
is shown (order ids, purposes, amounts)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.services.models import ReconciliationRun
from popid.services.payments.reconciliation import reconcile_day
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view, render_page


class RunForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Ngày đối soát"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("Không đối soát ngày trong tương lai"))
        return day


@officer_view
@requires(Permission.PAYMENTS_RECONCILE)
@require_http_methods(["GET", "POST"])
def runs(request: ConsoleRequest) -> HttpResponse:
    form = RunForm(request.POST or None, initial={"day": timezone.localdate() - timedelta(days=1)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = reconcile_day(actor=request.actor, day=form.cleaned_data["day"])
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = 502 if exc.status == 502 else 422
            else:
                messages.success(request, _("Đã đối soát ngày %(d)s: %(m)d khớp, %(x)d không khớp") % {
                    "d": run.day.strftime("%d/%m/%Y"), "m": run.matched, "x": run.mismatched})
                return redirect("services:reconciliation_run", pk=run.pk)
        else:
            status = 422
    return render_page(request, "services/reconciliation.html", {
        "form": form, "runs": ReconciliationRun.objects.all()[:60]}, status=status)


@officer_view
@requires(Permission.PAYMENTS_RECONCILE)
@require_http_methods(["GET"])
def run_detail(request: ConsoleRequest, pk: int) -> HttpResponse:
    run = ReconciliationRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404
    lines = list(run.lines.all()[:2000])
    return render_page(request, "services/reconciliation_run.html", {
        "run": run, "mismatches": [line for line in lines if line.outcome != "matched"],
        "matches": [line for line in lines if line.outcome == "matched"]})
