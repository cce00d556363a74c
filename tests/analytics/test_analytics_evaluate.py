"""`popid analytics seed-history` then `popid analytics evaluate`: the JSON report measures the
chosen models against seasonal naive on held-out weeks, the intervals' coverage and the alerts
against the injected anomalies of the synthetic truth."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from popid.analytics.store import Store


@pytest.mark.django_db
def test_seed_history_then_evaluate_prints_json(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    out = StringIO()
    call_command("analytics", "seed-history", "--communes", "1", "--seed", "7", stdout=out)
    assert "injected anomalies" in out.getvalue()
    truth = Store().manifest()["truth"]
    assert truth["communes"] == ["00070"]
    again = StringIO()
    call_command("analytics", "seed-history", "--if-empty", stdout=again)
    assert "already" in again.getvalue()
    printed = StringIO()
    call_command("analytics", "evaluate", "--alert-weeks", "40", stdout=printed)
    report = json.loads(printed.getvalue())
    assert report["series"] == 4 and report["holdout_weeks"] == 8 and report["points"] == 32
    assert report["mase_chosen"] > 0 and report["mase_seasonal_naive"] > 0
    assert 0 <= report["coverage_80"] <= report["coverage_95"] <= 1
    alerts = report["alerts"]
    assert alerts["weeks_checked"] == 40 and alerts["injected"] >= 0
    if alerts["raised"]:
        assert 0 <= alerts["precision"] <= 1
    if alerts["injected"]:
        assert 0 <= alerts["recall"] <= 1


def test_evaluate_on_an_empty_store(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    printed = StringIO()
    call_command("analytics", "evaluate", stdout=printed)
    assert json.loads(printed.getvalue()) == {"series": 0, "note": "the store holds no data"}
