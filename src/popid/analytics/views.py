"""Situation pages of the officer console: counts, hot spots, day × hour, trend against last
year, forecasts with their accuracy and the alerts, for the officer's unit and jurisdiction."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from popid.analytics import charts, selectors, services
from popid.analytics.models import CATEGORY_LABELS
from popid.analytics.synthetic import CATEGORIES, PLACED
from popid.core.permissions import Permission, requires
from popid.web.shell import ConsoleRequest, officer_view, render_page


@officer_view
@requires(Permission.ANALYTICS_READ)
def situation(request: ConsoleRequest) -> HttpResponse:
    actor = request.actor
    unit = request.GET.get("don_vi", selectors.default_unit(actor))
    category = request.GET.get("loai", "incident")
    s = selectors.situation_for(actor, unit=unit, category=category)
    label = str(CATEGORY_LABELS[s.category])
    name = selectors.unit_name(s.unit)
    context = {
        "s": s, "unit_name": name, "category_label": label, "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        "placed": s.category in PLACED,
        "weekly_svg": charts.weekly_lines(s.weeks, s.weekly, s.weekly_last_year,
                                          title=_("%(label)s theo tuần, %(unit)s") % {"label": label, "unit": name},
                                          label_now=_("52 tuần gần nhất"),
                                          label_before=_("Cùng kỳ năm trước")) if s.has_data else "",
        "heat_svg": charts.heatmap(s.dow_hour, title=_("%(label)s: ngày trong tuần × giờ, %(unit)s") % {
            "label": label, "unit": name})
        if s.dow_hour and s.hot_cells else "",
        "map_svg": charts.hex_map(s.hot_cells, s.outline_cells, title=_("Điểm nóng %(label)s, %(unit)s") % {
            "label": label.lower(), "unit": name})
        if s.hot_cells else "",
        "weekly_rows": list(zip(s.weeks, s.weekly, s.weekly_last_year, strict=True))[-12:],
        "days": [str(d) for d in charts.DAYS_VI],
        "dow_rows": list(zip([str(d) for d in charts.DAYS_VI], s.dow_hour, strict=False)),
        "next_week": [f for f in s.forecasts if f["ds"] == s.forecasts[0]["ds"]] if s.forecasts else [],
        "alerts": selectors.alerts_for(actor, unit=s.unit),
        "may_acknowledge": actor.has(Permission.ANALYTICS_MANAGE),
        "communes": selectors.communes_in(actor, s.unit),
        "unread_notices": selectors.unread_notices(actor),
    }
    return render_page(request, "analytics/situation.html", context)


@officer_view
@requires(Permission.ANALYTICS_READ)
def commune_forecast(request: ConsoleRequest, commune: str, category: str) -> HttpResponse:
    f = selectors.forecast_for(request.actor, commune_code=commune, category=category)
    label = str(CATEGORY_LABELS[f.category])
    name = selectors.unit_name(commune)
    svg = charts.forecast_chart(f.history, f.points, title=_("Dự báo %(label)s 8 tuần tới, %(unit)s") % {
        "label": label.lower(), "unit": name}) \
        if f.points or f.history else ""
    return render_page(request, "analytics/forecast.html", {"f": f, "label": label, "unit_name": name, "svg": svg})


@officer_view
@requires(Permission.ANALYTICS_MANAGE)
@require_POST
def acknowledge(request: ConsoleRequest, pk: int) -> HttpResponse:
    alert = services.acknowledge_alert(actor=request.actor, alert_id=pk, note=request.POST.get("note", ""))
    return redirect(reverse("analytics:situation") + f"?don_vi={alert.commune_code}&loai={alert.category}#canh-bao")


@officer_view
@requires(Permission.ANALYTICS_READ)
def staffing(request: ConsoleRequest) -> HttpResponse:
    """Next week's dossier forecast against the officers and the legal deadlines, per commune."""
    actor = request.actor
    unit = request.GET.get("don_vi", selectors.default_unit(actor))
    assumptions = selectors.StaffingAssumptions.from_query(request.GET)
    rows = selectors.staffing_for(actor, unit=unit, assumptions=assumptions)
    unit = selectors.check_unit(actor, unit)
    context = {
        "rows": rows, "unit": unit, "unit_name": selectors.unit_name(unit), "a": assumptions,
        "procedures": selectors.procedure_rows(assumptions), "communes": selectors.communes_in(actor, unit),
        "working_days": selectors.WORKING_DAYS_PER_WEEK,
    }
    return render_page(request, "analytics/staffing.html", context)


@officer_view
@requires(Permission.ANALYTICS_READ)
def notices(request: ConsoleRequest) -> HttpResponse:
    """The officer's alert notices (written for supervisors when an alert is raised)."""
    return render_page(request, "analytics/notices.html", {"notices": selectors.notices_for(request.actor)})


@officer_view
@requires(Permission.ANALYTICS_READ)
@require_POST
def notice_read(request: ConsoleRequest, pk: int) -> HttpResponse:
    services.mark_notice_read(actor=request.actor, notice_id=pk)
    return redirect(reverse("analytics:notices"))
