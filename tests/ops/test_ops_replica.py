"""Scale-out (issue #12): the read-only selectors read a real PostgreSQL streaming replica, with
read-your-writes, and fresh reads go to the primary when the replica lags (replay paused).

Needs the primary on PostgreSQL and ``POPID_REPLICA_DATABASE_URL`` pointing at a hot standby of
it (``deploy/replica/setup-replica.sh``). ``scripts/run-tests.sh`` runs these tests (marker
``replica``) in the PostgreSQL pass with the replica on port 5433; ``.ci/run`` sets it up."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import date

import psycopg
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client

from popid.core import db_router
from popid.core.access import AccessContext, Actor
from popid.registry import selectors
from popid.registry import services as registry
from popid.registry.models import Person
from tests.conftest import HOAN_KIEM, bearer

# The alias exists only when POPID_REPLICA_DATABASE_URL is set (the replica pass); otherwise the
# tests skip (fixture below) and must not name a database that is not configured.
pytestmark = [pytest.mark.replica, pytest.mark.django_db(
    transaction=True, databases=["default", "replica"] if "replica" in settings.DATABASES else ["default"])]
API = "/api/v1"


def _why_not() -> str | None:
    if connections["default"].vendor != "postgresql":
        return "the replica tests need PostgreSQL (POPID_DATABASE_URL=postgres://…)"
    if "replica" not in connections.settings:
        return ("no replica configured: set POPID_REPLICA_DATABASE_URL to a standby of the primary "
                "(deploy/replica/setup-replica.sh; scripts/run-tests.sh does it in the PostgreSQL pass)")
    return None


@pytest.fixture(autouse=True)
def _replica_required(settings):
    if (reason := _why_not()) is not None:  # SQLite, or the main PostgreSQL run: the replica pass runs them
        pytest.skip(reason)
    if db_router.replica_lag() is None:
        port = connections["replica"].settings_dict["PORT"]
        reason = f"POPID_REPLICA_DATABASE_URL: the replica at port {port} is not a reachable standby"
        if os.environ.get("POPID_REQUIRE_REPLICA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    settings.POPID_REPLICA_MAX_LAG_SECONDS = 1.0
    db_router.reset_lag_cache()
    yield
    db_router.reset_lag_cache()


def replica_sql() -> psycopg.Connection:
    """A connection of our own to the standby (its replay controls need a superuser)."""
    s = connections["replica"].settings_dict
    return psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"] or None,
                           dbname=s["NAME"], autocommit=True)


def on_replica(id_number: str) -> bool:
    with replica_sql() as conn:
        return conn.execute("SELECT 1 FROM registry_person WHERE id_number = %s", [id_number]).fetchone() is not None


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@contextmanager
def queries_on(alias: str):
    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield seen


def replica_caught_up() -> None:
    """Wait until the standby's replay lag is under the threshold (the shared machine's other WAL
    can hold it back for a moment), then forget the router's cached answer."""
    def fresh() -> bool:
        lag = db_router.replica_lag()
        return lag is not None and lag <= 1.0

    wait_until(fresh)
    db_router.reset_lag_cache()


def person_reads(sql: list[str]) -> list[str]:
    return [q for q in sql if 'FROM "registry_person"' in q]


@contextmanager
def replay_paused():
    with replica_sql() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


def new_person(actor: Actor, name: str) -> Person:
    return registry.register_birth(
        actor=actor, full_name=name, birth_date=date(2026, 10, 1), sex="F", birth_place="Hà Nội",
        birth_registration_commune_code=HOAN_KIEM, hometown="Hà Nội", ethnicity_code="01",
        father_name="Nguyễn Văn Tư", mother_name="Lê Thị Năm")


def test_read_only_selectors_read_the_replica_and_writes_go_to_the_primary(family, admin_actor):
    an = family["an"]
    wait_until(lambda: on_replica(an.id_number))  # streamed from the primary's commit
    replica_caught_up()
    ctx = AccessContext(actor=admin_actor, purpose="kiểm thử", channel="api")
    with db_router.request_scope(allow_replica=True), queries_on("replica") as on_rep, \
            queries_on("default") as on_pri:
        detail = selectors.person_detail(ctx=ctx, id_number=an.id_number)
    assert detail.person.full_name == "Nguyễn Văn An" and detail.household is not None
    assert detail.person._state.db == "replica"
    assert person_reads(on_rep) and not person_reads(on_pri)
    assert any('INSERT INTO "core_accessrecord"' in q for q in on_pri)  # the access record: primary
    assert not any("INSERT" in q for q in on_rep)

    # outside a request (commands, the worker), in a transaction, or outside a selector: primary
    for scope in (lambda: db_router.request_scope(allow_replica=False), transaction.atomic):
        with scope(), queries_on("replica") as on_rep:
            selectors.person_detail(ctx=ctx, id_number=an.id_number)
        assert not person_reads(on_rep)
    replica_caught_up()
    with db_router.request_scope(allow_replica=True), queries_on("replica") as on_rep:
        assert Person.objects.get(id_number=an.id_number).full_name == "Nguyễn Văn An"
    assert not on_rep


def test_a_client_that_wrote_reads_its_write_from_the_primary(family, officer_hoan_kiem):
    khoi = family["khoi"]
    wait_until(lambda: on_replica(khoi.id_number))
    api = Client(headers=bearer(officer_hoan_kiem))
    api.get(f"{API}/persons/{khoi.id_number}")  # the token's first use is a write: let it reach the standby
    replica_caught_up()
    with queries_on("replica") as on_rep:
        assert api.get(f"{API}/persons/{khoi.id_number}").status_code == 200
    assert person_reads(on_rep), "a GET without a recent write reads the replica"

    with replay_paused():  # the replica will not see the write below
        response = api.post(f"{API}/persons/{khoi.id_number}/corrections",
                            {"changes": {"full_name": "Nguyễn Minh Khang"}, "reason": "Sai chính tả",
                             "legal_ref": "Quyết định 12/QĐ", "version": khoi.version},
                            content_type="application/json")
        assert response.status_code == 200, response.content
        pinned = response.cookies[db_router.COOKIE]
        assert pinned["max-age"] == 10 and pinned["httponly"]
        assert int(pinned.value) > time.time()
        assert not on_replica_named(khoi.id_number, "Nguyễn Minh Khang")  # the standby is behind
        db_router.reset_lag_cache()
        with queries_on("replica") as on_rep:
            body = api.get(f"{API}/persons/{khoi.id_number}").json()
        assert body["person"]["full_name"] == "Nguyễn Minh Khang"  # read-your-writes: from the primary
        assert not person_reads(on_rep)

    api.cookies.pop(db_router.COOKIE)  # the window has passed (or another client): replica again
    wait_until(lambda: on_replica_named(khoi.id_number, "Nguyễn Minh Khang"))
    replica_caught_up()
    with queries_on("replica") as on_rep:
        assert api.get(f"{API}/persons/{khoi.id_number}").json()["person"]["full_name"] == "Nguyễn Minh Khang"
    assert person_reads(on_rep)


def on_replica_named(id_number: str, name: str) -> bool:
    with replica_sql() as conn:
        row = conn.execute("SELECT full_name FROM registry_person WHERE id_number = %s", [id_number]).fetchone()
    return row is not None and row[0] == name


def test_a_lagging_replica_sends_fresh_reads_to_the_primary(family, admin_actor):
    wait_until(lambda: on_replica(family["an"].id_number))
    ctx = AccessContext(actor=admin_actor, purpose="kiểm thử", channel="api")
    with replay_paused():
        baby = new_person(admin_actor, "Phạm Thu Trang")
        time.sleep(1.5)  # replay stopped: the replica is now more than 1 s behind
        assert not on_replica(baby.id_number)
        lag = db_router.replica_lag()
        assert lag is not None and lag > 1.0
        db_router.reset_lag_cache()
        with db_router.request_scope(allow_replica=True), queries_on("replica") as on_rep:
            found = selectors.access_person(ctx=ctx, id_number=baby.id_number)
        assert found.full_name == "Phạm Thu Trang" and found._state.db == "default"
        assert not person_reads(on_rep)
    wait_until(lambda: on_replica(baby.id_number))
    replica_caught_up()
    with db_router.request_scope(allow_replica=True), queries_on("replica") as on_rep:
        assert selectors.access_person(ctx=ctx, id_number=baby.id_number)._state.db == "replica"
    assert person_reads(on_rep)


def test_an_unreachable_replica_sends_reads_to_the_primary(family, admin_actor):
    ctx = AccessContext(actor=admin_actor, purpose="kiểm thử", channel="api")
    replica = connections["replica"]
    saved = replica.settings_dict
    replica.close()
    replica.settings_dict = {**saved, "PORT": "1", "OPTIONS": {**saved.get("OPTIONS", {}), "connect_timeout": 2}}
    try:
        db_router.reset_lag_cache()
        with db_router.request_scope(allow_replica=True):
            person = selectors.access_person(ctx=ctx, id_number=family["an"].id_number)
        assert person._state.db == "default"
        client = Client()
        assert client.get("/readyz").json()["checks"]["replica"].startswith("unreachable")
    finally:
        replica.close()
        replica.settings_dict = saved
        db_router.reset_lag_cache()
