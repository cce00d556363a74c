"""Granian for PopID: the packaged production web server (``popid serve``).

Granian's HTTP/1.1 and HTTP/2 handling is Rust; Django runs unchanged through its WSGI interface,
in ``POPID_WEB_WORKERS`` processes of ``POPID_WEB_THREADS`` blocking threads each. Chosen by
measurement (issue #18, BENCHMARKS.md §21): the same application and settings served every hot
endpoint 1.5–2× faster than gunicorn's gthread workers on the same machine, because the server's
own per-request work (parsing, the socket, the thread hand-off) is no longer Python. gunicorn
stays available (``POPID_WEB_SERVER=gunicorn``, ``popid.deploy.gunicorn``).

Environment (docs/operations.md): POPID_BIND (``127.0.0.1:8000``, or ``unix:/path``),
POPID_WEB_WORKERS (2 × cores + 1, at most 8), POPID_WEB_THREADS (4), POPID_WEB_BACKLOG (1024),
POPID_WEB_MAX_RSS (MiB a worker may grow to before it is replaced, 1024), POPID_LOG_LEVEL,
PROMETHEUS_MULTIPROC_DIR (default DATA_DIR/prometheus: every worker's request metrics are summed
at /metrics). No access log: ``popid.access`` writes one JSON line per request with the view
name, never the path (paths hold ID numbers). Forwarded headers are Django's business
(``POPID_TRUSTED_PROXY``), not the server's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from popid.deploy.startup import default_workers, fresh_metrics_directory


def _count(environ: Mapping[str, str], name: str, default: int, *, low: int = 1, high: int = 1 << 16) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={value} is outside {low}–{high}")
    return value


def workers(environ: Mapping[str, str]) -> int:
    return _count(environ, "POPID_WEB_WORKERS", default_workers(), high=256)


def _bind(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get("POPID_BIND", "127.0.0.1:8000").strip()
    if "," in raw:
        raise ImproperlyConfigured(f"POPID_BIND={raw!r}: Granian listens on one address (put a proxy in front)")
    if raw.startswith("unix:"):
        return ["--uds", raw[len("unix:"):]]
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ImproperlyConfigured(f"POPID_BIND={raw!r} is not host:port or unix:/path")
    return ["--host", host.strip("[]"), "--port", port]


def command(environ: Mapping[str, str], extra: list[str] | None = None) -> list[str]:
    """The Granian command line for this environment (``extra`` goes last, overriding)."""
    level = environ.get("POPID_LOG_LEVEL", "info").strip().lower() or "info"
    return [
        str(Path(sys.executable).with_name("granian")), "--interface", "wsgi", *_bind(environ),
        "--workers", str(workers(environ)),
        "--blocking-threads", str(_count(environ, "POPID_WEB_THREADS", 4, high=256)),
        "--backlog", str(_count(environ, "POPID_WEB_BACKLOG", 1024, low=16)),
        "--workers-max-rss", str(_count(environ, "POPID_WEB_MAX_RSS", 1024, low=64)),
        "--respawn-failed-workers", "--workers-kill-timeout", "30",
        "--no-access-log", "--log-level", level,
        *(extra or []), "popid.wsgi:application",
    ]


def prepare(environ: MutableMapping[str, str]) -> list[str]:
    """What must happen once before the workers start: a fresh metrics directory (stale files
    from an earlier start would be counted again), the refusal to run several workers on a
    process-local cache (limits, nonces and sessions would be per worker), and Django's logging
    configuration written for Granian's own log lines (JSON like every other line, the personal
    data filter included). Returns the arguments that point Granian at it."""
    from django.conf import settings

    from popid.core.throttle import assert_shared_cache_for

    fresh_metrics_directory(environ)
    assert_shared_cache_for(workers(environ))
    log_config = Path(environ.get("POPID_DATA_DIR", "var")).resolve() / "granian-logging.json"
    log_config.write_text(json.dumps(settings.LOGGING))
    return ["--log-config", str(log_config)]
