"""Weekly forecasts with statsforecast: per series (commune × category) the model is chosen by
time-series cross-validation among seasonal naive, AutoETS, AutoARIMA and their ensemble (the
mean of the three, intervals the mean of their bounds); the next ``HORIZON`` weeks come with
80 % and 95 % intervals and the chosen model's backtested MASE next to seasonal naive's.

A series shorter than ``MIN_WEEKS`` cannot be cross-validated: it is forecast by seasonal
naive (yearly season when a year exists, else the last week repeated) and says so
(``status = "short"``, no MASE). Anomaly detection compares each of the last weeks with the
one-week-ahead interval of the series' chosen model (fitted once, ``refit=False``).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

HORIZON = 8
SEASON = 52
LEVELS = (80, 95)
CV_WINDOWS = 2
MIN_WEEKS = SEASON + CV_WINDOWS * HORIZON  # 68: a year to learn the season, two windows to test
MIN_SHORT = 2  # below this nothing is forecast
FREQ = "W-MON"
MODEL_NAMES = ("SeasonalNaive", "AutoETS", "AutoARIMA")
ALERT_LEVEL = 99
ALERT_MIN_EXCESS = 3.0  # a count must also differ from the forecast by this many events


def _models(season: int = SEASON) -> list[Any]:
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    return [
        SeasonalNaive(season_length=season),
        # ETS cannot take a 52-week season; it models level and trend, the ensemble adds the season
        AutoETS(season_length=1, model="ZZN"),
        AutoARIMA(season_length=season, max_p=2, max_q=2, max_P=1, max_Q=1, max_D=1, approximation=True,
                  nmodels=10),
    ]


def _sf(models: list[Any], n_jobs: int) -> Any:
    from statsforecast import StatsForecast

    return StatsForecast(models=models, freq=FREQ, n_jobs=n_jobs)


def _with_ensemble(frame: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    frame = frame.copy()
    frame["Ensemble"] = frame[list(MODEL_NAMES)].mean(axis=1)
    for level in levels:
        for side in ("lo", "hi"):
            frame[f"Ensemble-{side}-{level}"] = frame[[f"{m}-{side}-{level}" for m in MODEL_NAMES]].mean(axis=1)
    return frame


def series_id(commune_code: str, category: str) -> str:
    return f"{commune_code}|{category}"


def split_id(unique_id: str) -> tuple[str, str]:
    commune, category = unique_id.split("|", 1)
    return commune, category


def fill_weeks(frame: pd.DataFrame, last_week: date) -> pd.DataFrame:
    """Complete every series with zero weeks from its first week to ``last_week``."""
    if frame.empty:
        return pd.DataFrame({"unique_id": pd.Series([], dtype=str), "ds": pd.Series([], dtype="datetime64[ns]"),
                             "y": pd.Series([], dtype=float)})
    parts = []
    end = pd.Timestamp(last_week)
    for uid, group in frame.groupby("unique_id", sort=True):
        group = group[group["ds"] <= end]
        if group.empty:
            continue
        index = pd.date_range(group["ds"].min(), end, freq=FREQ)
        series = group.set_index("ds")["y"].reindex(index, fill_value=0.0)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": index, "y": series.to_numpy(dtype=float)}))
    if not parts:
        return fill_weeks(frame.iloc[0:0], last_week)
    return pd.concat(parts, ignore_index=True)


@dataclass
class Result:
    """Forecasts of every series (rows of the store's ``forecasts`` table) and the backtest."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, str] = field(default_factory=dict)
    short: list[str] = field(default_factory=list)
    too_short: list[str] = field(default_factory=list)
    cv_mae: dict[str, dict[str, float]] = field(default_factory=dict)


def _scale(y: np.ndarray, season: int) -> float:
    """MASE's denominator: in-sample mean absolute seasonal difference (1 when it is zero)."""
    diffs = np.abs(np.diff(y)) if len(y) <= season else np.abs(y[season:] - y[:-season])
    value = float(diffs.mean()) if len(diffs) else 0.0
    return value if value > 0 else 1.0


def forecast_all(df: pd.DataFrame, *, horizon: int = HORIZON, n_jobs: int = 1,
                 province_of: dict[str, str] | None = None) -> Result:
    """``df``: unique_id ("commune|category"), ds (Mondays), y, zero-filled (``fill_weeks``)."""
    result = Result()
    if df.empty:
        return result
    lengths = df.groupby("unique_id").size()
    long_ids = lengths[lengths >= MIN_WEEKS].index
    short_ids = lengths[(lengths < MIN_WEEKS) & (lengths >= MIN_SHORT)].index
    result.too_short = sorted(lengths[lengths < MIN_SHORT].index)
    levels = list(LEVELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(long_ids):
            long = df[df["unique_id"].isin(long_ids)]
            sf = _sf(_models(), n_jobs)
            cv = _with_ensemble(sf.cross_validation(df=long, h=horizon, n_windows=CV_WINDOWS, step_size=horizon,
                                                    level=levels), LEVELS)
            first_cutoff = cv.groupby("unique_id")["cutoff"].min()
            scales = {uid: _scale(g[g["ds"] <= first_cutoff[uid]]["y"].to_numpy(), SEASON)
                      for uid, g in long.groupby("unique_id")}
            for uid, g in cv.groupby("unique_id"):
                maes = {m: float(np.abs(g["y"] - g[m]).mean()) for m in (*MODEL_NAMES, "Ensemble")}
                result.cv_mae[str(uid)] = maes
                result.chosen[str(uid)] = min(maes, key=lambda m: (maes[m], m != "SeasonalNaive"))
            fc = _with_ensemble(sf.forecast(df=long, h=horizon, level=levels), LEVELS)
            for uid, g in fc.groupby("unique_id"):
                model = result.chosen[str(uid)]
                maes = result.cv_mae[str(uid)]
                scale = scales[str(uid)]
                result.rows += _rows(str(uid), g, model, maes[model] / scale, maes["SeasonalNaive"] / scale, "ok",
                                     province_of)
        if len(short_ids):
            short = df[df["unique_id"].isin(short_ids)]
            for season, ids in ((SEASON, [u for u in short_ids if lengths[u] > SEASON]),
                                (1, [u for u in short_ids if lengths[u] <= SEASON])):
                if not ids:
                    continue
                sf = _sf([_models(season)[0]], n_jobs)
                fc = sf.forecast(df=short[short["unique_id"].isin(ids)], h=horizon, level=levels)
                for uid, g in fc.groupby("unique_id"):
                    result.chosen[str(uid)] = "SeasonalNaive"
                    result.short.append(str(uid))
                    result.rows += _rows(str(uid), g, "SeasonalNaive", None, None, "short", province_of)
    return result


def _rows(uid: str, g: pd.DataFrame, model: str, mase: float | None, mase_naive: float | None, status: str,
          province_of: dict[str, str] | None) -> list[dict[str, Any]]:
    commune, category = split_id(uid)
    province = (province_of or {}).get(commune, "")
    rows = []
    for _, r in g.sort_values("ds").iterrows():
        rows.append({
            "category": category, "commune_code": commune, "province_code": province,
            "ds": pd.Timestamp(r["ds"]).date(),
            "mean": max(0.0, float(r[model])),
            "lo80": max(0.0, float(r[f"{model}-lo-80"])), "hi80": max(0.0, float(r[f"{model}-hi-80"])),
            "lo95": max(0.0, float(r[f"{model}-lo-95"])), "hi95": max(0.0, float(r[f"{model}-hi-95"])),
            "model": model, "mase": None if mase is None else round(mase, 4),
            "mase_naive": None if mase_naive is None else round(mase_naive, 4), "status": status,
        })
    return rows


@dataclass(frozen=True)
class Outlier:
    unique_id: str
    week: date
    observed: float
    expected: float
    lo: float
    hi: float
    model: str


def detect(df: pd.DataFrame, chosen: dict[str, str], *, weeks: int, n_jobs: int = 1,
           level: int = ALERT_LEVEL) -> list[Outlier]:
    """Weeks among the last ``weeks`` whose count lies outside the chosen model's one-week-ahead
    ``level`` % interval by at least ``ALERT_MIN_EXCESS`` events. Only series long enough to have
    been cross-validated are checked."""
    if df.empty or weeks <= 0:
        return []
    lengths = df.groupby("unique_id").size()
    ids = [u for u in lengths.index if lengths[u] >= MIN_WEEKS and u in chosen]
    if not ids:
        return []
    data = df[df["unique_id"].isin(ids)]
    windows = min(weeks, int(lengths[ids].min()) - SEASON - 1)
    if windows <= 0:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = _sf(_models(), n_jobs).cross_validation(df=data, h=1, n_windows=windows, step_size=1, level=[level],
                                                     refit=False)
    cv = _with_ensemble(cv, (level,))
    found: list[Outlier] = []
    for uid, g in cv.groupby("unique_id"):
        model = chosen[str(uid)]
        y = g["y"].to_numpy(dtype=float)
        mean = g[model].to_numpy(dtype=float)
        lo = g[f"{model}-lo-{level}"].to_numpy(dtype=float)
        hi = g[f"{model}-hi-{level}"].to_numpy(dtype=float)
        ds = g["ds"].to_numpy()
        outside = ((y > hi) | (y < lo)) & (np.abs(y - mean) >= ALERT_MIN_EXCESS)
        for i in np.nonzero(outside)[0]:
            found.append(Outlier(unique_id=str(uid), week=pd.Timestamp(ds[i]).date(), observed=float(y[i]),
                                 expected=max(0.0, float(mean[i])), lo=max(0.0, float(lo[i])),
                                 hi=max(0.0, float(hi[i])), model=model))
    return found


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def last_complete_week(day: date | None = None) -> date:
    """The Monday of the last whole week before ``day``'s week."""
    return week_monday(day or today()) - timedelta(weeks=1)
