"""Model instances from SQL written once per process, for hot paths where compiling the ORM's
queries cost more than running them (issue #18; the officer lookup spent a third of its time in
Django's SQL compiler, BENCHMARKS.md section 21).

The SQL names the models' tables and columns through their metadata, so a renamed field cannot
drift from it, and each value passes through the converters the ORM itself would apply (dates on
SQLite, JSON fields everywhere): what comes back is what ``Model.objects...`` returns. Use it for
a few fixed-shape reads only; everything else stays ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model

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


def read_connection(model: type[Model]) -> Any:
    """The connection the ORM would read ``model`` from (the replica inside ``replica_reads``)."""
    return connections[router.db_for_read(model) or "default"]


def fetch(connection: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
