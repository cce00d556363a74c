"""Weekly models computed for many series at once with numpy (no per-series Python loop), in the
frame layout statsforecast uses (``unique_id``, ``ds``, ``<Model>``, ``<Model>-lo-80`` …) so the
forecast module can mix them with statsforecast's models.

- **Harmonic**: a robust linear regression of the weekly count on an intercept, a linear trend,
  ``HARMONICS`` yearly Fourier pairs (sine and cosine of the day of the year) and two holiday
  regressors from the official calendar (the ``holidays`` package): the share of the week's days
  in the seven days before the first day of Tết, and in the seven days from it. Fitted by
  iteratively reweighted least squares (Huber weights) so a past anomaly does not bend the
  season. Intervals: normal, with the residual spread, the parameters' uncertainty, and a spread
  that grows with the square root of the forecast level (counts).
- **SeasonalNaive**: the same week last year, intervals from the in-sample 52-week differences
  (what statsforecast's SeasonalNaive does), written here so the fast path needs no per-series fit.

All series of one call must share their weeks (one design matrix for all): the caller groups
series by their first week (``groups``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
import pandas as pd

SEASON = 52
HARMONICS = 2
HUBER = 2.0
ITERATIONS = 3
YEAR_DAYS = 365.25


def z(level: int) -> float:
    return NormalDist().inv_cdf(0.5 + level / 200)


@functools.lru_cache(maxsize=64)
def tet_first_days(first_year: int, last_year: int) -> tuple[date, ...]:
    """The first day of the lunar new year in each year, from Vietnam's official holidays."""
    import holidays

    days = holidays.country_holidays("VN", years=range(first_year, last_year + 1), language="en_US")
    return tuple(sorted(d for d, name in days.items() if name == "Lunar New Year"))


def design(weeks: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """One row per week (Monday): 1, years since ``origin``, the yearly harmonics, pre-Tết and
    Tết shares of the week's seven days."""
    t = np.asarray((weeks - origin).days, dtype=float) / YEAR_DAYS
    mid = weeks + pd.Timedelta(days=3)
    angle = 2 * np.pi * np.asarray(mid.dayofyear, dtype=float) / YEAR_DAYS
    cols = [np.ones(len(weeks)), t]
    for k in range(1, HARMONICS + 1):
        cols += [np.sin(k * angle), np.cos(k * angle)]
    pre, tet = np.zeros(len(weeks)), np.zeros(len(weeks))
    if len(weeks):
        tets = tet_first_days(weeks.min().year - 1, weeks.max().year + 1)
        for i, monday in enumerate(weeks):
            first = monday.date()
            for day in (first + timedelta(days=d) for d in range(7)):
                for t0 in tets:
                    delta = (day - t0).days
                    if -7 <= delta < 0:
                        pre[i] += 1 / 7
                    elif 0 <= delta < 7:
                        tet[i] += 1 / 7
    cols += [pre, tet]
    return np.column_stack(cols)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Robust least squares of every column of ``y`` (T × N) on ``x`` (T × p). Returns the
    coefficients (N × p), the inverse normal matrices (N × p × p), the residual spread (N) and
    the mean fitted level (N)."""
    t, p = x.shape
    n = y.shape[1]
    weights = np.ones_like(y)
    ridge = 1e-6 * np.eye(p)
    beta = np.zeros((n, p))
    inv = np.zeros((n, p, p))
    outer = (x[:, :, None] * x[:, None, :]).reshape(t, p * p)  # row t: x_t x_tᵀ
    for _ in range(ITERATIONS):
        normal = (weights.T @ outer).reshape(n, p, p) + ridge  # XᵀWX for every series, one product
        rhs = (weights * y).T @ x
        inv = np.linalg.inv(normal)
        beta = np.einsum("npq,nq->np", inv, rhs)
        resid = y - x @ beta.T
        scale = 1.4826 * np.median(np.abs(resid), axis=0) + 1e-9
        weights = np.minimum(1.0, HUBER * scale / np.maximum(np.abs(resid), 1e-12))
    resid = y - x @ beta.T
    dof = np.maximum(weights.sum(axis=0) - p, 1.0)
    sigma = np.sqrt((weights * resid**2).sum(axis=0) / dof)
    level = np.maximum((x @ beta.T).mean(axis=0), 0.5)
    return beta, inv, sigma, level


def harmonic(y: np.ndarray, weeks: pd.DatetimeIndex, future: pd.DatetimeIndex,
             levels: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Fit on ``y`` (T × N) observed on ``weeks``; forecast ``future`` weeks (N × H arrays)."""
    origin = weeks[0]
    x = design(weeks, origin)
    x0 = design(future, origin)
    beta, inv, sigma, level = _fit(x, y)
    mean = beta @ x0.T  # N × H
    leverage = ((inv @ x0.T) * x0.T[None, :, :]).sum(axis=1)  # x0ᵀ (XᵀWX)⁻¹ x0, N × H
    # parameter uncertainty is in units of sigma²·(XᵀWX)⁻¹; count noise grows with √level
    spread = sigma[:, None] * np.sqrt(np.maximum(mean, 0.5) / level[:, None] + np.maximum(leverage, 0.0))
    out = {"mean": mean}
    for lv in levels:
        out[f"lo-{lv}"] = mean - z(lv) * spread
        out[f"hi-{lv}"] = mean + z(lv) * spread
    return out


def seasonal_naive(y: np.ndarray, horizon: int, levels: tuple[int, ...],
                   season: int = SEASON) -> dict[str, np.ndarray]:
    """The same week of the last season; ``y`` is T × N with T > season."""
    t = y.shape[0]
    steps = np.arange(horizon)
    mean = y[t - season + steps % season, :].T  # N × H
    diffs = y[season:, :] - y[:-season, :]
    sigma = np.sqrt((diffs**2).mean(axis=0)) if len(diffs) else np.zeros(y.shape[1])
    k = (steps // season + 1)[None, :]
    out = {"mean": mean}
    for lv in levels:
        out[f"lo-{lv}"] = mean - z(lv) * sigma[:, None] * np.sqrt(k)
        out[f"hi-{lv}"] = mean + z(lv) * sigma[:, None] * np.sqrt(k)
    return out


MODELS = ("SeasonalNaive", "Harmonic")


CHUNK = 5000  # series per matrix: bounds the memory of a national run


def groups(df: pd.DataFrame) -> Iterator[tuple[list[str], pd.DatetimeIndex, np.ndarray]]:
    """Series that share their weeks, as (ids, weeks, T × N matrix), at most ``CHUNK`` series
    each. ``df`` is zero-filled (one row per series and week)."""
    spans = df.groupby("unique_id")["ds"].agg(["min", "max"])
    for _, span in spans.groupby(["min", "max"]):
        ids_all = sorted(str(u) for u in span.index)
        for start in range(0, len(ids_all), CHUNK):
            ids = ids_all[start:start + CHUNK]
            part = df[df["unique_id"].isin(ids)]
            wide = part.pivot(index="ds", columns="unique_id", values="y").sort_index()[ids]
            yield ids, pd.DatetimeIndex(wide.index), wide.to_numpy(dtype=float)


def _predict(model: str, y: np.ndarray, weeks: pd.DatetimeIndex, future: pd.DatetimeIndex,
             levels: tuple[int, ...]) -> dict[str, np.ndarray]:
    if model == "Harmonic":
        return harmonic(y, weeks, future, levels)
    return seasonal_naive(y, len(future), levels)


def _frame(ids: list[str], future: pd.DatetimeIndex, preds: dict[str, dict[str, np.ndarray]],
           levels: tuple[int, ...]) -> pd.DataFrame:
    n, h = len(ids), len(future)
    data: dict[str, object] = {"unique_id": np.repeat(ids, h), "ds": np.tile(future.to_numpy(), n)}
    for model, out in preds.items():
        data[model] = out["mean"].ravel()
        for lv in levels:
            data[f"{model}-lo-{lv}"] = out[f"lo-{lv}"].ravel()
            data[f"{model}-hi-{lv}"] = out[f"hi-{lv}"].ravel()
    return pd.DataFrame(data)


def forecast(df: pd.DataFrame, *, h: int, levels: tuple[int, ...], models: tuple[str, ...] = MODELS,
             freq: str = "W-MON") -> pd.DataFrame:
    parts = []
    for ids, weeks, y in groups(df):
        future = pd.date_range(weeks[-1], periods=h + 1, freq=freq)[1:]
        parts.append(_frame(ids, future, {m: _predict(m, y, weeks, future, levels) for m in models}, levels))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def cross_validation(df: pd.DataFrame, *, h: int, n_windows: int, step_size: int, levels: tuple[int, ...],
                     models: tuple[str, ...] = MODELS, refit: bool = True) -> pd.DataFrame:
    """Like statsforecast's: windows ending at the last week; ``refit=False`` fits once at the
    first cutoff (seasonal naive still reads last year's actual week)."""
    parts = []
    for ids, weeks, y in groups(df):
        t = len(weeks)
        first_cut = t - h - (n_windows - 1) * step_size
        fixed: dict[str, dict[str, np.ndarray]] = {}
        for w in range(n_windows):
            cut = first_cut + w * step_size  # the window is y[cut:cut + h]
            future = weeks[cut:cut + h]
            preds = {}
            for m in models:
                if refit or m == "SeasonalNaive":
                    preds[m] = _predict(m, y[:cut], weeks[:cut], future, levels)
                else:
                    if m not in fixed:
                        fixed[m] = _predict(m, y[:first_cut], weeks[:first_cut],
                                            weeks[first_cut:first_cut + (n_windows - 1) * step_size + h], levels)
                    preds[m] = {k: v[:, cut - first_cut:cut - first_cut + h] for k, v in fixed[m].items()}
            frame = _frame(ids, future, preds, levels)
            frame.insert(2, "cutoff", weeks[cut - 1])
            frame.insert(3, "y", y[cut:cut + h, :].T.ravel())
            parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
