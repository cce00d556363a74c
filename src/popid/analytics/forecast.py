"""Weekly forecasts: per series (commune × category) the model is chosen by time-series
cross-validation among the run's candidates and their ensemble (the mean of the candidates,
intervals the mean of their bounds); the next ``HORIZON`` weeks come with 80 % and 95 %
intervals and the chosen model's backtested MASE next to seasonal naive's.

Candidates (``candidates``): the full set is statsforecast's seasonal naive, AutoETS and
AutoARIMA plus the harmonic regression of ``analytics.harmonic``; the fast set, for national
runs, is seasonal naive and the harmonic regression, both computed for all series at once.

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
from math import erfc, sqrt
from statistics import NormalDist
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
SF_MODELS = ("SeasonalNaive", "AutoETS", "AutoARIMA")  # fitted by statsforecast, one series at a time
FULL_MODELS = (*SF_MODELS, "Harmonic")
FAST_MODELS = ("SeasonalNaive", "Harmonic")  # computed for all series at once (analytics.harmonic)
MODEL_NAMES = FULL_MODELS
FULL_MAX_SERIES = 1000  # above this, mode "auto" takes the fast path (see docs/analytics.md, Scale)
ALERT_LEVEL = 99  # the interval shown beside an alert
ALERT_MIN_EXCESS = 3.0  # a count must also differ from the forecast by this many events
# Expected share of false alerts among the alerts of one check (Benjamini–Hochberg over every
# series × week checked). A fixed 99 % interval alone flags 1 point in 100 by chance: 40 series
# × 52 weeks made 20–35 chance alerts beside 20 true ones (BENCHMARKS.md §17).
ALERT_FDR = 0.05


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


def _with_ensemble(frame: pd.DataFrame, levels: tuple[int, ...], names: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.copy()
    frame["Ensemble"] = frame[list(names)].mean(axis=1)
    for level in levels:
        for side in ("lo", "hi"):
            frame[f"Ensemble-{side}-{level}"] = frame[[f"{m}-{side}-{level}" for m in names]].mean(axis=1)
    return frame


def candidates(mode: str, series: int) -> tuple[str, ...]:
    """The models a run chooses among: ``full`` (statsforecast's three and the harmonic
    regression), ``fast`` (seasonal naive and the harmonic regression, vectorised), ``auto``
    (full up to ``FULL_MAX_SERIES`` series, fast above)."""
    if mode == "auto":
        mode = "full" if series <= FULL_MAX_SERIES else "fast"
    if mode not in ("full", "fast"):
        raise ValueError(f"unknown forecast mode {mode!r}")
    return FULL_MODELS if mode == "full" else FAST_MODELS


def _own(names: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates computed by ``analytics.harmonic`` (all of the fast path's)."""
    return names if names == FAST_MODELS else tuple(m for m in names if m not in SF_MODELS)


def _cross_validation(df: pd.DataFrame, names: tuple[str, ...], *, h: int, n_windows: int, step_size: int,
                      levels: tuple[int, ...], n_jobs: int, refit: bool = True) -> pd.DataFrame:
    from popid.analytics import harmonic

    # the vectorised models are cheap: they are refitted at every window even when statsforecast's are not
    cv = harmonic.cross_validation(df, h=h, n_windows=n_windows, step_size=step_size, levels=levels,
                                   models=_own(names))
    if names != FAST_MODELS:
        sf = _sf(_models(), n_jobs).cross_validation(df=df, h=h, n_windows=n_windows, step_size=step_size,
                                                     level=list(levels), refit=refit)
        sf["ds"], sf["cutoff"] = pd.to_datetime(sf["ds"]), pd.to_datetime(sf["cutoff"])
        cv = sf.merge(cv.drop(columns=["y"]), on=["unique_id", "ds", "cutoff"], how="left")
    return _with_ensemble(cv, levels, names)


def _forecast(df: pd.DataFrame, names: tuple[str, ...], *, h: int, levels: tuple[int, ...],
              n_jobs: int) -> pd.DataFrame:
    from popid.analytics import harmonic

    out = harmonic.forecast(df, h=h, levels=levels, models=_own(names))
    if names != FAST_MODELS:
        sf = _sf(_models(), n_jobs).forecast(df=df, h=h, level=list(levels))
        sf["ds"] = pd.to_datetime(sf["ds"])
        out = sf.merge(out, on=["unique_id", "ds"], how="left")
    return _with_ensemble(out, levels, names)


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
    models: tuple[str, ...] = ()


def _scale(y: np.ndarray, season: int) -> float:
    """MASE's denominator: in-sample mean absolute seasonal difference (1 when it is zero)."""
    diffs = np.abs(np.diff(y)) if len(y) <= season else np.abs(y[season:] - y[:-season])
    value = float(diffs.mean()) if len(diffs) else 0.0
    return value if value > 0 else 1.0


def forecast_all(df: pd.DataFrame, *, horizon: int = HORIZON, n_jobs: int = 1,
                 province_of: dict[str, str] | None = None, mode: str = "auto") -> Result:
    """``df``: unique_id ("commune|category"), ds (Mondays), y, zero-filled (``fill_weeks``).
    ``mode``: see ``candidates``."""
    result = Result()
    if df.empty:
        return result
    lengths = df.groupby("unique_id").size()
    long_ids = lengths[lengths >= MIN_WEEKS].index
    short_ids = lengths[(lengths < MIN_WEEKS) & (lengths >= MIN_SHORT)].index
    result.too_short = sorted(lengths[lengths < MIN_SHORT].index)
    levels = LEVELS
    names = result.models = candidates(mode, len(long_ids))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(long_ids):
            long = df[df["unique_id"].isin(long_ids)]
            cv = _cross_validation(long, names, h=horizon, n_windows=CV_WINDOWS, step_size=horizon, levels=levels,
                                   n_jobs=n_jobs)
            scales = _scales(long, cv.groupby("unique_id")["cutoff"].min())
            err = cv[["unique_id"]].copy()
            for m in (*names, "Ensemble"):
                err[m] = (cv["y"] - cv[m]).abs()
            maes_by_series = err.groupby("unique_id").mean()
            for uid, row in zip(maes_by_series.index, maes_by_series.to_dict("records"), strict=True):
                maes = {str(m): float(v) for m, v in row.items()}
                result.cv_mae[str(uid)] = maes
                result.chosen[str(uid)] = min(maes, key=lambda m: (maes[m], m != "SeasonalNaive"))
            fc = _forecast(long, names, h=horizon, levels=levels, n_jobs=n_jobs)
            mase = {u: (m[result.chosen[u]] / scales[u], m["SeasonalNaive"] / scales[u])
                    for u, m in result.cv_mae.items()}
            result.rows += _rows(fc, result.chosen, mase, "ok", province_of)
        if len(short_ids):
            short = df[df["unique_id"].isin(short_ids)]
            for season, ids in ((SEASON, [u for u in short_ids if lengths[u] > SEASON]),
                                (1, [u for u in short_ids if lengths[u] <= SEASON])):
                if not ids:
                    continue
                sf = _sf([_models(season)[0]], n_jobs)
                fc = sf.forecast(df=short[short["unique_id"].isin(ids)], h=horizon, level=list(levels))
                chosen = {str(u): "SeasonalNaive" for u in ids}
                result.chosen.update(chosen)
                result.short += sorted(chosen)
                result.rows += _rows(fc, chosen, {}, "short", province_of)
    return result


def _scales(long: pd.DataFrame, first_cutoff: pd.Series) -> dict[str, float]:
    """``_scale`` of every series on its weeks up to its first cross-validation cutoff."""
    frame = long.sort_values(["unique_id", "ds"])
    frame = frame[frame["ds"] <= frame["unique_id"].map(first_cutoff)]
    grouped = frame.groupby("unique_id")["y"]
    seasonal = (frame["y"] - grouped.shift(SEASON)).abs().groupby(frame["unique_id"]).mean()
    weekly = (frame["y"] - grouped.shift(1)).abs().groupby(frame["unique_id"]).mean()
    value = seasonal.where(grouped.size() > SEASON, weekly).fillna(0.0)
    return {str(u): (float(v) if v > 0 else 1.0) for u, v in value.items()}


def _rows(fc: pd.DataFrame, chosen: dict[str, str], mase: dict[str, tuple[float, float]], status: str,
          province_of: dict[str, str] | None) -> list[dict[str, Any]]:
    """The store's forecast rows: each series' chosen model's mean and bounds (floored at 0)."""
    if fc.empty:
        return []
    fc = fc.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    model = fc["unique_id"].map(chosen)
    out = pd.DataFrame({"unique_id": fc["unique_id"], "ds": pd.to_datetime(fc["ds"]).dt.date})
    for key, suffix in (("mean", ""), ("lo80", "-lo-80"), ("hi80", "-hi-80"), ("lo95", "-lo-95"), ("hi95", "-hi-95")):
        values = np.zeros(len(fc))
        for m in model.unique():
            mask = (model == m).to_numpy()
            values[mask] = fc.loc[mask, f"{m}{suffix}"].to_numpy(dtype=float)
        out[key] = np.maximum(values, 0.0)
    split = out["unique_id"].str.split("|", n=1, expand=True)
    out["commune_code"], out["category"] = split[0], split[1]
    out["province_code"] = out["commune_code"].map(lambda c: (province_of or {}).get(c, ""))
    out["model"] = model
    out["mase"] = out["unique_id"].map(lambda u: round(mase[u][0], 4) if u in mase else None)
    out["mase_naive"] = out["unique_id"].map(lambda u: round(mase[u][1], 4) if u in mase else None)
    out["status"] = status
    columns = ["category", "commune_code", "province_code", "ds", "mean", "lo80", "hi80", "lo95", "hi95", "model",
               "mase", "mase_naive", "status"]
    rows: list[dict[str, Any]] = out[columns].astype(object).where(out[columns].notna(), None).to_dict("records")
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
    p_value: float = 1.0  # two-sided, under the model's forecast distribution


def detect(df: pd.DataFrame, chosen: dict[str, str], *, weeks: int, n_jobs: int = 1,
           level: int = ALERT_LEVEL, models: tuple[str, ...] = FULL_MODELS) -> list[Outlier]:
    """Weeks among the last ``weeks`` whose count departs from the chosen model's one-week-ahead
    forecast by at least ``ALERT_MIN_EXCESS`` events and whose p-value (two-sided, from the
    model's Gaussian interval) passes Benjamini–Hochberg at ``ALERT_FDR`` over every series and
    week checked together. Only series long enough to have been cross-validated are checked."""
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
        cv = _cross_validation(data, models, h=1, n_windows=windows, step_size=1, levels=(level,), n_jobs=n_jobs,
                               refit=False)
    candidates: list[tuple[float, Outlier]] = []
    checked = 0
    z_level = NormalDist().inv_cdf(0.5 + level / 200)
    for uid, g in cv.groupby("unique_id"):
        model = chosen[str(uid)]
        y = g["y"].to_numpy(dtype=float)
        mean = g[model].to_numpy(dtype=float)
        lo = g[f"{model}-lo-{level}"].to_numpy(dtype=float)
        hi = g[f"{model}-hi-{level}"].to_numpy(dtype=float)
        ds = g["ds"].to_numpy()
        checked += len(y)
        sd = np.maximum((hi - lo) / (2 * z_level), 1e-9)
        for i in np.nonzero(np.abs(y - mean) >= ALERT_MIN_EXCESS)[0]:
            p_value = erfc(abs(float(y[i] - mean[i])) / float(sd[i]) / sqrt(2))
            candidates.append((p_value, Outlier(
                unique_id=str(uid), week=pd.Timestamp(ds[i]).date(), observed=float(y[i]),
                expected=max(0.0, float(mean[i])), lo=max(0.0, float(lo[i])), hi=max(0.0, float(hi[i])),
                model=model, p_value=p_value)))
    return benjamini_hochberg(candidates, tests=checked, rate=ALERT_FDR)


def benjamini_hochberg(candidates: list[tuple[float, Outlier]], *, tests: int, rate: float) -> list[Outlier]:
    """The candidates kept by the Benjamini–Hochberg step-up rule among ``tests`` p-values (the
    points not listed as candidates count as tests that failed): the largest k with
    p₍ₖ₎ ≤ k·rate/tests, and every candidate up to it."""
    ranked = sorted(candidates, key=lambda c: c[0])
    keep = 0
    for k, (p_value, _outlier) in enumerate(ranked, start=1):
        if p_value <= k * rate / max(tests, 1):
            keep = k
    return [outlier for _p, outlier in ranked[:keep]]


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def last_complete_week(day: date | None = None) -> date:
    """The Monday of the last whole week before ``day``'s week."""
    return week_monday(day or today()) - timedelta(weeks=1)
