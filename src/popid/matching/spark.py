"""Spark support: the same model settings run on Splink's Spark backend.

``local_session`` starts a local-mode session with the string-similarity UDF jar that ships
inside Splink (``jaro_winkler`` and friends); on a cluster, build the session yourself (see
docs/matching.md) with ``spark.jars`` set to ``splink_udf_jar()``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def splink_udf_jar() -> str:
    from splink.internals.spark.jar_location import similarity_jar_location

    return similarity_jar_location()


def local_session(*, cores: int = 1, app_name: str = "popid-match", checkpoint_dir: str | None = None,
                  driver_memory: str = "1g") -> Any:
    """A local-mode session; Splink checkpoints intermediate tables, so a checkpoint directory
    is set (a temporary one unless given)."""
    import logging
    import tempfile

    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.WARNING)  # no INFO lines at interpreter shutdown
    scratch = checkpoint_dir or tempfile.mkdtemp(prefix="popid-spark-")
    session = (
        SparkSession.builder.master(f"local[{cores}]").appName(app_name)
        .config("spark.jars", splink_udf_jar())
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.default.parallelism", str(max(2, cores * 2)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", f"{scratch}/warehouse")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(f"{scratch}/checkpoints")
    session.sparkContext.setLogLevel("ERROR")
    return session


def to_backend_table(db_api: Any, table: pa.Table) -> Any:
    """DuckDB takes the Arrow table as it is; Spark reads it from a Parquet file, so the rows
    are scanned by the executors instead of sitting in the driver's query plan (a local
    relation of 100,000 persons ran a 1 GiB driver out of heap)."""
    if db_api.sql_dialect.sql_dialect_str != "spark":
        return table
    import tempfile

    import pyarrow.parquet as pq

    spark = db_api.spark
    flat = table.cast(pa.schema([(f.name, pa.int32() if pa.types.is_integer(f.type) else pa.string())
                                 for f in table.schema]))
    path = tempfile.mkdtemp(prefix="popid-spark-input-") + "/records.parquet"
    pq.write_table(flat, path)
    return spark.read.parquet(path)
