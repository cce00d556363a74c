"""Health, readiness, metrics and logs (issue #12): /healthz, /readyz naming the failing
dependency, /metrics behind its token, request ids in and out and into tasks, and no personal
data in the logs of requests and tasks that touch it."""

from __future__ import annotations

import io
import json
import logging
from datetime import date
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from popid.core import logs, tasks
from popid.core.task_backend import REQUEST_ID_KWARG
from popid.ops import health
from tests.conftest import HOAN_KIEM, bearer
from tests.ops.test_ops_tasks import run_worker


def test_healthz_answers_and_echoes_a_sane_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-0123456789")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["X-Request-ID"] == "req-0123456789"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert forged["X-Request-ID"] != "bad id\nwith newline" and len(forged["X-Request-ID"]) == 24


def test_readyz_names_the_failing_dependency(client, db):
    missing = client.get("/readyz")
    assert missing.status_code == 503 and missing["Content-Type"] == "application/problem+json"
    assert missing.json()["failing"] == ["worker"] and missing.json()["checks"]["database"] == "ok"
    tasks.beat("worker-1")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["checks"].values()) == {"ok"}
    with mock.patch.object(health.cache, "get", return_value=None):
        assert client.get("/readyz").json()["failing"] == ["cache"]
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("connection refused")
    with mock.patch.object(health, "connections", {"default": broken}):
        down = client.get("/readyz")
    assert down.status_code == 503 and down.json()["failing"] == ["database"]
    assert "refused" not in json.dumps(down.json())  # the class of the error only, no internals
    # The database going away after its own check (or under the database-backed cache): the
    # cache check notices, and readiness names the database as the cause too.
    with mock.patch.object(health.cache, "get", side_effect=OperationalError("server closed the connection")):
        noticed = client.get("/readyz").json()
    assert noticed["failing"] == ["database", "cache"]
    assert noticed["checks"]["database"] == "failed: OperationalError (seen by the cache check)"


def test_metrics_need_the_token_and_show_queue_ledger_webhooks_and_dossiers(client, db, settings):
    client.get("/healthz")
    settings.POPID_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics").status_code == 200  # loopback, no token configured
    settings.POPID_METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    tasks.prune_task_results.enqueue()
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()
    for line in ('popid_http_requests_total{method="GET",status="2xx",view="healthz"}',
                 "popid_http_request_duration_seconds_bucket", 'popid_db_queries_total{view="healthz"} 0.0',
                 "popid_task_queue_depth 1.0",
                 "popid_task_queue_oldest_age_seconds", 'popid_tasks{status="READY"} 1.0',
                 "popid_ledger_pending_records", "popid_ledger_lag_seconds", "popid_dossiers_overdue",
                 'popid_workers_alive{kind="worker"} 0.0', "popid_database_up 1.0"):
        assert line in body, line


@pytest.fixture
def log_output():
    """The console handler's JSON formatter and filters, writing to a buffer, on the root logger."""
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(console.formatter)
    for item in console.filters:
        handler.addFilter(item)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.WARNING)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old)


def test_personal_data_never_reaches_the_logs_and_tasks_carry_the_request_id(family, officer_hoan_kiem,
                                                                              log_output, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    api = Client(headers=bearer(officer_hoan_kiem))
    grandma, an = family["grandma"], family["an"]
    assert api.get(f"/api/v1/persons/{an.id_number}").status_code == 200
    assert api.get("/api/v1/persons/001090999999").status_code == 404
    assert api.get(f"/api/v1/persons/{an.id_number}/history?q={an.full_name}").status_code in (200, 404)
    console = Client()
    console.force_login(officer_hoan_kiem)
    assert console.get(f"/persons/{an.id_number}/").status_code == 200
    assert console.get("/search/", {"q": an.full_name, "commune": HOAN_KIEM}).status_code == 200
    death = api.post(f"/api/v1/persons/{grandma.id_number}/death", {"died_on": "2026-11-01", "reason": "Khai tử"},
                     content_type="application/json", HTTP_X_REQUEST_ID="trace-death-0001")
    assert death.status_code == 200
    queued = [row for row in DBTaskResult.objects.all() if row.args_kwargs["kwargs"].get(REQUEST_ID_KWARG)]
    assert queued and {row.args_kwargs["kwargs"][REQUEST_ID_KWARG] for row in queued} == {"trace-death-0001"}
    run_worker()
    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if line.strip()]
    assert any(line["logger"] == "popid.tasks" and line["request_id"] == "trace-death-0001" for line in lines)
    assert any(line["logger"] == "popid.access" and line["request_id"] == "trace-death-0001" for line in lines)
    text = log_output.getvalue()
    secrets = {"001090999999", date(1962, 3, 4).isoformat()}
    for person in family.values():
        secrets |= {person.id_number, person.full_name, json.dumps(person.full_name)[1:-1]}
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, leaked
    assert any(logs.MASK in line["message"] for line in lines)  # Django's 404 warning: path masked
