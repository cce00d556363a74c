"""Analytics (popid.analytics): forecasting at national size, accuracy on the synthetic history,
dashboard query latency over millions of placed incidents.

1. Forecast all series of a national-size set: 10,000 communes × 5 categories, two years weekly
   (50,000 series). Seasonal naive alone (cross-validation + forecast, the whole pipeline) runs
   on every series; the full pipeline (SeasonalNaive, AutoETS, AutoARIMA, ensemble, chosen by
   cross-validation) runs on ``--sample`` series and is extrapolated linearly to 50,000, reported
   as an extrapolation, unless ``--sample 50000``.
1b. ``--only national``: the fast path (vectorised seasonal naive + harmonic regression) on all
   50,000 series for real, seasonal naive alone in the same run, and the fast path's held-out
   MASE against the full path's on the same ``--sample`` series (wall and CPU time).
2. Accuracy: ``popid.analytics.services.evaluate`` on a synthetic history of ``--communes``
   communes (truth known): MASE of the chosen models vs seasonal naive on 8 held-out weeks,
   80 %/95 % interval coverage, alert precision/recall against the injected anomalies.
3. Dashboard queries (the situation page's incident queries: day × hour, hot cells, weekly
   counts) over ``--incidents`` placed incidents in the store's Parquet, DuckDB, p50/p99.

Run: .venv/bin/python benchmarks/bench_analytics.py [--sample 500 --communes 10 --incidents 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
os.environ.setdefault("POPID_DATA_DIR", "/tmp/popid-bench")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from popid.analytics import forecast as fc  # noqa: E402
from popid.analytics import queries, services, synthetic  # noqa: E402
from popid.analytics.store import Staged, Store  # noqa: E402

N_COMMUNES, N_CATEGORIES, WEEKS = 10_000, 5, 104


def national_frame(seed: int = 1) -> pd.DataFrame:
    """50,000 weekly Poisson series with a yearly season, a trend and a Tết dip."""
    rng = np.random.default_rng(seed)
    n = N_COMMUNES * N_CATEGORIES
    weeks = np.arange(WEEKS)
    base = rng.lognormal(2.0, 0.8, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    growth = rng.uniform(-0.15, 0.25, size=(n, 1))
    lam = base * (1 + growth) ** (weeks / 52) * (1 + 0.25 * np.sin(2 * np.pi * weeks / 52 + phase))
    lam[:, [5, 57]] *= 0.4  # Tết weeks
    y = rng.poisson(lam).astype(float)
    ds = pd.date_range("2024-12-02", periods=WEEKS, freq=fc.FREQ)
    ids = np.repeat([f"{c:05d}|cat{k}" for c in range(N_COMMUNES) for k in range(N_CATEGORIES)], WEEKS)
    return pd.DataFrame({"unique_id": ids, "ds": np.tile(ds, n), "y": y.ravel()})


def seasonal_naive_only(df: pd.DataFrame, n_jobs: int) -> float:
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    start = time.perf_counter()
    sf = StatsForecast(models=[SeasonalNaive(season_length=fc.SEASON)], freq=fc.FREQ, n_jobs=n_jobs)
    sf.cross_validation(df=df, h=fc.HORIZON, n_windows=fc.CV_WINDOWS, step_size=fc.HORIZON, level=list(fc.LEVELS))
    sf.forecast(df=df, h=fc.HORIZON, level=list(fc.LEVELS))
    return time.perf_counter() - start


def bench_forecast(sample: int, n_jobs: int) -> dict[str, object]:
    df = national_frame()
    series = df["unique_id"].nunique()
    naive_seconds = seasonal_naive_only(df, n_jobs)
    ids = df["unique_id"].unique()[:sample]
    part = df[df["unique_id"].isin(ids)]
    start = time.perf_counter()
    result = fc.forecast_all(part, n_jobs=n_jobs)
    full_sample = time.perf_counter() - start
    naive_sample = seasonal_naive_only(part, n_jobs)
    per_series = full_sample / len(ids)
    full_all = per_series * series
    return {
        "series": series, "weeks": WEEKS, "n_jobs": n_jobs,
        "seasonal_naive_all_series_s": round(naive_seconds, 2),
        "full_pipeline_sample_series": len(ids), "full_pipeline_sample_s": round(full_sample, 2),
        "seasonal_naive_sample_s": round(naive_sample, 3),
        "full_pipeline_all_series_s": round(full_all, 1),
        "full_pipeline_all_series_is_extrapolated": len(ids) < series,
        "ratio_full_vs_seasonal_naive": round(full_all / naive_seconds, 1),
        "chosen_in_sample": {m: list(result.chosen.values()).count(m) for m in sorted(set(result.chosen.values()))},
    }


def holdout_scores(df: pd.DataFrame, mode: str, n_jobs: int, holdout: int = fc.HORIZON) -> dict[str, object]:
    """Forecast ``mode`` on all weeks but the last ``holdout`` and score the chosen models and
    seasonal naive (same week last year) on them: MASE scaled by each series' in-sample
    52-week differences, 80 %/95 % coverage. Also the wall time of the forecast."""
    cut = df["ds"].max() - pd.Timedelta(weeks=holdout)
    train, test = df[df["ds"] <= cut], df[df["ds"] > cut]
    start = time.perf_counter()
    result = fc.forecast_all(train, horizon=holdout, n_jobs=n_jobs, mode=mode)
    seconds = time.perf_counter() - start
    rows = pd.DataFrame(result.rows)
    rows["unique_id"] = rows["commune_code"] + "|" + rows["category"]
    rows["ds"] = pd.to_datetime(rows["ds"])
    scored = rows.merge(test, on=["unique_id", "ds"])
    wide = train.pivot(index="ds", columns="unique_id", values="y").sort_index()
    y = wide.to_numpy()
    scale = np.abs(y[fc.SEASON:] - y[:-fc.SEASON]).mean(axis=0)
    scale = pd.Series(np.where(scale > 0, scale, 1.0), index=wide.columns)
    step = ((scored["ds"] - cut).dt.days // 7).to_numpy()  # 1..holdout
    last_year = wide.to_numpy()[len(wide) - fc.SEASON + (step - 1) % fc.SEASON,
                                wide.columns.get_indexer(scored["unique_id"])]
    s = scored["unique_id"].map(scale).to_numpy()
    return {
        "mode": mode, "series": int(train["unique_id"].nunique()), "seconds": round(seconds, 1),
        "mase_chosen": round(float((np.abs(scored["y"] - scored["mean"]) / s).mean()), 4),
        "mase_seasonal_naive": round(float((np.abs(scored["y"].to_numpy() - last_year) / s).mean()), 4),
        "coverage_80": round(float(((scored["lo80"] <= scored["y"]) & (scored["y"] <= scored["hi80"])).mean()), 4),
        "coverage_95": round(float(((scored["lo95"] <= scored["y"]) & (scored["y"] <= scored["hi95"])).mean()), 4),
        "chosen": {m: list(result.chosen.values()).count(m) for m in sorted(set(result.chosen.values()))},
    }


def _timed(label: str, out: dict[str, object], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``; record its wall time and CPU time (this process and its children) in ``out``
    and print the partial results (a loaded machine may stop a long run before the end)."""
    import resource

    wall, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    value = fn(*args, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out[f"{label}_wall_s"] = round(time.perf_counter() - wall, 1)
    out[f"{label}_cpu_s"] = round(time.process_time() - cpu + (after.ru_utime + after.ru_stime)
                                  - (children.ru_utime + children.ru_stime), 1)
    out[f"{label}_load_average"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps({k: v for k, v in out.items() if k.startswith(label)}), flush=True)
    return value


def bench_national_fast(sample: int, n_jobs: int, subset: int = 5000) -> dict[str, object]:
    """The fast path (vectorised seasonal naive + harmonic regression, chosen per series by
    cross-validation, 8-week forecast with intervals) on all 50,000 series, timed for real;
    seasonal naive alone in the same run (vectorised on all series; statsforecast's on
    ``subset`` series); accuracy on the last 8 weeks held out: the fast path against the full
    path (statsforecast's three + the harmonic regression) on the same ``sample`` series (every
    category), and the fast path on ``subset`` series."""
    from popid.analytics import harmonic

    df = national_frame()
    out: dict[str, object] = {"series": int(df["unique_id"].nunique()), "weeks": WEEKS, "n_jobs": n_jobs}
    fast = _timed("fast_all", out, fc.forecast_all, df, mode="fast")
    out["fast_all_chosen"] = {m: list(fast.chosen.values()).count(m) for m in sorted(set(fast.chosen.values()))}
    out["fast_all_rows"] = len(fast.rows)

    def naive(frame: pd.DataFrame) -> None:
        harmonic.cross_validation(frame, h=fc.HORIZON, n_windows=fc.CV_WINDOWS, step_size=fc.HORIZON,
                                  levels=fc.LEVELS, models=("SeasonalNaive",))
        harmonic.forecast(frame, h=fc.HORIZON, levels=fc.LEVELS, models=("SeasonalNaive",))

    _timed("naive_vectorised_all", out, naive, df)
    fast_wall, naive_wall = float(out["fast_all_wall_s"]), float(out["naive_vectorised_all_wall_s"])  # type: ignore[arg-type]
    out["ratio_fast_vs_naive_vectorised_wall"] = round(fast_wall / max(naive_wall, 0.1), 1)
    communes = sample // N_CATEGORIES
    ids = [f"{c:05d}|cat{k}" for c in range(0, N_COMMUNES, N_COMMUNES // communes)[:communes]
           for k in range(N_CATEGORIES)]
    part = df[df["unique_id"].isin(ids)]
    out["holdout_sample_fast"] = holdout_scores(part, "fast", n_jobs)
    print(json.dumps(out["holdout_sample_fast"]), flush=True)
    out["holdout_sample_full"] = _timed("full_sample", out, holdout_scores, part, "full", n_jobs)
    print(json.dumps(out["holdout_sample_full"]), flush=True)
    first = df["unique_id"].unique()[:subset]
    sub = df[df["unique_id"].isin(first)]
    _timed("naive_statsforecast_subset", out, seasonal_naive_only, sub, n_jobs)
    _timed("fast_subset", out, fc.forecast_all, sub, mode="fast")
    out["subset_series"] = subset
    out["holdout_subset_fast"] = holdout_scores(sub, "fast", n_jobs)
    print(json.dumps(out["holdout_subset_fast"]), flush=True)
    return out


def bench_accuracy(communes: int, n_jobs: int, mode: str = "full", seed: int = 11) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "analytics")
        today = fc.today()
        history = synthetic.generate(communes=services.demo_communes(communes), end=today, weeks=104, seed=seed,
                                     placed_events=False)
        staged = Staged()
        store.stage("daily", history.daily, staged)
        store.publish(staged, truth=history.truth.to_json())
        start = time.perf_counter()
        report = services.evaluate(store=store, n_jobs=n_jobs, mode=mode)
        report["evaluate_s"] = round(time.perf_counter() - start, 1)
        return report


def bench_queries(incidents: int, runs: int) -> dict[str, object]:
    import duckdb
    import h3

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "analytics")
        store.data.mkdir(parents=True)
        communes = services.demo_communes(200) + [c for c in list(synthetic.admin_units.communes())[:800]]
        cells = []
        for commune in communes:
            lat, lon = synthetic.commune_centre(commune)
            centre = h3.latlng_to_cell(lat, lon, synthetic.H3_RESOLUTION)
            cells += [(commune, c) for c in list(h3.grid_disk(centre, 3))[:30]]
        con = duckdb.connect()
        con.execute("SET threads TO 2")
        pool = pd.DataFrame({"k": range(len(cells)), "commune_code": [c for c, _ in cells],
                             "province_code": [synthetic.admin_units.province_of_commune(c) for c, _ in cells],
                             "h3": [h for _, h in cells]})
        con.register("pool", pool)
        path = store.data / "incidents-bench.parquet"
        start = time.perf_counter()
        con.execute(f"""
            COPY (SELECT CASE WHEN r.u < 0.5 THEN 'incident' ELSE 'violation' END AS category,
                         'trom-cap' AS subcategory, p.commune_code, p.province_code,
                         CAST(TIMESTAMP '2024-12-02' + to_hours(r.hours) AS TIMESTAMP_S) AS hour,
                         p.h3, 'synthetic' AS source
                  FROM (SELECT random() AS u, CAST(floor(random() * 24 * 728) AS BIGINT) AS hours,
                               CAST(floor(random() * {len(cells)}) AS BIGINT) AS k
                        FROM range({incidents})) r
                  JOIN pool p ON p.k = r.k)
            TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)""")
        build = time.perf_counter() - start
        con.close()
        store.publish(Staged(add={"incidents": [path.name]}))
        end = date(2026, 11, 30)
        cases = [("dow_hour", "01"), ("hot_cells", "01"), ("dow_hour", "00070"), ("hot_cells", "00070"),
                 ("dow_hour", "")]
        timings: dict[str, list[float]] = {}
        with store.connect() as db:
            assert db.execute("SELECT count(*) FROM incidents").fetchone()[0] == incidents
            for _ in range(runs):
                for name, unit in cases:
                    t = time.perf_counter()
                    queries.run_duckdb(db, name, scope=queries.Scope(unit), start=end - timedelta(weeks=8), end=end,
                                       category="incident")
                    timings.setdefault(f"{name}:{unit or 'nation'}", []).append((time.perf_counter() - t) * 1000)
        every = sorted(v for values in timings.values() for v in values)
        return {
            "incidents": incidents, "parquet_mb": round(path.stat().st_size / 1e6, 1) if path.exists() else None,
            "build_s": round(build, 1), "runs_per_query": runs,
            "p50_ms": round(statistics.median(every), 1), "p99_ms": round(every[int(0.99 * (len(every) - 1))], 1),
            "per_query_p99_ms": {k: round(sorted(v)[int(0.99 * (len(v) - 1))], 1) for k, v in timings.items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--communes", type=int, default=10)
    parser.add_argument("--incidents", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=["forecast", "national", "accuracy", "queries"], default=None)
    parser.add_argument("--mode", choices=["full", "fast"], default="full", help="accuracy: candidate set")
    args = parser.parse_args()
    out: dict[str, object] = {"load_average": os.getloadavg(), "cpus": os.cpu_count()}
    if args.only in (None, "queries"):
        out["queries"] = bench_queries(args.incidents, args.runs)
        print(json.dumps(out["queries"]), flush=True)
    if args.only in (None, "forecast"):
        out["forecast"] = bench_forecast(args.sample, args.jobs)
        print(json.dumps(out["forecast"]), flush=True)
    if args.only in (None, "national"):
        out["national"] = bench_national_fast(args.sample, args.jobs)
        print(json.dumps(out["national"]), flush=True)
    if args.only in (None, "accuracy"):
        out["accuracy"] = bench_accuracy(args.communes, args.jobs, args.mode)
        print(json.dumps(out["accuracy"], default=str), flush=True)
    out["load_average_after"] = os.getloadavg()
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    name = f"analytics-{args.only}.json" if args.only else "analytics.json"
    (results / name).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
