"""The store's schema, and the check that keeps personal data out of it.

Every table has a fixed set of columns; each text column holds a code that matches a narrow
pattern (a category word, a 5-digit commune, a 2-digit province, an H3 cell, a source word).
None of them can hold an ID number (12 digits), a name, a plate or free text: a row that
tries is refused before anything is written. Times are truncated to the hour.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from popid.analytics.errors import StoreRefused

SCHEMAS: dict[str, pa.Schema] = {
    # counts per commune, category, subcategory and day
    "daily": pa.schema([
        ("category", pa.string()), ("subcategory", pa.string()), ("commune_code", pa.string()),
        ("province_code", pa.string()), ("day", pa.date32()), ("n", pa.int32()), ("source", pa.string()),
    ]),
    # one row per placed event: its hour and its H3 cell, nothing else
    "incidents": pa.schema([
        ("category", pa.string()), ("subcategory", pa.string()), ("commune_code", pa.string()),
        ("province_code", pa.string()), ("hour", pa.timestamp("s")), ("h3", pa.string()), ("source", pa.string()),
    ]),
    # the next weeks' forecast per commune and category, with the backtest of the chosen model
    "forecasts": pa.schema([
        ("category", pa.string()), ("commune_code", pa.string()), ("province_code", pa.string()),
        ("ds", pa.date32()), ("mean", pa.float64()), ("lo80", pa.float64()), ("hi80", pa.float64()),
        ("lo95", pa.float64()), ("hi95", pa.float64()), ("model", pa.string()), ("mase", pa.float64()),
        ("mase_naive", pa.float64()), ("status", pa.string()),
    ]),
}

PATTERNS: dict[str, str] = {
    "category": r"incident|report|violation|dossier",
    # starts with a letter: an ID number, a phone number or a tracking code cannot pass
    "subcategory": r"[a-z][a-z0-9_.-]{0,39}",
    "commune_code": r"[0-9]{5}",
    "province_code": r"[0-9]{2}",
    "h3": r"8[0-9a-f]{14}",
    "source": r"synthetic|operational",
    "model": r"SeasonalNaive|AutoETS|AutoARIMA|Harmonic|Ensemble",
    "status": r"ok|short",
}


def check_table(name: str, table: pa.Table) -> None:
    """Refuse a table whose columns or values fall outside the schema."""
    schema = SCHEMAS.get(name)
    if schema is None:
        raise StoreRefused(f"unknown table {name!r}")
    if table.schema.names != schema.names:
        raise StoreRefused(f"table {name}: columns {table.schema.names} are not {schema.names}")
    if not table.schema.equals(schema):
        raise StoreRefused(f"table {name}: column types differ from the store schema")
    for column, pattern in PATTERNS.items():
        if column not in schema.names or table.num_rows == 0:
            continue
        values = table.column(column)
        if values.null_count:
            raise StoreRefused(f"table {name}: empty {column}")
        ok = pc.match_substring_regex(values, f"^(?:{pattern})$")
        if not pc.all(ok).as_py():
            bad = pc.filter(values, pc.invert(ok))[0].as_py()
            raise StoreRefused(f"table {name}: {column} value {bad!r} is not a code the store accepts")


def is_code(column: str, value: str) -> bool:
    return re.fullmatch(PATTERNS[column], value) is not None
