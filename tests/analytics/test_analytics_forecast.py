"""Forecasts and alerts on tiny series: model choice by cross-validation, short series fall back
to seasonal naive and say so, a commune with no data, an alert with its evidence, acknowledged
and kept, jurisdiction."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popid.analytics import forecast as fc
from popid.analytics import selectors, services
from popid.analytics.errors import AlertNotFound, OutsideJurisdiction
from popid.analytics.models import Alert
from popid.analytics.schema import SCHEMAS
from popid.analytics.store import Staged
from popid.core.access import Actor
from popid.core.errors import PermissionDenied
from popid.registry.models import OutboxEvent

from .conftest import AS_OF, load

LAST_WEEK = fc.last_complete_week(AS_OF)


def _frame(uid: str, values: list[float], end: date = LAST_WEEK) -> pd.DataFrame:
    ds = pd.date_range(end=pd.Timestamp(end), periods=len(values), freq=fc.FREQ)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": values})


def test_short_series_falls_back_to_seasonal_naive_and_says_so():
    df = pd.concat([_frame("00070|incident", [3, 5, 4, 6, 5, 7, 6, 8.0]), _frame("00004|incident", [2.0])])
    result = fc.forecast_all(df)
    assert result.short == ["00070|incident"] and result.too_short == ["00004|incident"]
    rows = [r for r in result.rows if r["commune_code"] == "00070"]
    assert len(rows) == fc.HORIZON
    assert {r["status"] for r in rows} == {"short"} and {r["model"] for r in rows} == {"SeasonalNaive"}
    assert all(r["mase"] is None for r in rows)
    assert rows[0]["mean"] == 8.0  # the last week repeated: less than a year, no yearly season
    assert not [r for r in result.rows if r["commune_code"] == "00004"]


def test_empty_frame_forecasts_nothing():
    assert fc.forecast_all(fc.fill_weeks(pd.DataFrame(columns=["unique_id", "ds", "y"]), LAST_WEEK)).rows == []


def test_model_is_chosen_by_cross_validation_with_intervals(history_hoan_kiem):
    daily = history_hoan_kiem.daily.to_pandas()
    weekly = daily[daily["category"] == "dossier"].assign(
        ds=lambda d: pd.to_datetime(d["day"]) - pd.to_timedelta(pd.to_datetime(d["day"]).dt.weekday, unit="D"))
    df = fc.fill_weeks(weekly.groupby("ds", as_index=False)["n"].sum().rename(columns={"n": "y"}).assign(
        unique_id="00070|dossier", y=lambda d: d["y"].astype(float)), LAST_WEEK)
    result = fc.forecast_all(df, province_of={"00070": "01"})
    assert result.chosen["00070|dossier"] in {"SeasonalNaive", "AutoETS", "AutoARIMA", "Harmonic", "Ensemble"}
    assert result.models == fc.FULL_MODELS  # few series: statsforecast's three and the harmonic regression
    maes = result.cv_mae["00070|dossier"]
    assert maes[result.chosen["00070|dossier"]] == min(maes.values())
    assert len(result.rows) == fc.HORIZON
    for r in result.rows:
        assert r["lo95"] <= r["lo80"] <= r["mean"] <= r["hi80"] <= r["hi95"]
        assert r["status"] == "ok" and r["mase"] > 0 and r["mase_naive"] > 0 and r["province_code"] == "01"
    assert result.rows[0]["ds"] == LAST_WEEK + timedelta(weeks=1)


@pytest.mark.django_db
def test_spike_raises_an_alert_with_evidence_acknowledged_and_kept(store, history_hoan_kiem, officer_hoan_kiem,
                                                                   supervisor_nation):
    from tests.conftest import make_staff

    load(store, history_hoan_kiem)
    spike = pa.Table.from_pylist([{"category": "dossier", "subcategory": "thuong_tru", "commune_code": "00070",
                                   "province_code": "01", "day": LAST_WEEK + timedelta(days=1), "n": 150,
                                   "source": "synthetic"}], schema=SCHEMAS["daily"])
    staged = Staged()
    store.stage("daily", spike, staged)
    store.publish(staged)
    run = services.run_forecasts(actor=Actor.system("test"), store=store, alert_weeks=2, last_week=LAST_WEEK)
    assert run.series == 4 and run.alerts >= 1
    alert = Alert.objects.get(commune_code="00070", category="dossier", week_start=LAST_WEEK)
    assert alert.observed > alert.upper and alert.direction == "up"
    assert len(alert.evidence["previous_weeks"]) == 8 and alert.evidence["model"] == alert.model
    assert alert.evidence["p_value"] < 1e-4 and alert.evidence["false_discovery_rate"] == fc.ALERT_FDR
    assert OutboxEvent.objects.filter(topic="analytics.alert_raised", aggregate_id=str(alert.pk)).exists()
    # the forecasts are in the store, next to their backtest
    f = selectors.forecast_for(Actor.for_user(officer_hoan_kiem), commune_code="00070", category="dossier",
                               store=store, as_of=AS_OF)
    assert f.status == "ok" and len(f.points) == fc.HORIZON and f.mase is not None
    # an officer may not acknowledge; a supervisor of another province does not see it; the nation's does
    with pytest.raises(PermissionDenied):
        services.acknowledge_alert(actor=Actor.for_user(officer_hoan_kiem), alert_id=alert.pk)
    other = make_staff("gs.hcm", role="supervisor", level="province", unit_code="79", unit_name="TP HCM")
    with pytest.raises(AlertNotFound):
        services.acknowledge_alert(actor=Actor.for_user(other), alert_id=alert.pk)
    services.acknowledge_alert(actor=Actor.for_user(supervisor_nation), alert_id=alert.pk, note="Đợt cao điểm")
    alert.refresh_from_db()
    assert alert.is_acknowledged and alert.acknowledged_by == "gs.bocongan" and alert.note == "Đợt cao điểm"
    # a new run keeps the acknowledged alert as it is
    services.raise_alerts(df=services.weekly_frame(store, last_week=LAST_WEEK),
                          result=fc.forecast_all(services.weekly_frame(store, last_week=LAST_WEEK)), weeks=2)
    alert.refresh_from_db()
    assert alert.is_acknowledged and Alert.objects.filter(category="dossier", week_start=LAST_WEEK).count() == 1


@pytest.mark.django_db
def test_commune_with_no_data_and_outside_jurisdiction(store, history_hoan_kiem, officer_hoan_kiem,
                                                       officer_hanoi_province, officer_hcm):
    load(store, history_hoan_kiem)
    province = Actor.for_user(officer_hanoi_province)
    empty = selectors.forecast_for(province, commune_code="00004", category="incident", store=store, as_of=AS_OF)
    assert empty.status == "no_data" and empty.points == [] and empty.history == []
    with pytest.raises(OutsideJurisdiction):
        selectors.forecast_for(Actor.for_user(officer_hcm), commune_code="00070", category="incident", store=store)
    with pytest.raises(OutsideJurisdiction):
        selectors.situation_for(Actor.for_user(officer_hoan_kiem), unit="01", category="incident", store=store)
    with pytest.raises(OutsideJurisdiction):
        selectors.situation_for(province, unit="79", category="incident", store=store)
    s = selectors.situation_for(province, unit="00004", category="incident", store=store, as_of=AS_OF)
    assert not s.has_data


def test_harmonic_regression_recovers_a_season_a_trend_and_tet_despite_an_outlier():
    from popid.analytics import harmonic

    weeks = pd.date_range(end=pd.Timestamp(LAST_WEEK), periods=104, freq=fc.FREQ)
    future = pd.date_range(weeks[-1], periods=9, freq=fc.FREQ)[1:]
    every = weeks.append(future)
    x = harmonic.design(every, every[0])
    tet = x[:, -1]  # the share of the week in the seven days from the first day of Tết
    assert tet.max() > 0.5 and (tet > 0).sum() >= 2  # two Tết in two years, from the official calendar
    truth = 20 + 4 * x[:, 1] + 5 * x[:, 2] - 3 * x[:, 3] - 12 * tet
    y = truth[:104].copy()
    y[80] *= 4  # an anomaly in the history must not bend the fit
    out = harmonic.harmonic(y[:, None], weeks, future, (80, 95))
    assert np.allclose(out["mean"][0], truth[104:], atol=0.5)
    assert (out["lo-95"] <= out["lo-80"]).all() and (out["hi-80"] <= out["hi-95"]).all()


def test_fast_path_series_of_different_lengths_short_and_too_short():
    rng = np.random.default_rng(5)
    long_a = _frame("00070|incident", list(rng.poisson(20, 104).astype(float)))
    long_b = _frame("00004|incident", list(rng.poisson(9, 80).astype(float)))  # starts later: another group
    short = _frame("00007|incident", [3, 5, 4, 6, 5, 7, 6, 8.0])
    zeros = _frame("00008|incident", [0.0] * 90)  # a commune whose counts are all zero
    df = pd.concat([long_a, long_b, short, zeros, _frame("00010|incident", [2.0])])
    result = fc.forecast_all(df, mode="fast")
    assert result.models == fc.FAST_MODELS
    assert set(result.chosen) == {"00070|incident", "00004|incident", "00007|incident", "00008|incident"}
    assert result.short == ["00007|incident"] and result.too_short == ["00010|incident"]
    assert {result.chosen[u] for u in ("00070|incident", "00004|incident")} <= {"SeasonalNaive", "Harmonic",
                                                                                "Ensemble"}
    by = {}
    for r in result.rows:
        by.setdefault(r["commune_code"], []).append(r)
    assert all(len(v) == fc.HORIZON for v in by.values())
    assert all(r["lo95"] <= r["lo80"] <= r["mean"] <= r["hi80"] <= r["hi95"] for r in result.rows)
    assert {r["status"] for r in by["00007"]} == {"short"} and by["00007"][0]["mase"] is None
    assert all(r["mean"] == 0 and r["mase"] is not None for r in by["00008"])
    assert 10 < by["00070"][0]["mean"] < 30 and by["00070"][0]["mase"] > 0
    with pytest.raises(ValueError):
        fc.forecast_all(long_a, mode="quick")


def _outlier(p_value: float) -> fc.Outlier:
    return fc.Outlier(unique_id="00070|dossier", week=LAST_WEEK, observed=10, expected=2, lo=0, hi=6,
                      model="Harmonic", p_value=p_value)


def test_benjamini_hochberg_keeps_what_survives_the_number_of_weeks_checked():
    """A 1-in-100 week is an alert when one week is checked, not among 2,000: the step-up rule
    keeps the k smallest p-values with p(k) <= k * rate / tests (tests that were no candidates count)."""
    one = [(0.004, _outlier(0.004))]
    assert fc.benjamini_hochberg(one, tests=1, rate=0.05) == [one[0][1]]
    assert fc.benjamini_hochberg(one, tests=2000, rate=0.05) == []
    ranked = [(0.02, _outlier(0.02)), (1e-5, _outlier(1e-5)), (4e-5, _outlier(4e-5))]
    kept = fc.benjamini_hochberg(ranked, tests=100, rate=0.05)  # thresholds 5e-4, 1e-3, 1.5e-3
    assert [o.p_value for o in kept] == [1e-5, 4e-5]
    # step-up: the second p-value passes its own threshold, so the first is kept with it even if it
    # would not pass a stricter one-at-a-time rule
    pair = [(0.0011, _outlier(0.0011)), (0.0019, _outlier(0.0019))]
    assert len(fc.benjamini_hochberg(pair, tests=50, rate=0.05)) == 2  # thresholds 1e-3, 2e-3
    assert fc.benjamini_hochberg([], tests=10, rate=0.05) == []
