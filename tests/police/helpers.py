"""Test helpers of the police tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def triggers_off(table: str) -> Iterator[None]:
    """Edit an append-only table as its owner could (the append-only trigger disabled for the
    duration, inside the test's transaction), to show that verification still detects the edit.
    SQLite has no trigger: nothing to switch off."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:  # ALTER TABLE waits for no deferred foreign-key check
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
