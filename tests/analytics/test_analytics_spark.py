"""The dashboard's SQL on Spark (local mode) gives what DuckDB gives, on the same Parquet files.
One Spark session per test run: the session is built with ``popid.matching.spark.local_session``
(``getOrCreate``), so this test and the matching test share it whichever runs first."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from popid.analytics import queries, synthetic
from popid.analytics.store import Store

from .conftest import AS_OF, load

pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark_session():
    if shutil.which("java") is None:
        pytest.fail("Java is required for the Spark test (.ci/run installs openjdk-17-jre-headless)")
    from popid.matching.spark import local_session

    session = local_session(cores=1)
    yield session
    session.stop()


def test_same_queries_same_answers_on_duckdb_and_spark(spark_session, tmp_path):
    store = Store(tmp_path / "analytics")
    load(store, synthetic.generate(communes=["00070", "00004"], end=AS_OF, weeks=20, seed=4, anomaly_rate=0))
    queries.spark_views(spark_session, {name: [str(p) for p in store.files(name)] for name in ("daily", "incidents")})
    cases = [("by_category", None), ("by_commune", "incident"), ("weekly", "violation"), ("dow_hour", "incident"),
             ("hot_cells", "violation"), ("by_subcategory", "dossier")]
    with store.connect() as con:
        for name, category in cases:
            kwargs = {"scope": queries.Scope("01"), "start": date(2026, 8, 1), "end": date(2026, 12, 1),
                      "category": category}
            on_duckdb = [tuple(str(v) for v in row) for row in queries.run_duckdb(con, name, **kwargs)]
            on_spark = [tuple(str(v) for v in row) for row in queries.run_spark(spark_session, name, **kwargs)]
            assert on_duckdb, name
            assert on_spark == on_duckdb, name
