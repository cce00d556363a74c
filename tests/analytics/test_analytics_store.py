"""The store: schema that cannot hold personal data, atomic publication, interrupted refresh,
incremental export from the operational database, future dates refused, the same queries on
DuckDB."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from django.utils import timezone

from popid.analytics import queries, services, synthetic
from popid.analytics.errors import StoreRefused
from popid.analytics.schema import SCHEMAS
from popid.analytics.store import MANIFEST, Staged
from popid.core.access import Actor
from popid.core.errors import PermissionDenied
from popid.police.models import Report
from popid.traffic.models import Detection

from .conftest import AS_OF, load


def _daily(**override):
    row = {"category": "incident", "subcategory": "trom-cap", "commune_code": "00070", "province_code": "01",
           "day": date(2026, 1, 5), "n": 3, "source": "operational"}
    row.update(override)
    return pa.Table.from_pylist([row], schema=SCHEMAS["daily"])


@pytest.mark.parametrize("override", [
    {"subcategory": "001099012345"},  # an ID number
    {"subcategory": "Nguyễn Văn An"},  # a name
    {"commune_code": "0007"},
    {"category": "person"},
    {"source": "registry"},
])
def test_schema_refuses_values_that_are_not_codes(store, override):
    with pytest.raises(StoreRefused):
        store.stage("daily", _daily(**override), Staged())
    assert not store.data.exists() or list(store.data.iterdir()) == []


def test_schema_refuses_an_extra_column(store):
    table = _daily().append_column("id_number", pa.array(["001099012345"]))
    with pytest.raises(StoreRefused):
        store.stage("daily", table, Staged())
    with pytest.raises(StoreRefused):
        store.stage("persons", _daily(), Staged())


def test_interrupted_refresh_leaves_the_previous_state(store):
    staged = Staged()
    store.stage("daily", _daily(n=3), staged)
    store.publish(staged)
    # a second refresh writes its file, then dies before the manifest swap (and left a torn temp manifest)
    store.stage("daily", _daily(n=100), Staged())
    (store.root / f"{MANIFEST}.tmp").write_text('{"version": 99, "tab', encoding="utf-8")
    with store.connect() as con:
        assert con.execute("SELECT sum(n) FROM daily").fetchone()[0] == 3
    assert len(list(store.data.glob("*.parquet"))) == 2
    assert store.sweep() == 1  # the orphan goes; the published file stays
    with store.connect() as con:
        assert con.execute("SELECT sum(n) FROM daily").fetchone()[0] == 3
    assert store.manifest()["version"] == 1


def test_empty_store_answers_with_empty_tables(store):
    with store.connect() as con:
        rows = queries.run_duckdb(con, "by_category", scope=queries.Scope("01"), start=date(2026, 1, 1),
                                  end=date(2026, 2, 1))
    assert rows == []


def _report(code: str, *, when, lat=None, lon=None, commune="00070") -> Report:
    return Report.objects.create(code=code, tracking_hash=code.ljust(64, "0"), category_code="trom-cap",
                                 commune_code=commune, latitude=lat, longitude=lon, occurred_at=when,
                                 description="Mất xe máy trước cửa nhà số 12", unit_code=commune)


@pytest.mark.django_db
def test_refresh_exports_incrementally_and_refuses_future_dates(store):
    actor = Actor.system("test")
    now = timezone.now()
    _report("TB-1", when=now - timedelta(days=2), lat=Decimal("21.028500"), lon=Decimal("105.852000"))
    _report("TB-2", when=now - timedelta(days=1))
    future = _report("TB-3", when=now + timedelta(days=30))
    Detection.objects.create(device_id="cam-1", plate_text="29A12345", plate_key="29A12345", vehicle_kind="car",
                             detected_at=now - timedelta(hours=5), commune_code="00070", latitude=Decimal("21.02900"),
                             longitude=Decimal("105.85300"), violation_code="M07-01A", source="test")
    first = services.refresh(actor=actor, store=store)
    assert first.exported == {"police.report": 2, "traffic.detection": 1, "services.dossier": 0}
    assert [r["id"] for r in first.future_refused] == [future.pk]
    assert store.manifest()["future_refused"][0]["source"] == "police.report"
    with store.connect() as con:
        assert dict(con.execute("SELECT category, sum(n) FROM daily GROUP BY 1").fetchall()) == {
            "incident": 2, "report": 2, "violation": 1}
        assert con.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2  # the two rows with coordinates
        columns = {c[0] for c in con.execute("DESCRIBE daily").fetchall()} | {
            c[0] for c in con.execute("DESCRIBE incidents").fetchall()}
    assert not columns & {"description", "plate_text", "plate_key", "latitude", "longitude", "id", "code"}
    again = services.refresh(actor=actor, store=store)
    assert again.exported == {"police.report": 0, "traffic.detection": 0, "services.dossier": 0}
    _report("TB-4", when=now - timedelta(hours=3))
    third = services.refresh(actor=actor, store=store)
    assert third.exported["police.report"] == 1
    with store.connect() as con:
        assert con.execute("SELECT sum(n) FROM daily WHERE category = 'incident'").fetchone()[0] == 3


def test_refresh_needs_the_manage_permission(store, officer_hoan_kiem):
    with pytest.raises(PermissionDenied):
        services.refresh(actor=Actor.for_user(officer_hoan_kiem), store=store)


def test_synthetic_history_has_its_truth_and_seasons(store):
    history = synthetic.generate(communes=["00070", "00004"], end=AS_OF, weeks=104, seed=5, anomaly_rate=0.05,
                                 placed_events=False)
    assert history.incidents.num_rows == 0
    assert history.truth.anomalies and all(a.week_start >= history.truth.start + timedelta(weeks=52)
                                           for a in history.truth.anomalies)
    load(store, history)
    with store.connect() as con:
        by_dow = dict(con.execute("SELECT isodow(day), sum(n) FROM daily WHERE category = 'dossier' "
                                  "GROUP BY 1").fetchall())
        tet = con.execute("SELECT sum(n) FROM daily WHERE category = 'dossier' AND day BETWEEN DATE '2026-02-15' "
                          "AND DATE '2026-02-21'").fetchone()[0]
        week_before = con.execute("SELECT sum(n) FROM daily WHERE category = 'dossier' AND day BETWEEN "
                                  "DATE '2026-01-26' AND DATE '2026-02-01'").fetchone()[0]
    assert by_dow[7] < by_dow[1] / 5  # no dossiers on Sundays
    assert tet < week_before / 3  # offices close for Tết
    assert store.manifest()["truth"]["anomalies"]
