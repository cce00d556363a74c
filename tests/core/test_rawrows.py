"""core.rawrows, the fixed statements of the hot paths: instances as the ORM builds them, outer
joins that load None without a query, inserts prepared by the fields, conflicts reported."""

from __future__ import annotations

from datetime import date

import pytest

from popid.core.rawrows import Insert, Joined, fetch, read_connection
from popid.registry import services
from popid.registry.models import Household, Residence
from popid.services.models import PrefillRead
from tests.conftest import HOAN_KIEM

pytestmark = pytest.mark.django_db


def test_joined_is_select_related_with_none_for_a_missing_row(family, admin_actor, django_assert_num_queries):
    binh = family["binh"]
    temporary = services.register_temporary_residence(
        actor=admin_actor, id_number=binh.id_number, commune_code=HOAN_KIEM, address="5 Hàng Gai",
        valid_from=date(2025, 1, 1), valid_until=date(2026, 6, 30), reason="Đăng ký tạm trú")
    joined = Joined(Residence, ["household", "household__head"])
    connection = read_connection(Residence)
    sql = f"{joined.select_from(connection)} WHERE {joined.alias().column('person', connection)} = %s"
    rows = {r.pk: r for r in (joined.instance(row, connection) for row in fetch(connection, sql, [binh.pk]))}
    expected = {r.pk: r for r in Residence.objects.select_related("household__head").filter(person=binh)}
    assert rows.keys() == expected.keys() and temporary.pk in rows
    with django_assert_num_queries(0):
        assert rows[temporary.pk].household is None  # outer join: cached as missing, no lazy read
        assert [(r.household and r.household.code, r.household and r.household.head and r.household.head.full_name)
                for r in rows.values()] == [
            (e.household and e.household.code, e.household and e.household.head and e.household.head.full_name)
            for e in expected.values()]


def test_joined_refuses_what_select_related_cannot_follow():
    with pytest.raises(ValueError):
        Joined(Household, ["members"])  # a reverse relation


def test_insert_prepares_values_like_save_and_reports_a_conflict(family):
    from tests.identity.test_oidc_flow import make_account

    account = make_account(family["an"])
    mark = Insert(PrefillRead, ignore_conflicts=True)
    assert mark.save(PrefillRead(applicant=account, draft_key="draft-1", procedure_code="temporary_residence"))
    assert not mark.save(PrefillRead(applicant=account, draft_key="draft-1", procedure_code="temporary_residence"))
    row = PrefillRead.objects.get(applicant=account, draft_key="draft-1")
    assert row.at is not None and row.procedure_code == "temporary_residence"  # auto_now_add filled by pre_save


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_in_the_pipeline_is_djangos_error_not_a_bare_driver_error():
    """The lookup's pipelined reads fail like any ORM statement when the database goes away:
    django.db's OperationalError, which the 503 handler answers. (The CI failure this guards
    against was a lost connection at the pipeline's final sync, after the reads; that moment
    cannot be hit from outside, so this test covers the reads and the code wraps the sync too.)"""
    import psycopg
    from django.db import Error, connection

    from popid.core.rawrows import fetch_together

    if connection.vendor != "postgresql":
        pytest.skip("psycopg's pipeline mode is PostgreSQL's")
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = {k: v for k, v in connection.get_connection_params().items()
              if k in ("host", "port", "user", "password", "dbname")}
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        with pytest.raises(Error) as lost:
            fetch_together(connection, [("SELECT 1", []), ("SELECT 2", [])])
        assert type(lost.value).__module__.startswith("django.db")
    finally:
        connection.close()
