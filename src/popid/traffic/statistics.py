"""Statistics per week, commune and violation: detections, decisions, paid decisions, revenue and
points deducted, restricted to the actor's jurisdiction (no personal data)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncWeek

from popid.core import admin_units
from popid.core.access import Actor
from popid.traffic.models import Detection

CSV_COLUMNS = ["week", "commune_code", "violation_code", "detections", "decisions", "paid", "revenue_vnd",
               "points_deducted", "paid_rate_percent", "commune_name"]


@dataclass(frozen=True)
class Row:
    week: date
    commune_code: str
    violation_code: str
    detections: int
    decisions: int
    paid: int
    revenue: int
    points: int

    @property
    def paid_rate(self) -> float | None:
        """Paid decisions per decision (%), None without a decision."""
        return round(100 * self.paid / self.decisions, 1) if self.decisions else None

    @property
    def commune_name(self) -> str:
        return admin_units.commune_label(self.commune_code)


def weekly(*, actor: Actor, since: date | None = None) -> list[Row]:
    qs = Detection.objects.filter(actor.jurisdiction_q("commune_code"))
    if since is not None:
        qs = qs.filter(detected_at__date__gte=since)
    grouped = (qs.annotate(week=TruncWeek("detected_at")).values("week", "commune_code", "violation_code")
               .annotate(n=Count("id"), decisions=Count("decision"),
                         paid=Count("decision", filter=Q(decision__state="paid")),
                         revenue=Sum("decision__paid_amount", filter=Q(decision__state="paid")),
                         points=Sum("decision__points", filter=~Q(decision__deducted_licence="")))
               .order_by("-week", "commune_code", "violation_code"))
    return [Row(week=g["week"].date() if hasattr(g["week"], "date") else g["week"], commune_code=g["commune_code"],
                violation_code=g["violation_code"], detections=g["n"], decisions=g["decisions"], paid=g["paid"],
                revenue=g["revenue"] or 0, points=g["points"] or 0) for g in grouped]


def to_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r.week.isoformat(), r.commune_code, r.violation_code, r.detections, r.decisions, r.paid,
                         r.revenue, r.points, "" if r.paid_rate is None else r.paid_rate, r.commune_name])
    return buffer.getvalue()


@dataclass(frozen=True)
class Totals:
    detections: int = 0
    decisions: int = 0
    paid: int = 0
    revenue: int = 0
    points: int = 0

    @property
    def paid_rate(self) -> float | None:
        return round(100 * self.paid / self.decisions, 1) if self.decisions else None


def totals_by(rows: list[Row], key: str) -> list[tuple[object, Totals]]:
    """Sum the rows per ``week``, ``commune_code`` or ``violation_code`` (order of first appearance
    for weeks, newest first; by revenue then decisions for the others)."""
    sums: dict[object, list[int]] = {}
    for r in rows:
        acc = sums.setdefault(getattr(r, key), [0, 0, 0, 0, 0])
        for i, value in enumerate((r.detections, r.decisions, r.paid, r.revenue, r.points)):
            acc[i] += value
    out = [(k, Totals(*v)) for k, v in sums.items()]
    if key != "week":
        out.sort(key=lambda item: (-item[1].revenue, -item[1].decisions, str(item[0])))
    return out
