"""gunicorn configuration for PopID, installed with the package (the alternative to the default
Granian server, popid.deploy.granian):

    POPID_WEB_SERVER=gunicorn popid serve   # = gunicorn -c python:popid.deploy.gunicorn popid.wsgi
    gunicorn -c python:popid.deploy.gunicorn popid.wsgi   # the same, by hand

Environment (docs/operations.md): POPID_BIND (127.0.0.1:8000), POPID_WEB_WORKERS (2 × cores + 1,
at most 8), POPID_WEB_THREADS (4), POPID_WEB_WORKER_CLASS (gthread), POPID_WEB_TIMEOUT (30 s), POPID_FORWARDED_ALLOW_IPS
(127.0.0.1), PROMETHEUS_MULTIPROC_DIR (default DATA_DIR/prometheus: every worker's request metrics
are aggregated at /metrics). gunicorn's own access log is off: ``popid.access`` writes one JSON line
per request with the view name, never the path (paths hold ID numbers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from popid.deploy.startup import default_workers, fresh_metrics_directory

bind = os.environ.get("POPID_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("POPID_WEB_WORKERS", str(default_workers())))
threads = int(os.environ.get("POPID_WEB_THREADS", "4"))
worker_class = os.environ.get("POPID_WEB_WORKER_CLASS", "gthread")  # "sync" compared in BENCHMARKS.md §21
timeout = int(os.environ.get("POPID_WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then (bounded memory), with jitter so not all at once
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("POPID_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("POPID_LOG_LEVEL", "info").lower()
proc_name = "popid-web"
wsgi_app = "popid.wsgi:application"
raw_env = [f"DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE', 'popid.settings')}"]

_data_dir = Path(os.environ.get("POPID_DATA_DIR", "var")).resolve()
control_socket = str(_data_dir / "gunicorn.ctl")  # gunicorn ≥ 24: not in $HOME (ProtectHome= in the unit)


def on_starting(server: Any) -> None:
    """A fresh metrics directory per server start (stale files would double-count)."""
    fresh_metrics_directory(os.environ)
    # Several workers need a shared cache (limits, nonces, verifier sessions): refuse a
    # process-local one before any worker starts (issue #10, finding 4).
    from popid.core.throttle import assert_shared_cache_for

    assert_shared_cache_for(int(server.cfg.workers))


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
