"""The analytics store: Parquet files under ``POPID_DATA_DIR/analytics`` read by DuckDB.

Consistency: a refresh first writes new Parquet files (each to a temporary name, then renamed),
then publishes them by replacing ``manifest.json`` atomically (write ``manifest.json.tmp``,
fsync, ``os.replace``). Readers only ever see the files the current manifest lists, so a
refresh that dies half-way leaves the previous state readable; its orphan files are swept by
the next refresh, and the watermarks it did not publish make the next refresh export the same
rows again.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from popid.analytics.schema import SCHEMAS, check_table

MANIFEST = "manifest.json"


def default_root() -> Path:
    return Path(settings.DATA_DIR) / "analytics"


@dataclass
class Staged:
    """Files written but not yet published."""

    add: dict[str, list[str]] = field(default_factory=dict)
    replace: set[str] = field(default_factory=set)
    remove: set[str] = field(default_factory=set)  # files to drop from every table


class Store:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.data = self.root / "data"

    # --- manifest ----------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
            return loaded
        except FileNotFoundError:
            return {"version": 0, "tables": {name: [] for name in SCHEMAS}, "watermarks": {}, "future_refused": [],
                    "refreshed_at": None, "truth": None}

    @property
    def exists(self) -> bool:
        return (self.root / MANIFEST).exists()

    def files(self, table: str) -> list[Path]:
        return [self.data / name for name in self.manifest()["tables"].get(table, [])]

    # --- writing -----------------------------------------------------------------------
    def stage(self, table: str, data: pa.Table, staged: Staged) -> None:
        """Write one Parquet file (not visible until ``publish``); refuses rows outside the schema."""
        check_table(table, data)
        if data.num_rows == 0:
            return
        self.data.mkdir(parents=True, exist_ok=True)
        name = f"{table}-{uuid.uuid4().hex}.parquet"
        tmp = self.data / f".{name}.tmp"
        pq.write_table(data, tmp, compression="zstd")
        os.replace(tmp, self.data / name)
        staged.add.setdefault(table, []).append(name)

    def publish(self, staged: Staged, **changes: Any) -> dict[str, Any]:
        """Swap the manifest: staged files become visible, all at once, with ``changes``
        (watermarks, truth, …) merged in."""
        manifest = self.manifest()
        tables: dict[str, list[str]] = {name: list(manifest["tables"].get(name, [])) for name in SCHEMAS}
        for table in staged.replace:
            tables[table] = []
        for table in tables:
            tables[table] = [n for n in tables[table] if n not in staged.remove]
        for table, names in staged.add.items():
            tables[table].extend(names)
        watermarks = {**manifest.get("watermarks", {}), **changes.pop("watermarks", {})}
        future = list(manifest.get("future_refused", [])) + list(changes.pop("future_refused", []))
        manifest.update(changes)
        manifest.update({"version": int(manifest["version"]) + 1, "tables": tables, "watermarks": watermarks,
                         "future_refused": future[-1000:], "refreshed_at": datetime.now(UTC).isoformat()})
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{MANIFEST}.tmp"
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / MANIFEST)
        return manifest

    def sweep(self) -> int:
        """Delete Parquet files no manifest lists (left by an interrupted refresh or replaced)."""
        if not self.data.exists():
            return 0
        listed = {name for names in self.manifest()["tables"].values() for name in names}
        removed = 0
        for path in self.data.iterdir():
            if path.name not in listed:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # --- reading -----------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with one view per table over the manifest's files (an empty table
        of the right shape when there are none)."""
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 2")
            register_views(con, {name: self.files(name) for name in SCHEMAS})
            yield con
        finally:
            con.close()


def register_views(con: duckdb.DuckDBPyConnection, files: dict[str, list[Path]]) -> None:
    for name, paths in files.items():
        if paths:
            listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{listed}])")  # noqa: S608 - checked codes
        else:
            con.register(f"_{name}_empty", SCHEMAS[name].empty_table())
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_empty")  # noqa: S608 - checked codes
