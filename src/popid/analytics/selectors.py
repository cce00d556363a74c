"""Reads for the situation pages. They return counts of places and periods only (the store
holds no person), so they record no personal-data access; jurisdiction is still enforced: a
unit outside the officer's reads exactly like a unit with no analytics (``OutsideJurisdiction``,
404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import h3
from django.db.models import F
from django.utils.translation import gettext as _

from popid.analytics import forecast as fc
from popid.analytics import queries
from popid.analytics.errors import BadStaffingAssumption, OutsideJurisdiction, UnknownCategory
from popid.analytics.models import Alert, AlertNotice
from popid.analytics.schema import is_code
from popid.analytics.store import Store
from popid.analytics.synthetic import CATEGORIES, PLACED
from popid.core import admin_units
from popid.core.access import Actor
from popid.core.models import Role, ScopeLevel, StaffRole
from popid.services.models import FINAL_STATES, Dossier
from popid.services.procedures import catalogue

PERIOD_WEEKS = 8
HISTORY_WEEKS = 104


def default_unit(actor: Actor) -> str:
    return "" if actor.level == ScopeLevel.NATION else actor.unit_code


def check_unit(actor: Actor, code: str) -> str:
    """The unit the officer may look at: '' (nation) for national staff, their province and its
    communes, or their own commune."""
    code = (code or "").strip()
    if code == "":
        if actor.level != ScopeLevel.NATION:
            raise OutsideJurisdiction()
        return code
    if is_code("commune_code", code) and admin_units.commune(code) and actor.covers_commune(code):
        return code
    if is_code("province_code", code) and admin_units.province(code) and (
            actor.level == ScopeLevel.NATION or (actor.level == ScopeLevel.PROVINCE and actor.unit_code == code)):
        return code
    raise OutsideJurisdiction()


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise UnknownCategory()
    return category


def unit_name(code: str) -> str:
    if not code:
        return str(_("Toàn quốc"))
    unit = admin_units.commune(code) if len(code) == 5 else admin_units.province(code)
    return unit.name if unit else code


@dataclass
class Situation:
    unit: str
    category: str
    start: date
    end: date
    by_category: list[dict[str, Any]] = field(default_factory=list)
    by_subcategory: list[tuple[str, int]] = field(default_factory=list)
    by_commune: list[tuple[str, str, int]] = field(default_factory=list)
    weeks: list[date] = field(default_factory=list)
    weekly: list[float] = field(default_factory=list)
    weekly_last_year: list[float | None] = field(default_factory=list)
    dow_hour: list[list[int]] = field(default_factory=list)
    hot_cells: list[tuple[str, int]] = field(default_factory=list)
    outline_cells: list[str] = field(default_factory=list)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    has_data: bool = False
    store_version: int = 0
    refreshed_at: str | None = None


def situation_for(actor: Actor, *, unit: str, category: str, store: Store | None = None,
                  as_of: date | None = None) -> Situation:
    unit = check_unit(actor, unit)
    category = check_category(category)
    store = store or Store()
    manifest = store.manifest()
    last = fc.last_complete_week(as_of)
    end = last + timedelta(days=7)
    start = end - timedelta(weeks=PERIOD_WEEKS)
    year_ago = (start - timedelta(weeks=52), end - timedelta(weeks=52))
    scope = queries.Scope(unit)
    s = Situation(unit=unit, category=category, start=start, end=end, store_version=int(manifest["version"]),
                  refreshed_at=manifest.get("refreshed_at"))
    with store.connect() as con:
        now = dict(queries.run_duckdb(con, "by_category", scope=scope, start=start, end=end))
        before = dict(queries.run_duckdb(con, "by_category", scope=scope, start=year_ago[0], end=year_ago[1]))
        for cat in CATEGORIES:
            n, b = int(now.get(cat, 0)), int(before.get(cat, 0))
            s.by_category.append({"category": cat, "n": n, "last_year": b,
                                  "change": round(100 * (n - b) / b, 1) if b else None})
        s.has_data = any(now.values()) or any(before.values())
        s.by_subcategory = [(str(a), int(b)) for a, b in queries.run_duckdb(
            con, "by_subcategory", scope=scope, start=start, end=end, category=category, limit=12)]
        if len(unit) != 5:
            s.by_commune = [(str(c), unit_name(str(c)), int(n)) for c, n in queries.run_duckdb(
                con, "by_commune", scope=scope, start=start, end=end, category=category, limit=15)]
        hist_start = end - timedelta(weeks=HISTORY_WEEKS)
        weekly = dict(queries.run_duckdb(con, "weekly", scope=scope, start=hist_start - timedelta(weeks=52), end=end,
                                         category=category))
        s.weeks = [hist_start + timedelta(weeks=i) for i in range(HISTORY_WEEKS)]
        recent = s.weeks[-52:]
        s.weeks = recent
        s.weekly = [float(weekly.get(w, 0)) for w in recent]
        s.weekly_last_year = [float(weekly[w - timedelta(weeks=52)]) if (w - timedelta(weeks=52)) in weekly else None
                              for w in recent]
        if category in PLACED:
            matrix = [[0] * 24 for _ in range(7)]
            for dow, hour, n in queries.run_duckdb(con, "dow_hour", scope=scope, start=start, end=end,
                                                   category=category):
                matrix[int(dow) - 1][int(hour)] = int(n)
            s.dow_hour = matrix
            s.hot_cells = [(str(c), int(n)) for c, n in queries.run_duckdb(
                con, "hot_cells", scope=scope, start=start, end=end, category=category, limit=400)]
            area = queries.run_duckdb(con, "hot_cells", scope=scope, start=start - timedelta(weeks=52), end=end,
                                      category=None, limit=5000)
            s.outline_cells = sorted({h3.cell_to_parent(str(c), 6) for c, _ in area})
        s.forecasts = _forecast_rows(con, scope, category)
    return s


def _forecast_rows(con: Any, scope: queries.Scope, category: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT commune_code, ds, mean, lo80, hi80, lo95, hi95, model, mase, mase_naive, status FROM forecasts "  # noqa: S608 - checked codes
        f"WHERE {scope.where()} AND category = '{category}' ORDER BY commune_code, ds").fetchall()
    keys = ("commune_code", "ds", "mean", "lo80", "hi80", "lo95", "hi95", "model", "mase", "mase_naive", "status")
    return [dict(zip(keys, r, strict=True)) for r in rows]


@dataclass
class CommuneForecast:
    commune_code: str
    category: str
    history: list[tuple[date, float]]
    points: list[dict[str, Any]]
    status: str  # ok | short | no_data
    model: str = ""
    mase: float | None = None
    mase_naive: float | None = None


def forecast_for(actor: Actor, *, commune_code: str, category: str, store: Store | None = None,
                 as_of: date | None = None) -> CommuneForecast:
    """One commune's forecast; outside the officer's jurisdiction it is refused like a missing one."""
    if not is_code("commune_code", commune_code or "") or not actor.covers_commune(commune_code):
        raise OutsideJurisdiction()
    category = check_category(category)
    store = store or Store()
    last = fc.last_complete_week(as_of)
    scope = queries.Scope(commune_code)
    with store.connect() as con:
        weekly = queries.run_duckdb(con, "weekly", scope=scope, start=last - timedelta(weeks=51),
                                    end=last + timedelta(days=7), category=category)
        points = _forecast_rows(con, scope, category)
    history = [(w, float(n)) for w, n in weekly]
    if not points:
        return CommuneForecast(commune_code, category, history, [], "no_data" if not history else "short")
    first = points[0]
    return CommuneForecast(commune_code, category, history, points, str(first["status"]), str(first["model"]),
                           first["mase"], first["mase_naive"])


def alerts_for(actor: Actor, *, unit: str, open_only: bool = False, limit: int = 50) -> list[Alert]:
    unit = check_unit(actor, unit)
    qs = Alert.objects.all()
    if len(unit) == 5:
        qs = qs.filter(commune_code=unit)
    elif unit:
        qs = qs.filter(province_code=unit)
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return list(qs.order_by("acknowledged_at", "-week_start", "commune_code")[:limit])


def horizon() -> int:
    return fc.HORIZON


def communes_in(actor: Actor, unit: str) -> list[tuple[str, str]]:
    """The communes an officer can pick below the unit shown (for the unit selector)."""
    if len(unit) == 5:
        return [(unit, unit_name(unit))]
    province = unit or (actor.unit_code if actor.level == ScopeLevel.PROVINCE else "")
    units = admin_units.communes_by_province().get(province, []) if province else []
    return [(u.code, u.name) for u in units if actor.covers_commune(u.code)]


# --- staffing: the dossier forecast against officers and legal deadlines ----------------------
WORKING_DAYS_PER_WEEK = 5
# hours of an officer's work per dossier, by procedure (defaults shown and editable on the page)
DEFAULT_HOURS_PER_DOSSIER: dict[str, float] = {
    "permanent_residence": 2.0, "temporary_residence": 1.0, "residence_confirmation": 0.5,
    "household_split": 1.5, "absence_declaration": 0.25, "stay_notification": 0.1, "passport": 1.0,
}
OTHER_HOURS_PER_DOSSIER = 1.0
DEFAULT_DEADLINE_DAYS = 5  # a procedure the catalogue does not know


@dataclass(frozen=True)
class StaffingAssumptions:
    """What the staffing figures rest on; every value is shown on the page and can be changed."""

    hours_per_dossier: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HOURS_PER_DOSSIER))
    officer_hours_per_week: float = 40.0
    dossier_share: float = 0.5  # the share of an officer's week spent on dossiers

    @classmethod
    def from_query(cls, query: Any) -> StaffingAssumptions:
        """From the page's form (``gio_<procedure>``, ``gio_can_bo``, ``ty_le_ho_so``); a value
        that is not a number in its range is refused (``BadStaffingAssumption``)."""
        def number(name: str, default: float, low: float, high: float) -> float:
            raw = (query.get(name) or "").strip().replace(",", ".")
            if raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                raise BadStaffingAssumption() from None
            if not (low < value <= high) or value != value:
                raise BadStaffingAssumption()
            return value

        hours = {code: number(f"gio_{code}", default, 0.0, 40.0) for code, default in DEFAULT_HOURS_PER_DOSSIER.items()}
        return cls(hours_per_dossier=hours, officer_hours_per_week=number("gio_can_bo", 40.0, 0.0, 80.0),
                   dossier_share=number("ty_le_ho_so", 0.5, 0.0, 1.0))

    def hours(self, procedure: str) -> float:
        return self.hours_per_dossier.get(procedure, OTHER_HOURS_PER_DOSSIER)


@dataclass
class StaffingRow:
    commune_code: str
    commune_name: str
    week: date | None
    dossiers: float | None  # next week's forecast (mean), None when there is none
    dossiers_hi80: float | None
    mix: list[tuple[str, float]]  # procedure → share of the last weeks' dossiers
    hours_new: float  # hours due next week for the forecast dossiers
    hours_new_hi80: float
    backlog: int  # open dossiers whose deadline falls next week
    hours_backlog: float
    officers: int
    capacity: float
    model: str = ""
    mase: float | None = None
    status: str = "no_data"

    @property
    def needed(self) -> float:
        return self.hours_new + self.hours_backlog

    @property
    def gap(self) -> float:
        """Positive: dossier-hours missing next week; negative: spare."""
        return self.needed - self.capacity

    @property
    def spare(self) -> float:
        return max(0.0, -self.gap)

    @property
    def gap_hi80(self) -> float:
        return self.hours_new_hi80 + self.hours_backlog - self.capacity


def due_share(deadline_working_days: int) -> float:
    """The share of a week's new dossiers whose work falls due within that week: all of them
    for a deadline of at most a working week, else a week's worth of the deadline."""
    return min(1.0, WORKING_DAYS_PER_WEEK / max(deadline_working_days, 1))


def _deadlines() -> dict[str, int]:
    return {code: p.deadline_working_days for code, p in catalogue().items()}


def staffing_for(actor: Actor, *, unit: str, assumptions: StaffingAssumptions | None = None,
                 store: Store | None = None, as_of: date | None = None, limit: int = 200) -> list[StaffingRow]:
    """For each commune of ``unit`` (jurisdiction-checked): next week's dossier forecast split by
    the procedures' recent mix, the hours it needs within the legal deadlines, the open dossiers
    falling due next week, and the officers' hours available."""
    unit = check_unit(actor, unit)
    assumptions = assumptions or StaffingAssumptions()
    store = store or Store()
    deadlines = _deadlines()
    last = fc.last_complete_week(as_of)
    next_monday = last + timedelta(weeks=1)
    scope = queries.Scope(unit)
    with store.connect() as con:
        forecasts = _forecast_rows(con, scope, "dossier")
        mix_rows = queries.run_duckdb(con, "by_commune_subcategory", scope=scope, start=last - timedelta(weeks=7),
                                      end=next_monday, category="dossier")
    first: dict[str, dict[str, Any]] = {}
    for row in forecasts:
        first.setdefault(str(row["commune_code"]), row)
    mixes: dict[str, dict[str, int]] = {}
    for commune, sub, n in mix_rows:
        mixes.setdefault(str(commune), {})[str(sub)] = int(n)
    # a commune: itself (even with no data); a province or the nation: its communes with dossiers
    communes = [unit] if len(unit) == 5 else sorted({*first, *mixes})[:limit]
    week_end = next_monday + timedelta(weeks=1)
    backlog: dict[tuple[str, str], int] = {}
    for commune, procedure in Dossier.objects.filter(
            commune_code__in=communes, deadline__gte=next_monday, deadline__lt=week_end).exclude(
            state__in=FINAL_STATES).values_list("commune_code", "procedure_code"):
        backlog[(commune, procedure)] = backlog.get((commune, procedure), 0) + 1
    officers: dict[str, int] = {}
    for code in StaffRole.objects.filter(level=ScopeLevel.COMMUNE, unit_code__in=communes, user__is_active=True,
                                         role__in=[Role.OFFICER, Role.SUPERVISOR]).values_list("unit_code", flat=True):
        officers[code] = officers.get(code, 0) + 1
    rows = []
    for commune in communes:
        counts = mixes.get(commune, {})
        total = sum(counts.values())
        mix = [(p, n / total) for p, n in sorted(counts.items(), key=lambda kv: -kv[1])] if total else []
        # hours for one forecast dossier, weighted by the mix and the share due within the week
        per_dossier = (sum(share * assumptions.hours(p) * due_share(deadlines.get(p, DEFAULT_DEADLINE_DAYS))
                           for p, share in mix) if mix else OTHER_HOURS_PER_DOSSIER)
        f = first.get(commune)
        due = [(p, n) for (c, p), n in backlog.items() if c == commune]
        n_officers = officers.get(commune, 0)
        rows.append(StaffingRow(
            commune_code=commune, commune_name=unit_name(commune), week=f["ds"] if f else None,
            dossiers=float(f["mean"]) if f else None, dossiers_hi80=float(f["hi80"]) if f else None, mix=mix,
            hours_new=round(float(f["mean"]) * per_dossier, 1) if f else 0.0,
            hours_new_hi80=round(float(f["hi80"]) * per_dossier, 1) if f else 0.0,
            backlog=sum(n for _, n in due), hours_backlog=round(sum(n * assumptions.hours(p) for p, n in due), 1),
            officers=n_officers,
            capacity=round(n_officers * assumptions.officer_hours_per_week * assumptions.dossier_share, 1),
            model=str(f["model"]) if f else "", mase=f["mase"] if f else None,
            status=str(f["status"]) if f else ("no_forecast" if total else "no_data")))
    return rows


def notices_for(actor: Actor, *, limit: int = 100) -> list[AlertNotice]:
    """The officer's own alert notices, unread first, only for communes still in their
    jurisdiction (a supervisor moved to another unit no longer sees the old unit's)."""
    if actor.user_id is None:
        return []
    notices = AlertNotice.objects.filter(user_id=actor.user_id).select_related("alert").order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-pk")
    return [n for n in notices[: limit * 2] if actor.covers_commune(n.alert.commune_code)][:limit]


def unread_notices(actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return sum(1 for code in AlertNotice.objects.filter(user_id=actor.user_id, read_at__isnull=True).values_list(
        "alert__commune_code", flat=True) if actor.covers_commune(code))


def procedure_rows(assumptions: StaffingAssumptions) -> list[dict[str, Any]]:
    """The procedures of the assumptions form: code, name, legal deadline, hours per dossier."""
    known = catalogue()
    return [{"code": code, "name": known[code].name if code in known else code,
             "deadline": known[code].deadline_working_days if code in known else DEFAULT_DEADLINE_DAYS,
             "due_share": due_share(known[code].deadline_working_days if code in known else DEFAULT_DEADLINE_DAYS),
             "hours": assumptions.hours(code)} for code in DEFAULT_HOURS_PER_DOSSIER]
