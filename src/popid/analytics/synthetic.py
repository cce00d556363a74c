"""Synthetic history with known truth: daily counts per commune and category with a weekly
pattern, a yearly season, Tết, a trend per series and injected anomalies (the truth), plus the
incidents' hours and places for the hot-spot map and the day-of-week × hour pattern.

Nothing here is about a person: a count is a number of events in a commune on a day, an
incident is a category, an hour and an H3 cell. The coordinates are synthetic (a made-up
centre per commune, hot spots around it), not a map of the real place.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import h3
import numpy as np
import pyarrow as pa

from popid.analytics.schema import SCHEMAS
from popid.core import admin_units

CATEGORIES: tuple[str, ...] = ("incident", "report", "violation", "dossier")
# categories whose events carry a place (hot-spot map) and an hour (day-of-week × hour)
PLACED = ("incident", "violation")
H3_RESOLUTION = 8  # cells of about 0.7 km²: a hot spot, never an address

SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "incident": ("trom-cap", "lua-dao", "cuop-giat", "co-y-gay-thuong-tich", "danh-bac"),
    "report": ("online", "counter", "phone"),
    "violation": ("speed", "red-light", "wrong-lane"),
    "dossier": ("permanent_residence", "temporary_residence", "residence_confirmation"),  # procedure codes
}
BASE_PER_DAY: dict[str, float] = {"incident": 2.5, "report": 1.6, "violation": 6.0, "dossier": 3.0}
# Monday..Sunday multipliers
WEEKLY: dict[str, tuple[float, ...]] = {
    "incident": (0.9, 0.9, 0.95, 1.0, 1.15, 1.3, 1.2),
    "report": (1.1, 1.05, 1.0, 1.0, 1.05, 0.9, 0.8),
    "violation": (1.0, 0.95, 0.95, 1.0, 1.15, 1.25, 0.9),
    "dossier": (1.25, 1.2, 1.2, 1.15, 1.1, 0.5, 0.05),
}
# relative weight per hour of day
HOURLY: dict[str, tuple[float, ...]] = {
    "incident": (3, 2, 2, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 5, 6, 7, 7, 6, 4),
    "violation": (1, 1, 1, 1, 1, 2, 5, 9, 9, 5, 4, 4, 4, 4, 4, 5, 7, 9, 9, 6, 4, 3, 2, 1),
}
# first day of the lunar new year (Tết Nguyên Đán)
TET = (date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6),
       date(2028, 1, 26))
TET_EFFECT: dict[str, float] = {"incident": 1.35, "report": 0.6, "violation": 1.4, "dossier": 0.1}
# approximate centres of a few provinces (synthetic data only); others are placed by a hash
PROVINCE_CENTRES: dict[str, tuple[float, float]] = {
    "01": (21.028, 105.834), "79": (10.776, 106.700), "48": (16.054, 108.202), "31": (20.845, 106.688),
    "92": (10.045, 105.747), "46": (16.463, 107.590),
}


def tet_factor(day: date, category: str) -> float:
    """The holiday effect: the week before Tết and the days after it."""
    for tet in TET:
        delta = (day - tet).days
        if -7 <= delta <= 6:
            effect = TET_EFFECT[category]
            return effect if delta >= -2 else 1 + (effect - 1) / 2
    return 1.0


def commune_centre(commune_code: str) -> tuple[float, float]:
    """A deterministic, made-up centre for a commune (synthetic data)."""
    province = admin_units.province_of_commune(commune_code) or "00"
    digest = hashlib.sha256(commune_code.encode()).digest()
    if province in PROVINCE_CENTRES:
        lat0, lon0 = PROVINCE_CENTRES[province]
    else:
        pd_ = hashlib.sha256(province.encode()).digest()
        lat0, lon0 = 10.0 + pd_[0] / 255 * 11.5, 104.5 + pd_[1] / 255 * 4.0
    return lat0 + (digest[0] - 127.5) / 127.5 * 0.25, lon0 + (digest[1] - 127.5) / 127.5 * 0.25


@dataclass(frozen=True)
class Anomaly:
    commune_code: str
    category: str
    week_start: date
    factor: float


@dataclass
class Truth:
    seed: int
    start: date
    weeks: int
    communes: list[str]
    anomalies: list[Anomaly] = field(default_factory=list)
    trends: dict[str, float] = field(default_factory=dict)  # "commune|category" -> yearly growth

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["anomalies"] = [{**asdict(a), "week_start": a.week_start.isoformat()} for a in self.anomalies]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Truth:
        return cls(seed=data["seed"], start=date.fromisoformat(data["start"]), weeks=data["weeks"],
                   communes=list(data["communes"]), trends=dict(data.get("trends", {})),
                   anomalies=[Anomaly(a["commune_code"], a["category"], date.fromisoformat(a["week_start"]),
                                      float(a["factor"])) for a in data["anomalies"]])


@dataclass
class History:
    daily: pa.Table
    incidents: pa.Table
    truth: Truth


def monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())


def generate(*, communes: list[str], end: date, weeks: int = 104, seed: int = 1, anomaly_rate: float = 0.012,
             scale: float = 1.0, placed_events: bool = True) -> History:
    """``weeks`` whole weeks ending on the Sunday before ``end``'s week; one anomaly per about
    ``1 / anomaly_rate`` series-weeks (never in the first year, so every anomaly has a history
    to stand out from)."""
    if not communes:
        raise ValueError("no communes")
    rng = np.random.default_rng(seed)
    start = monday_on_or_before(end) - timedelta(weeks=weeks)
    days = np.array([start + timedelta(days=i) for i in range(weeks * 7)])
    day_index = np.arange(weeks * 7)
    truth = Truth(seed=seed, start=start, weeks=weeks, communes=list(communes))
    daily_cols: dict[str, list[Any]] = {k: [] for k in ("category", "subcategory", "commune_code", "province_code",
                                                         "day", "n", "source")}
    inc_cols: dict[str, list[Any]] = {k: [] for k in ("category", "subcategory", "commune_code", "province_code",
                                                       "hour", "h3", "source")}
    weekday = np.array([d.weekday() for d in days])
    doy = np.array([d.timetuple().tm_yday for d in days])
    for commune in communes:
        province = admin_units.province_of_commune(commune) or ""
        size = float(rng.lognormal(0.0, 0.45)) * scale
        lat0, lon0 = commune_centre(commune)
        hot = [(lat0 + rng.normal(0, 0.01), lon0 + rng.normal(0, 0.01)) for _ in range(3)]
        for category in CATEGORIES:
            growth = float(rng.uniform(-0.15, 0.25))
            truth.trends[f"{commune}|{category}"] = round(growth, 4)
            phase = float(rng.uniform(0, 2 * math.pi))
            amplitude = float(rng.uniform(0.1, 0.3))
            tet = np.array([tet_factor(d, category) for d in days])
            lam = (BASE_PER_DAY[category] * size * (1 + growth) ** (day_index / 365.0)
                   * np.array(WEEKLY[category])[weekday]
                   * (1 + amplitude * np.sin(2 * np.pi * doy / 365.25 + phase)) * tet)
            for w in range(52, weeks):
                if rng.random() < anomaly_rate:
                    factor = float(rng.uniform(2.5, 4.0))
                    lam[w * 7:(w + 1) * 7] *= factor
                    truth.anomalies.append(Anomaly(commune, category, start + timedelta(weeks=w), round(factor, 3)))
            counts = rng.poisson(lam)
            subs = SUBCATEGORIES[category]
            weights = rng.dirichlet(np.ones(len(subs)) * 3)
            split = np.array([rng.multinomial(c, weights) for c in counts])  # days × subcategories
            for s, sub in enumerate(subs):
                nz = np.nonzero(split[:, s])[0]
                daily_cols["category"] += [category] * len(nz)
                daily_cols["subcategory"] += [sub] * len(nz)
                daily_cols["commune_code"] += [commune] * len(nz)
                daily_cols["province_code"] += [province] * len(nz)
                daily_cols["day"] += [days[i] for i in nz]
                daily_cols["n"] += [int(split[i, s]) for i in nz]
                daily_cols["source"] += ["synthetic"] * len(nz)
                if placed_events and category in PLACED:
                    hourly = np.array(HOURLY[category], dtype=float)
                    hourly /= hourly.sum()
                    for i in nz:
                        n = int(split[i, s])
                        hours = rng.choice(24, size=n, p=hourly)
                        spots = rng.integers(0, len(hot) + 1, size=n)
                        for hour, spot in zip(hours, spots, strict=True):
                            lat, lon = hot[spot] if spot < len(hot) else (lat0, lon0)
                            spread = 0.004 if spot < len(hot) else 0.03
                            cell = h3.latlng_to_cell(lat + rng.normal(0, spread), lon + rng.normal(0, spread),
                                                     H3_RESOLUTION)
                            inc_cols["category"].append(category)
                            inc_cols["subcategory"].append(sub)
                            inc_cols["commune_code"].append(commune)
                            inc_cols["province_code"].append(province)
                            inc_cols["hour"].append(datetime(days[i].year, days[i].month, days[i].day, int(hour)))
                            inc_cols["h3"].append(cell)
                            inc_cols["source"].append("synthetic")
    daily = pa.table(daily_cols, schema=SCHEMAS["daily"])
    incidents = pa.table(inc_cols, schema=SCHEMAS["incidents"])
    return History(daily=daily, incidents=incidents, truth=truth)
