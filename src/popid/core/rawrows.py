"""Model instances from SQL written once per process, for hot paths where compiling the ORM's
queries cost more than running them (issue #18; the officer lookup spent a third of its time in
Django's SQL compiler, BENCHMARKS.md section 21).

The SQL names the models' tables and columns through their metadata, so a renamed field cannot
drift from it, and each value passes through the converters the ORM itself would apply (dates on
SQLite, JSON fields everywhere): what comes back is what ``Model.objects...`` returns. Use it for
a few fixed-shape reads and writes on the hot paths; everything else stays ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


class Columns(Generic[M]):
    """The concrete columns of ``model`` under ``alias``, as a SELECT list and back as instances."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.width = len(self.fields)
        self._pk = self.fields.index(model._meta.pk)
        self._converters: dict[str, list[tuple[int, list[Converter], Any]]] = {}

    def select(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def table(self, connection: Any) -> str:
        return f"{connection.ops.quote_name(self.model._meta.db_table)} {self.alias}"

    def column(self, name: str, connection: Any) -> str:
        """``alias."column"`` of the field called ``name`` (its attname or name)."""
        field = self.model._meta.get_field(name)
        return f"{self.alias}.{connection.ops.quote_name(field.column)}"  # type: ignore[union-attr]

    def _converters_for(self, connection: Any) -> list[tuple[int, list[Converter], Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                col = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if converters:
                    found.append((index, converters, col))
            self._converters[connection.vendor] = found
        return found

    def instance(self, row: Sequence[Any], offset: int, connection: Any) -> M | None:
        """The instance held in ``row[offset:offset + width]``, or None for an outer join's NULLs."""
        values = list(row[offset:offset + self.width])
        if values[self._pk] is None:
            return None
        for index, converters, col in self._converters_for(connection):
            value = values[index]
            for convert in converters:
                value = convert(value, col, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values)


class Joined(Generic[M]):
    """``model`` with the forward foreign keys in ``paths`` joined and loaded, the fixed-query
    counterpart of ``select_related(*paths)``: a nullable key (or one under it) is an outer join,
    and a missing related row is cached as None, so reading it costs no query either."""

    def __init__(self, model: type[M], paths: Sequence[str] = ()) -> None:
        self.root: Columns[M] = Columns(model, "t0")
        self.nodes: list[tuple[str, int, Any, Columns[Any], bool]] = []  # path, parent, field, columns, outer
        index_of = {"": -1}
        for path in paths:
            parent_path, _sep, name = path.rpartition("__")
            parent = index_of[parent_path]
            parent_columns = self.root if parent < 0 else self.nodes[parent][3]
            field = parent_columns.model._meta.get_field(name)
            related = field.related_model
            if not (field.concrete and (field.many_to_one or field.one_to_one)) or not isinstance(related, type):
                raise ValueError(f"{path}: only forward foreign keys can be joined")
            outer = bool(field.null) or (parent >= 0 and self.nodes[parent][4])
            index_of[path] = len(self.nodes)
            self.nodes.append((path, parent, field, Columns(related, f"t{len(self.nodes) + 1}"), outer))

    def alias(self, path: str = "") -> Columns[Any]:
        """The columns of ``path`` ("" for the model itself), to write the WHERE and ORDER BY with."""
        return self.root if not path else next(node[3] for node in self.nodes if node[0] == path)

    def select_from(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        parts = [f"SELECT {', '.join([self.root.select(connection)] + [n[3].select(connection) for n in self.nodes])}",
                 f"FROM {self.root.table(connection)}"]
        for _path, parent, field, columns, outer in self.nodes:
            parent_alias = self.root.alias if parent < 0 else self.nodes[parent][3].alias
            target = field.target_field.column
            parts.append(f"{'LEFT OUTER JOIN' if outer else 'INNER JOIN'} {columns.table(connection)} "
                         f"ON {columns.alias}.{quote(target)} = {parent_alias}.{quote(field.column)}")
        return " ".join(parts)

    def instance(self, row: Sequence[Any], connection: Any) -> M:
        root = self.root.instance(row, 0, connection)
        assert root is not None
        made: list[Any] = []
        offset = self.root.width
        for _path, parent, field, columns, _outer in self.nodes:
            related = columns.instance(row, offset, connection)
            offset += columns.width
            owner = root if parent < 0 else made[parent]
            if owner is not None:
                field.set_cached_value(owner, related)
            made.append(related)
        return root


class FixedSql:
    """A statement built once per database vendor by ``build(connection)`` (quoting differs)."""

    def __init__(self, build: Callable[[Any], str]) -> None:
        self._build = build
        self._sql: dict[str, str] = {}

    def __call__(self, connection: Any) -> str:
        sql = self._sql.get(connection.vendor)
        if sql is None:
            sql = self._sql[connection.vendor] = self._build(connection)
        return sql


class Insert(Generic[M]):
    """One row of ``model`` inserted by a statement written once per vendor, its values prepared
    by the fields themselves as ``Model.save`` prepares them (``pre_save`` fills auto_now_add,
    ``get_db_prep_save`` adapts dates and JSON). The primary key is not read back: for
    append-only rows nobody reads in the same request (access records)."""

    def __init__(self, model: type[M], *, ignore_conflicts: bool = False) -> None:
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields
                       if not (field.primary_key and getattr(field, "db_returning", False))]
        self.on_conflict = OnConflict.IGNORE if ignore_conflicts else None
        self._sql = FixedSql(self._build)

    def _build(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        insert = connection.ops.insert_statement(on_conflict=self.on_conflict)  # INSERT [OR IGNORE] INTO
        suffix = connection.ops.on_conflict_suffix_sql(self.fields, self.on_conflict, None, None)
        return f"{insert} {quote(self.model._meta.db_table)} ({columns}) VALUES ({placeholders}) {suffix}".rstrip()

    def save(self, instance: M) -> bool:
        """Insert the row; False when ``ignore_conflicts`` and a unique constraint kept it out."""
        connection = connections[router.db_for_write(self.model) or "default"]
        params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(self._sql(connection), params)
            return bool(cursor.rowcount)


def quoted_column(model: type[Model], name: str, connection: Any) -> str:
    """The quoted column of ``model``'s field ``name``, unqualified (UPDATE statements, which
    SQLite does not let alias)."""
    return str(connection.ops.quote_name(model._meta.get_field(name).column))  # type: ignore[union-attr]


def read_connection(model: type[Model]) -> Any:
    """The connection the ORM would read ``model`` from (the replica inside ``replica_reads``)."""
    return connections[router.db_for_read(model) or "default"]


def fetch(connection: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_together(connection: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
    """Independent reads sent in one round trip where the driver can: psycopg's pipeline mode on
    PostgreSQL (every statement still passes through Django's cursor, so it is counted, logged and
    routed as any other); one after the other elsewhere."""
    if connection.vendor != "postgresql" or len(statements) < 2:
        return [fetch(connection, sql, params) for sql, params in statements]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        # The pipeline's own sync at exit talks to the server too: a lost connection there must
        # become Django's OperationalError (503 + Retry-After, the connection marked unusable),
        # as every statement through Django's cursor does, not a bare psycopg error (500).
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            return [list(cursor.fetchall()) for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
