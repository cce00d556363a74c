"""The dashboard's queries, one SQL text for DuckDB and Spark SQL.

The only differences between the two engines are named in ``DIALECTS`` (the ISO day of the
week); unit and category codes are checked against the store's code patterns before they are
written into the SQL, so no caller text reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from popid.analytics.schema import is_code

DIALECTS: dict[str, dict[str, str]] = {
    "duckdb": {"isodow": "isodow(hour)", "hour": "hour(hour)", "week": "CAST(date_trunc('week', day) AS DATE)"},
    "spark": {"isodow": "extract(DAYOFWEEK_ISO FROM hour)", "hour": "hour(hour)",
              "week": "CAST(date_trunc('week', day) AS DATE)"},
}


@dataclass(frozen=True)
class Scope:
    """Where: one commune (5 digits), one province (2 digits) or the nation (empty)."""

    code: str = ""

    def where(self) -> str:
        if not self.code:
            return "1 = 1"
        if is_code("commune_code", self.code):
            return f"commune_code = '{self.code}'"
        if is_code("province_code", self.code):
            return f"province_code = '{self.code}'"
        raise ValueError(f"not a unit code: {self.code!r}")


def _category(category: str | None) -> str:
    if category is None:
        return "1 = 1"
    if not is_code("category", category):
        raise ValueError(f"not a category: {category!r}")
    return f"category = '{category}'"


def _period(column: str, start: date, end: date) -> str:
    return f"{column} >= DATE '{start.isoformat()}' AND {column} < DATE '{end.isoformat()}'"


# the daily table's "count by columns" queries: name -> (columns, ORDER BY, limited)
_GROUPED: dict[str, tuple[str, str, bool]] = {
    "by_category": ("category", "category", False),
    "by_subcategory": ("subcategory", "n DESC, subcategory", True),
    "by_commune": ("commune_code", "n DESC, commune_code", True),
    "by_commune_subcategory": ("commune_code, subcategory", "commune_code, subcategory", False),
}


def sql(name: str, *, scope: Scope, start: date, end: date, category: str | None = None,
        engine: str = "duckdb", limit: int = 200) -> str:
    d = DIALECTS[engine]
    where = f"{scope.where()} AND {_category(category)}"
    if name in _GROUPED:
        columns, order, limited = _GROUPED[name]
        tail = f" LIMIT {int(limit)}" if limited else ""
        return (f"SELECT {columns}, CAST(sum(n) AS BIGINT) AS n FROM daily WHERE {where} AND "  # noqa: S608 - checked codes
                f"{_period('day', start, end)} GROUP BY {columns} ORDER BY {order}{tail}")
    if name == "weekly":
        return (f"SELECT {d['week']} AS week, CAST(sum(n) AS BIGINT) AS n FROM daily WHERE {where} AND "  # noqa: S608 - checked codes
                f"{_period('day', start, end)} GROUP BY 1 ORDER BY 1")
    if name == "dow_hour":
        return (f"SELECT {d['isodow']} AS dow, {d['hour']} AS h, count(*) AS n FROM incidents WHERE {where} AND "  # noqa: S608 - checked codes
                f"{_period('hour', start, end)} GROUP BY 1, 2 ORDER BY 1, 2")
    if name == "hot_cells":
        return (f"SELECT h3, count(*) AS n FROM incidents WHERE {where} AND {_period('hour', start, end)} "  # noqa: S608 - checked codes
                f"GROUP BY h3 ORDER BY n DESC, h3 LIMIT {int(limit)}")
    raise ValueError(f"unknown query {name!r}")


def run_duckdb(con: Any, name: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = con.execute(sql(name, engine="duckdb", **kwargs)).fetchall()
    return rows


def run_spark(spark: Any, name: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in spark.sql(sql(name, engine="spark", **kwargs)).collect()]


def spark_views(spark: Any, files: dict[str, list[str]]) -> None:
    """The store's tables as Spark temporary views over the same Parquet files."""
    for name, paths in files.items():
        if paths:
            spark.read.parquet(*paths).createOrReplaceTempView(name)
