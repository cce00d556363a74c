"""Public-service statistics the way the Ministry reports them: dossiers received online and at the
counter, the online rate, the on-time rate and the average processing time, for the actor's
jurisdiction, per commune unit and per province, with a ranking of units and a trend.

Pure queries over ``Dossier`` (aggregated by the database, so a national report does not load
dossiers into Python). Definitions (docs/services.md, "Statistics"):

- the report covers dossiers *received* in the period (local dates, Asia/Ho_Chi_Minh);
- online rate = online / received;
- on-time rate = decided on time / (decided + open and already overdue). "Decided" is approved or
  rejected; a decision is on time when its local date is on or before the deadline. Cancelled
  dossiers and procedures without a processing deadline (stay notification) are not measured;
- average processing time = mean of (decided_at − received_at) over decided dossiers, in days;
- units are ranked by on-time rate, then online rate, then dossiers received; units with nothing
  measurable yet come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission
from popid.registry.validation import today as registry_today
from popid.services.calendar import LOCAL_TZ
from popid.services.models import Channel, Dossier, DossierState
from popid.services.procedures import catalogue

S = DossierState
DECIDED = [S.APPROVED, S.REJECTED]
OPEN = [S.SUBMITTED, S.IN_REVIEW, S.SUPPLEMENT_REQUESTED]
GRANULARITIES = ("week", "month")
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Figures:
    received: int = 0
    online: int = 0
    counter: int = 0
    decided: int = 0
    decided_on_time: int = 0
    open_overdue: int = 0
    avg_processing_days: float | None = None

    @property
    def online_rate(self) -> float | None:
        """Percentage of received dossiers submitted online (None when nothing was received)."""
        return round(100 * self.online / self.received, 1) if self.received else None

    @property
    def measured(self) -> int:
        return self.decided + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.decided_on_time / self.measured, 1) if self.measured else None

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "online": self.online, "counter": self.counter,
                "online_rate": self.online_rate, "decided": self.decided, "decided_on_time": self.decided_on_time,
                "open_overdue": self.open_overdue, "on_time_rate": self.on_time_rate,
                "avg_processing_days": self.avg_processing_days}


@dataclass(frozen=True)
class UnitRow:
    rank: int
    commune_code: str
    commune_name: str
    province_code: str
    province_name: str
    figures: Figures


@dataclass(frozen=True)
class ProvinceRow:
    province_code: str
    province_name: str
    figures: Figures


@dataclass(frozen=True)
class TrendPoint:
    start: date
    label: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    scope_level: str
    scope_code: str
    scope_name: str
    date_from: date
    date_to: date
    granularity: str
    today: date
    totals: Figures
    provinces: list[ProvinceRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)


# --- the aggregation -------------------------------------------------------------------------------
def _measured_procedures() -> list[str]:
    """Procedures with a legal processing deadline (the stay notification has none)."""
    return [code for code, p in catalogue().items() if p.deadline_working_days > 0]


def _annotations(today: date) -> dict[str, Any]:
    measured = Q(procedure_code__in=_measured_procedures())
    decided = Q(state__in=DECIDED)
    duration = ExpressionWrapper(F("decided_at") - F("received_at"), output_field=DurationField())
    return {
        "n_received": Count("pk"),
        "n_online": Count("pk", filter=Q(channel=Channel.ONLINE)),
        "n_counter": Count("pk", filter=Q(channel=Channel.COUNTER)),
        "n_decided": Count("pk", filter=measured & decided),
        "n_decided_on_time": Count("pk", filter=measured & decided & Q(decided_at__date__lte=F("deadline"))),
        "n_open_overdue": Count("pk", filter=measured & Q(state__in=OPEN, deadline__lt=today)),
        "avg_processing": Avg(duration, filter=decided & Q(decided_at__isnull=False)),
    }


def _figures(row: Mapping[str, Any]) -> Figures:
    avg = row.get("avg_processing")
    if isinstance(avg, (int, float)):  # some backends hand back microseconds
        avg = timedelta(microseconds=avg)
    return Figures(received=row["n_received"], online=row["n_online"], counter=row["n_counter"],
                   decided=row["n_decided"], decided_on_time=row["n_decided_on_time"],
                   open_overdue=row["n_open_overdue"],
                   avg_processing_days=round(avg.total_seconds() / 86400, 2) if avg is not None else None)


def _grouped(qs: QuerySet[Dossier], keys: Iterable[str], today: date) -> list[dict[str, Any]]:
    return list(qs.values(*keys).annotate(**_annotations(today)).order_by(*keys))


def rank_key(row: UnitRow | ProvinceRow) -> tuple[Any, ...]:
    f = row.figures
    return (f.on_time_rate is None, -(f.on_time_rate or 0), -(f.online_rate or 0), -f.received,
            getattr(row, "commune_code", row.province_code))


# --- scope and filters -----------------------------------------------------------------------------
def _scope(actor: Actor, *, province_code: str = "", commune_code: str = "") -> tuple[Q, str, str, str]:
    """The rows the report may count: the actor's jurisdiction, narrowed by an optional filter
    that must itself lie inside it."""
    actor.require(Permission.STATISTICS_READ)
    if commune_code:
        unit = admin_units.commune(commune_code)
        if unit is None:
            raise ValidationFailed([{"field": "commune", "reason": "unknown",
                                     "message": _("Không có xã/phường mã %(code)s") % {"code": commune_code}}])
        if not actor.covers_commune(unit.code):
            raise PermissionDenied(_("Đơn vị %(code)s nằm ngoài địa bàn quản lý của bạn") % {"code": unit.code},
                                   field="commune")
        return Q(commune_code=unit.code), ScopeLevel.COMMUNE, unit.code, admin_units.commune_label(unit.code)
    if province_code:
        unit = admin_units.province(province_code)
        if unit is None:
            raise ValidationFailed([{"field": "province", "reason": "unknown",
                                     "message": _("Không có tỉnh/thành phố mã %(code)s") % {"code": province_code}}])
        if actor.level == ScopeLevel.COMMUNE or (actor.level == ScopeLevel.PROVINCE and actor.unit_code != unit.code):
            raise PermissionDenied(_("Đơn vị %(code)s nằm ngoài địa bàn quản lý của bạn") % {"code": unit.code},
                                   field="province")
        return Q(province_code=unit.code), ScopeLevel.PROVINCE, unit.code, unit.name
    if actor.level == ScopeLevel.COMMUNE:
        return actor.jurisdiction_q("commune_code"), ScopeLevel.COMMUNE, actor.unit_code, \
            admin_units.commune_label(actor.unit_code)
    if actor.level == ScopeLevel.PROVINCE:
        unit = admin_units.province(actor.unit_code)
        return actor.jurisdiction_q("commune_code"), ScopeLevel.PROVINCE, actor.unit_code, \
            unit.name if unit else actor.unit_code
    return Q(), ScopeLevel.NATION, "", _("Toàn quốc")


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last six calendar months, this one included."""
    today = today or registry_today()
    month, year = today.month - 5, today.year
    if month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1), today


def check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationFailed([{"field": "date_to", "reason": "before_start",
                                 "message": _("Ngày kết thúc phải sau ngày bắt đầu")}])
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise ValidationFailed([{"field": "date_from", "reason": "too_long",
                                 "message": _("Khoảng thời gian tối đa 3 năm")}])


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _bucket_starts(date_from: date, date_to: date, granularity: str) -> list[date]:
    if granularity == "week":
        day = date_from - timedelta(days=date_from.weekday())
        starts = []
        while day <= date_to:
            starts.append(day)
            day += timedelta(days=7)
        return starts
    starts, day = [], date_from.replace(day=1)
    while day <= date_to:
        starts.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return starts


def _bucket_label(start: date, granularity: str) -> str:
    if granularity == "week":
        return _("Tuần %(week)02d/%(year)d") % {"week": start.isocalendar().week, "year": start.isocalendar().year}
    return start.strftime("%m/%Y")


# --- the report ------------------------------------------------------------------------------------
def report(*, actor: Actor, date_from: date | None = None, date_to: date | None = None,
           granularity: str = "month", province_code: str = "", commune_code: str = "",
           today: date | None = None) -> Report:
    """Statistics of the dossiers received in [date_from, date_to] inside the actor's jurisdiction."""
    today = today or registry_today()
    default_from, default_to = default_period(today)
    date_from, date_to = date_from or default_from, date_to or default_to
    check_period(date_from, date_to)
    if granularity not in GRANULARITIES:
        raise ValidationFailed([{"field": "granularity", "reason": "invalid",
                                 "message": _("Chọn theo tuần hoặc theo tháng")}])
    scope_q, level, code, name = _scope(actor, province_code=province_code, commune_code=commune_code)
    qs = Dossier.objects.filter(scope_q, received_at__gte=_local_midnight(date_from),
                                received_at__lt=_local_midnight(date_to + timedelta(days=1)))
    totals = _figures(qs.aggregate(**_annotations(today)))

    provinces = [ProvinceRow(province_code=r["province_code"], province_name=_province_name(r["province_code"]),
                             figures=_figures(r)) for r in _grouped(qs, ["province_code"], today)]
    provinces.sort(key=rank_key)
    units = [(r["commune_code"], r["province_code"], _figures(r))
             for r in _grouped(qs, ["commune_code", "province_code"], today)]
    ranked = sorted((UnitRow(rank=0, commune_code=c, commune_name=_commune_name(c), province_code=p,
                             province_name=_province_name(p), figures=f) for c, p, f in units), key=rank_key)
    ranked = [replace(row, rank=i) for i, row in enumerate(ranked, start=1)]

    trunc = TruncWeek if granularity == "week" else TruncMonth
    by_bucket = {}
    for r in (qs.annotate(bucket=trunc("received_at", tzinfo=LOCAL_TZ)).values("bucket")
              .annotate(**_annotations(today)).order_by("bucket")):
        bucket = r["bucket"]
        start = bucket.astimezone(LOCAL_TZ).date() if isinstance(bucket, datetime) else bucket
        by_bucket[start] = _figures(r)
    trend = [TrendPoint(start=s, label=_bucket_label(s, granularity), figures=by_bucket.get(s, Figures()))
             for s in _bucket_starts(date_from, date_to, granularity)]
    return Report(scope_level=level, scope_code=code, scope_name=str(name), date_from=date_from, date_to=date_to,
                  granularity=granularity, today=today, totals=totals, provinces=provinces, units=ranked,
                  trend=trend)


def _province_name(code: str) -> str:
    unit = admin_units.province(code or "")
    return unit.name if unit else (code or "")


def _commune_name(code: str) -> str:
    unit = admin_units.commune(code or "")
    return unit.name if unit else (code or "")
