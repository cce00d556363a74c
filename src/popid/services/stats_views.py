"""Console page for public-service statistics: the report of services/statistics.py for the
officer's jurisdiction, with period filters, an SVG trend chart (web/charts.py geometry) and the
ranking of units. Figures are only read here; nothing is written."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.services import statistics
from popid.web import charts
from popid.web.shell import ConsoleRequest, apply_domain_error, error_page, officer_view, render_page

ONLINE_FILL = "#1f5fa8"
COUNTER_FILL = "#8a97a8"
ON_TIME_FILL = "#2e7d32"
MAX_RANKED_ROWS = 200


class StatisticsFilterForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("Từ ngày"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("Đến ngày"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    granularity = forms.ChoiceField(label=gettext_lazy("Xu hướng theo"), required=False, initial="month",
                                    choices=[("month", gettext_lazy("Tháng")), ("week", gettext_lazy("Tuần"))])
    province = forms.CharField(label=gettext_lazy("Mã tỉnh/thành phố"), required=False, max_length=2)
    commune = forms.CharField(label=gettext_lazy("Mã xã/phường"), required=False, max_length=5)


def trend_chart(report: statistics.Report) -> charts.Chart:
    """Online and counter dossiers per period, one bar each (grouped per period)."""
    items: list[tuple[str, float, str, str]] = []
    for point in report.trend:
        f = point.figures
        items.append((_("%(period)s · trực tuyến") % {"period": point.label}, f.online, str(f.online), ONLINE_FILL))
        items.append((_("%(period)s · trực tiếp") % {"period": point.label}, f.counter, str(f.counter),
                      COUNTER_FILL))
    maximum = float(max((n for _l, n, _v, _f in items), default=0))
    return charts.bar_chart(items, maximum, [round(maximum * t) for t in (0, 0.5, 1)] if maximum else [])


def on_time_chart(report: statistics.Report) -> charts.Chart:
    items = [(p.label, p.figures.on_time_rate or 0.0,
              "—" if p.figures.on_time_rate is None else f"{number_format(p.figures.on_time_rate, 1)}%", ON_TIME_FILL)
             for p in report.trend]
    return charts.bar_chart(items, 100.0, (0, 25, 50, 75, 100))


@officer_view
@requires(Permission.STATISTICS_READ)
def statistics_page(request: ConsoleRequest) -> HttpResponse:
    form = StatisticsFilterForm(request.GET or None)
    params: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        params = {"date_from": data["date_from"], "date_to": data["date_to"],
                  "granularity": data["granularity"] or "month", "province_code": data["province"].strip(),
                  "commune_code": data["commune"].strip()}
    try:
        report = statistics.report(actor=request.actor, **params)
    except DomainError as exc:
        if exc.status == 403:
            return error_page(request, exc)
        apply_domain_error(form, exc)
        report = statistics.report(actor=request.actor)
    if not form.is_bound:
        form = StatisticsFilterForm(initial={"date_from": report.date_from, "date_to": report.date_to,
                                             "granularity": report.granularity})
    return render_page(request, "services/statistics.html", {
        "form": form, "report": report, "units": report.units[:MAX_RANKED_ROWS],
        "more_units": max(0, len(report.units) - MAX_RANKED_ROWS),
        "trend_chart": trend_chart(report), "on_time_chart": on_time_chart(report),
    })
