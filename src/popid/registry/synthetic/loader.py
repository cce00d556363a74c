"""Bulk loading of generated rows: PostgreSQL COPY, SQLite executemany, one transaction.

Person and household rows carry their ids (the generator starts them at the next free id);
other rows take theirs from the database. Sequences are moved past the loaded ids afterwards,
so later ``Person.objects.create`` calls do not collide.

On PostgreSQL, checking the deferred foreign keys of ~8 rows per person costs about half the
load time. The generated rows only reference persons and households of the same load, so when
the database role may do it (superuser) the load runs with ``session_replication_role =
replica`` for the transaction, which skips those checks; pass ``skip_fk_checks=False`` to keep
them. Unique constraints and indexes are still enforced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from django.core.management.color import no_style
from django.db import connections, transaction

from popid.registry.synthetic.generator import TABLES, RowBatch


def next_ids(*, using: str = "default") -> tuple[int, int]:
    """First free id of registry_person and registry_household."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_person")
        person = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_household")
        household = cursor.fetchone()[0]
    return int(person), int(household)


def timestamp_text(moment: datetime, *, using: str = "default") -> str:
    """A timestamp as the backend stores it (SQLite: naive UTC text, as Django writes it)."""
    moment = moment.astimezone(UTC)
    if connections[using].vendor == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.isoformat()


def _copy_batch(raw_cursor: Any, batch: RowBatch) -> None:  # a psycopg cursor
    for attr, (table, columns) in TABLES.items():
        rows = getattr(batch, attr)
        if not rows:
            continue
        with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)


def _insert_batch(raw_cursor: Any, batch: RowBatch) -> None:  # a sqlite3 cursor
    for attr, (table, columns) in TABLES.items():
        rows = getattr(batch, attr)
        if rows:
            marks = ", ".join("?" * len(columns))
            raw_cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608 - fixed names


def _may_skip_fk_checks(raw_cursor: Any) -> bool:
    raw_cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = raw_cursor.fetchone()
    return bool(row and row[0])


class Progress(Protocol):
    def update(self, n: int) -> object: ...


def load_rows(batches: Iterable[RowBatch], *, using: str = "default", progress: Progress | None = None,
              skip_fk_checks: bool | None = None) -> int:
    """Write every batch in one transaction; returns the number of person rows.

    ``progress`` is anything with ``update(n)`` (a tqdm bar). The rows must carry ids that are
    free (see ``next_ids``); sequences are reset at the end. ``skip_fk_checks`` (PostgreSQL):
    None = when the role is a superuser, see the module docstring.
    """
    from popid.registry.models import Household, Person

    connection = connections[using]
    loaded = 0
    with transaction.atomic(using=using):
        connection.ensure_connection()
        raw = connection.connection
        vendor = connection.vendor
        raw_cursor = raw.cursor()
        try:
            if skip_fk_checks is None and vendor == "postgresql":
                skip_fk_checks = _may_skip_fk_checks(raw_cursor)
            if skip_fk_checks and vendor == "postgresql":
                raw_cursor.execute("SET LOCAL session_replication_role = replica")
            for batch in batches:
                if vendor == "postgresql":
                    _copy_batch(raw_cursor, batch)
                elif vendor == "sqlite":
                    _insert_batch(raw_cursor, batch)
                else:  # pragma: no cover - other backends are not supported by PopID
                    raise NotImplementedError(vendor)
                loaded += len(batch.persons)
                if progress is not None:
                    progress.update(len(batch.persons))
        finally:
            raw_cursor.close()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Person, Household]):
                cursor.execute(sql)
    if connection.vendor == "postgresql" and loaded >= 50_000:
        with connection.cursor() as cursor:  # fresh statistics, or the planner guesses badly
            cursor.execute("ANALYZE registry_person, registry_household, registry_householdmember, "
                           "registry_residence, registry_familyrelation")
    return loaded
