"""Analytics commands: seed the synthetic history, refresh the store from the operational
database, forecast every series, raise and acknowledge alerts, evaluate against the truth."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from popid.analytics import forecast as fc
from popid.analytics import synthetic
from popid.analytics.errors import AlertNotFound, NoticeNotFound
from popid.analytics.exporters import export
from popid.analytics.models import Alert, AlertNotice
from popid.analytics.schema import SCHEMAS
from popid.analytics.store import Staged, Store
from popid.core import admin_units, outbox
from popid.core.access import Actor
from popid.core.models import Role, ScopeLevel, StaffRole
from popid.core.permissions import Permission

log = logging.getLogger(__name__)

DEMO_PROVINCE = "01"
DEMO_COMMUNES = 4  # keeps `make run` quick: 16 series to forecast
ALERT_WEEKS = 4  # the periodic check looks at the last weeks only


today = fc.today
last_complete_week = fc.last_complete_week


def demo_communes(count: int = DEMO_COMMUNES) -> list[str]:
    """Hoàn Kiếm (the demo commune officer's unit) and the first communes of Hà Nội."""
    codes = [u.code for u in admin_units.communes_by_province().get(DEMO_PROVINCE, [])]
    first = ["00070"] if "00070" in codes else []
    return (first + [c for c in codes if c not in first])[:count]


# --- synthetic history -----------------------------------------------------------------
def seed_history(*, actor: Actor, store: Store | None = None, communes: list[str] | None = None,
                 weeks: int = 104, seed: int = 1, end: date | None = None,
                 anomaly_rate: float = 0.012) -> synthetic.History:
    """Replace the store's synthetic history (operational rows stay) and record its truth."""
    actor.require(Permission.ANALYTICS_MANAGE)
    store = store or Store()
    history = synthetic.generate(communes=communes or demo_communes(), end=end or today(), weeks=weeks, seed=seed,
                                 anomaly_rate=anomaly_rate)
    manifest = store.manifest()
    staged = Staged()
    staged.remove = set(manifest.get("synthetic_files", []))
    store.stage("daily", history.daily, staged)
    store.stage("incidents", history.incidents, staged)
    new_files = [n for names in staged.add.values() for n in names]
    store.publish(staged, truth=history.truth.to_json(), synthetic_files=new_files)
    store.sweep()
    return history


# --- refresh ---------------------------------------------------------------------------
@dataclass
class RefreshReport:
    exported: dict[str, int] = field(default_factory=dict)
    future_refused: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    swept: int = 0


def refresh(*, actor: Actor, store: Store | None = None, now: datetime | None = None) -> RefreshReport:
    """Export the operational rows added since the last refresh, publish them atomically."""
    actor.require(Permission.ANALYTICS_MANAGE)
    store = store or Store()
    swept = store.sweep()  # files an interrupted refresh left behind
    manifest = store.manifest()
    out = export(watermarks=manifest.get("watermarks", {}), now=now)
    daily, incidents = out.tables()
    staged = Staged()
    store.stage("daily", daily, staged)
    store.stage("incidents", incidents, staged)
    published = store.publish(staged, watermarks=out.watermarks, future_refused=out.future)
    if out.future:
        log.warning("analytics refresh refused %d row(s) dated in the future", len(out.future))
    return RefreshReport(exported=out.exported, future_refused=out.future, version=int(published["version"]),
                         swept=swept)


# --- forecasts -------------------------------------------------------------------------
def weekly_frame(store: Store, *, last_week: date, scope_sql: str = "1 = 1") -> pd.DataFrame:
    with store.connect() as con:
        frame = con.execute(
            "SELECT commune_code || '|' || category AS unique_id, "  # noqa: S608 - checked codes
            "CAST(date_trunc('week', day) AS TIMESTAMP) AS ds, CAST(sum(n) AS DOUBLE) AS y "
            f"FROM daily WHERE {scope_sql} AND day < DATE '{(last_week + timedelta(days=7)).isoformat()}' "
            "GROUP BY 1, 2 ORDER BY 1, 2").df()
    return fc.fill_weeks(frame, last_week)


def _province_map(df: pd.DataFrame) -> dict[str, str]:
    communes = {fc.split_id(u)[0] for u in df["unique_id"].unique()} if not df.empty else set()
    return {c: admin_units.province_of_commune(c) or "00" for c in communes}


@dataclass
class ForecastRun:
    series: int
    short: int
    too_short: int
    alerts: int
    chosen: dict[str, int]


def run_forecasts(*, actor: Actor, store: Store | None = None, n_jobs: int = 1, alert_weeks: int = ALERT_WEEKS,
                  last_week: date | None = None, mode: str = "auto") -> ForecastRun:
    """Forecast every series in the store, publish the forecasts, raise alerts for the last weeks."""
    actor.require(Permission.ANALYTICS_MANAGE)
    store = store or Store()
    last_week = last_week or last_complete_week()
    df = weekly_frame(store, last_week=last_week)
    result = fc.forecast_all(df, n_jobs=n_jobs, province_of=_province_map(df), mode=mode)
    staged = Staged(replace={"forecasts"})
    store.stage("forecasts", pa.Table.from_pylist(result.rows, schema=SCHEMAS["forecasts"]), staged)
    store.publish(staged)
    store.sweep()
    raised = raise_alerts(df=df, result=result, weeks=alert_weeks, n_jobs=n_jobs)
    counts: dict[str, int] = {}
    for model in result.chosen.values():
        counts[model] = counts.get(model, 0) + 1
    return ForecastRun(series=len(result.chosen), short=len(result.short), too_short=len(result.too_short),
                       alerts=raised, chosen=counts)


def raise_alerts(*, df: pd.DataFrame, result: fc.Result, weeks: int, n_jobs: int = 1) -> int:
    outliers = fc.detect(df, result.chosen, weeks=weeks, n_jobs=n_jobs, models=result.models or fc.FULL_MODELS)
    mase = {}
    for row in result.rows:
        mase[fc.series_id(row["commune_code"], row["category"])] = (row["mase"], row["mase_naive"])
    created = 0
    for o in outliers:
        commune, category = fc.split_id(o.unique_id)
        series = df[df["unique_id"] == o.unique_id]
        before = series[series["ds"] < pd.Timestamp(o.week)].tail(8)
        evidence = {
            "previous_weeks": [{"week": pd.Timestamp(d).date().isoformat(), "count": float(y)}
                               for d, y in zip(before["ds"], before["y"], strict=True)],
            "interval_level": fc.ALERT_LEVEL, "model": o.model,
            "p_value": o.p_value, "false_discovery_rate": fc.ALERT_FDR,
            "backtest_mase": mase.get(o.unique_id, (None, None))[0],
            "backtest_mase_seasonal_naive": mase.get(o.unique_id, (None, None))[1],
        }
        with transaction.atomic():
            alert, made = Alert.objects.get_or_create(
                commune_code=commune, category=category, week_start=o.week,
                defaults={"province_code": admin_units.province_of_commune(commune) or "00",
                          "observed": o.observed, "expected": round(o.expected, 2), "lower": round(o.lo, 2),
                          "upper": round(o.hi, 2), "level": fc.ALERT_LEVEL, "model": o.model, "evidence": evidence})
            if made:
                created += 1
                outbox.emit(topic="analytics.alert_raised", aggregate_id=str(alert.pk),
                            payload={"commune_code": commune, "category": category, "week": o.week.isoformat()})
    return created


def acknowledge_alert(*, actor: Actor, alert_id: int, note: str = "") -> Alert:
    actor.require(Permission.ANALYTICS_MANAGE)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None or not actor.covers_commune(alert.commune_code):
            raise AlertNotFound()
        if alert.acknowledged_at is None:
            alert.acknowledged_at = timezone.now()
            alert.acknowledged_by = actor.label
            alert.acknowledged_unit = actor.unit_name
            alert.note = (note or "").strip()[:500]
            alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_unit", "note"])
            outbox.emit(topic="analytics.alert_acknowledged", aggregate_id=str(alert.pk),
                        payload={"by": actor.label})
    return alert


# --- supervisors' notifications ----------------------------------------------------------
def supervisors_for(commune_code: str) -> list[int]:
    """The users to tell about an alert in ``commune_code``: the supervisors of the commune's
    police and of its province's; when neither unit has one, the national supervisors (an alert
    never goes unseen). Inactive accounts are left out."""
    province = admin_units.province_of_commune(commune_code) or ""
    active = StaffRole.objects.filter(role=Role.SUPERVISOR, user__is_active=True)
    local = active.filter(level=ScopeLevel.COMMUNE, unit_code=commune_code) | active.filter(
        level=ScopeLevel.PROVINCE, unit_code=province)
    users = sorted(set(local.values_list("user_id", flat=True)))
    if not users:
        users = sorted(set(active.filter(level=ScopeLevel.NATION).values_list("user_id", flat=True)))
    return users


def notify_supervisors(*, alert_id: int) -> int:
    """One notice per supervisor covering the alert's commune (idempotent: run twice, written
    once). Returns the notices written by this call."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:  # the alert is gone: nothing to tell
        return 0
    made = 0
    with transaction.atomic():
        for user_id in supervisors_for(alert.commune_code):
            _, created = AlertNotice.objects.get_or_create(alert=alert, user_id=user_id)
            made += int(created)
    return made


def mark_notice_read(*, actor: Actor, notice_id: int) -> AlertNotice:
    """A supervisor marks one of their own notices read (another user's reads as missing)."""
    actor.require(Permission.ANALYTICS_READ)
    if actor.user_id is None:  # a system process has no notices
        raise NoticeNotFound()
    with transaction.atomic():
        notice = AlertNotice.objects.select_for_update().filter(pk=notice_id, user_id=actor.user_id).first()
        if notice is None:
            raise NoticeNotFound()
        if notice.read_at is None:
            notice.read_at = timezone.now()
            notice.save(update_fields=["read_at"])
    return notice


# --- evaluation --------------------------------------------------------------------------
def evaluate(*, store: Store | None = None, holdout: int = fc.HORIZON, alert_weeks: int = 52,
             n_jobs: int = 1, last_week: date | None = None, mode: str = "auto") -> dict[str, Any]:
    """Honest figures on the store's data: models chosen on the weeks before a held-out
    horizon, scored on it (MASE against seasonal naive, interval coverage); alerts over the last
    ``alert_weeks`` weeks scored against the injected anomalies of the synthetic truth."""
    store = store or Store()
    manifest = store.manifest()
    last_week = last_week or last_complete_week()
    df = weekly_frame(store, last_week=last_week)
    if df.empty:
        return {"series": 0, "note": "the store holds no data"}
    cut = pd.Timestamp(last_week) - pd.Timedelta(weeks=holdout)
    train, test = df[df["ds"] <= cut], df[df["ds"] > cut]
    result = fc.forecast_all(train, horizon=holdout, n_jobs=n_jobs, province_of=_province_map(train), mode=mode)
    naive = _seasonal_naive(train, holdout)
    rows = pd.DataFrame(result.rows)
    ok = rows[rows["status"] == "ok"].copy() if not rows.empty else rows
    errors_model, errors_naive, in80, in95, n = [], [], 0, 0, 0
    for uid, g in ok.groupby(ok["commune_code"] + "|" + ok["category"]) if not ok.empty else []:
        actual = test[test["unique_id"] == uid].set_index("ds")["y"]
        history = train[train["unique_id"] == uid]["y"].to_numpy()
        scale = fc._scale(history, fc.SEASON)
        for r in g.itertuples(index=False):
            ds = pd.Timestamp(r.ds)
            if ds not in actual.index:
                continue
            y = float(actual[ds])
            errors_model.append(abs(y - r.mean) / scale)
            errors_naive.append(abs(y - naive[(uid, ds)]) / scale)
            in80 += int(r.lo80 <= y <= r.hi80)
            in95 += int(r.lo95 <= y <= r.hi95)
            n += 1
    report: dict[str, Any] = {
        "series": int(df["unique_id"].nunique()),
        "series_short": len(result.short),
        "candidates": list(result.models),
        "holdout_weeks": holdout,
        "chosen_models": {m: list(result.chosen.values()).count(m) for m in sorted(set(result.chosen.values()))},
        "mase_chosen": round(float(np.mean(errors_model)), 4) if errors_model else None,
        "mase_seasonal_naive": round(float(np.mean(errors_naive)), 4) if errors_naive else None,
        "coverage_80": round(in80 / n, 4) if n else None,
        "coverage_95": round(in95 / n, 4) if n else None,
        "points": n,
    }
    if report["mase_chosen"] is not None and report["mase_seasonal_naive"]:
        report["mase_ratio"] = round(report["mase_chosen"] / report["mase_seasonal_naive"], 4)
    truth = manifest.get("truth")
    if truth:
        full = fc.forecast_all(df, n_jobs=n_jobs, mode=mode)
        outliers = fc.detect(df, full.chosen, weeks=alert_weeks, n_jobs=n_jobs, models=full.models)
        first = pd.Timestamp(last_week) - pd.Timedelta(weeks=alert_weeks - 1)
        injected = {(a["commune_code"], a["category"], a["week_start"]) for a in truth["anomalies"]
                    if pd.Timestamp(a["week_start"]) >= first}
        found = {(*fc.split_id(o.unique_id), o.week.isoformat()) for o in outliers}
        hits = len(found & injected)
        report["alerts"] = {
            "weeks_checked": alert_weeks, "raised": len(found), "injected": len(injected), "true_positives": hits,
            "precision": round(hits / len(found), 4) if found else None,
            "recall": round(hits / len(injected), 4) if injected else None,
        }
    return report


def _seasonal_naive(train: pd.DataFrame, horizon: int) -> dict[tuple[str, pd.Timestamp], float]:
    out = {}
    for uid, g in train.groupby("unique_id"):
        y = g["y"].to_numpy()
        last = g["ds"].max()
        season = fc.SEASON if len(y) >= fc.SEASON else 1
        for h in range(1, horizon + 1):
            out[(str(uid), last + pd.Timedelta(weeks=h))] = float(y[len(y) - season + (h - 1) % season])
    return out


def dump(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, default=str)
