"""What both packaged web servers share (``popid.deploy.granian``, ``popid.deploy.gunicorn``):
the default worker count and the metrics directory emptied before the workers start."""

from __future__ import annotations

import os
import shutil
from collections.abc import MutableMapping
from pathlib import Path


def default_workers() -> int:
    """2 × cores + 1, at most 8: the usual count for a server whose requests wait on a database."""
    return min(8, 2 * (os.cpu_count() or 1) + 1)


def fresh_metrics_directory(environ: MutableMapping[str, str]) -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` (default DATA_DIR/prometheus, set in ``environ`` for the
    workers), emptied: files left by an earlier start would be counted again at /metrics."""
    data_dir = Path(environ.get("POPID_DATA_DIR", "var")).resolve()
    directory = Path(environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(data_dir / "prometheus")))
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
