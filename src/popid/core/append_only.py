"""Append-only history tables on PostgreSQL: a trigger function that refuses the statement and
``BEFORE UPDATE OR DELETE`` triggers calling it, written by migrations of the apps that keep history
(the ledger, police). SQLite (development, tests) has no trigger; ``popid ledger db-roles``
additionally grants the application role only SELECT and INSERT on these tables.

The statements are exactly those the first migrations wrote by hand (``ledger.0003``, ``ledger.0005``,
``police.0003`` now call these helpers with the same names, so their effect is unchanged)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def function_sql(name: str) -> str:
    """``CREATE OR REPLACE FUNCTION name()`` refusing every statement it is triggered by."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain function name: {name!r}")
    return REFUSE_FUNCTION.format(name=name)


def trigger_sql(table: str, function: str, *, suffix: str = "append_only") -> list[str]:
    """(Re)create the ``<table>_<suffix>`` trigger calling ``function`` before UPDATE or DELETE."""
    return [f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}",
            f"CREATE TRIGGER {table}_{suffix} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"]


def install(schema_editor: Any, tables: Iterable[str], *, function: str, create_function: bool = True) -> None:
    """Migration step: make ``tables`` append-only (PostgreSQL only; nothing on other databases)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    if create_function:
        schema_editor.execute(function_sql(function), params=None)
    for table in tables:
        for sql in trigger_sql(table, function):
            schema_editor.execute(sql)


def uninstall(schema_editor: Any, tables: Iterable[str], *, function: str | None = None) -> None:
    """Migration step backwards: drop the triggers (and the function, when given)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if function:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
