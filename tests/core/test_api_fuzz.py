"""Schemathesis fuzzes every operation of the OpenAPI document: whatever it sends, the API
never fails with a 5xx and every error is RFC 9457 problem JSON."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from popid.wsgi import application
from tests.conftest import bearer

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def auth_headers(officer_hanoi_province, family) -> dict[str, str]:
    return bearer(officer_hanoi_province)


@pytest.fixture(autouse=True)
def keep_test_connection_open():
    """The WSGI handler closes connections after each request; the test transaction must survive."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_without_5xx_and_with_problem_json(case, auth_headers):
    response = case.call(headers=auth_headers)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        headers = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in response.headers.items()}
        assert headers["content-type"].startswith("application/problem+json"), response.text[:300]
        body = response.json()
        assert body["status"] == response.status_code and body["title"]
