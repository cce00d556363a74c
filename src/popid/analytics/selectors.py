"""Reads for the situation pages. They return counts of places and periods only (the store
holds no person), so they record no personal-data access; jurisdiction is still enforced: a
unit outside the officer's reads exactly like a unit with no analytics (``OutsideJurisdiction``,
404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import h3

from popid.analytics import forecast as fc
from popid.analytics import queries
from popid.analytics.errors import OutsideJurisdiction, UnknownCategory
from popid.analytics.models import Alert
from popid.analytics.schema import is_code
from popid.analytics.store import Store
from popid.analytics.synthetic import CATEGORIES, PLACED
from popid.core import admin_units
from popid.core.access import Actor
from popid.core.models import ScopeLevel

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
        return "Toàn quốc"
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
