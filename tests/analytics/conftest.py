"""Analytics fixtures: a store in a temporary directory (never POPID_DATA_DIR's), tiny synthetic
histories (a couple of communes) so statsforecast runs on few series."""

from __future__ import annotations

from datetime import date

import pytest

from popid.analytics import synthetic
from popid.analytics.store import Staged, Store

AS_OF = date(2026, 11, 30)  # a Monday: the last complete week starts on 2026-11-23


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "analytics")


def load(store: Store, history: synthetic.History, *, truth: bool = True) -> None:
    staged = Staged()
    store.stage("daily", history.daily, staged)
    store.stage("incidents", history.incidents, staged)
    store.publish(staged, truth=history.truth.to_json() if truth else None)


@pytest.fixture
def history_hoan_kiem() -> synthetic.History:
    return synthetic.generate(communes=["00070"], end=AS_OF, weeks=104, seed=3, anomaly_rate=0.0)
