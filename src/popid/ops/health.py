"""Health, readiness and Prometheus metrics.

- ``/healthz``: the process answers (no dependency is touched): for the load balancer's liveness.
- ``/healthz/db``: the same plus one ``SELECT 1`` on the process's database connection.
- ``/readyz``: database, cache, key store and a worker heartbeat within
  ``POPID_WORKER_STALE_SECONDS``; a failing dependency gives 503 problem JSON naming it.
  ``POPID_READYZ_REQUIRE_WORKER=0`` drops the worker check (a web-only node during maintenance).
- ``/metrics``: Prometheus text format (``prometheus-client``). Only with
  ``Authorization: Bearer $POPID_METRICS_TOKEN``; without a configured token, only from loopback
  addresses. Under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set, the request metrics of every
  worker process are aggregated (multiprocess mode). Gauges that describe the database (task
  queue, webhook backlog, ledger lag, dossiers) are computed at scrape time.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from popid.core import tasks
from popid.core.problems import is_database_unavailable

log = logging.getLogger("popid.health")

REQUESTS = Counter("popid_http_requests", "HTTP requests by view, method and status class",
                   ["view", "method", "status"])
LATENCY = Histogram("popid_http_request_duration_seconds", "Request latency by view", ["view"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
QUERIES = Counter("popid_db_queries", "Database queries run while serving requests, by view", ["view"])
access_log = logging.getLogger("popid.access")


# --- request metrics ----------------------------------------------------------------------------
def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    """Counts requests, latency and database queries per view (the route's name, never the path:
    paths may hold ID numbers) and writes one access-log line per request without the path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = {"n": 0}

        def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            counter["n"] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = _view_name(request)
        if view != "metrics":
            REQUESTS.labels(view, request.method or "", f"{response.status_code // 100}xx").inc()
            LATENCY.labels(view).observe(elapsed)
            QUERIES.labels(view).inc(counter["n"])
        access_log.info("%s %s %d %.1f ms %d queries", request.method, view, response.status_code,
                        elapsed * 1000, counter["n"],
                        extra={"view": view, "status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
                               "queries": counter["n"]})
        return response


# --- gauges read from the database at scrape time ---------------------------------------------
class DatabaseCollector:
    """Queue depth and age, webhook backlog, ledger lag, dossiers: one scrape, a few counts."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._collect()
        except Exception:  # the database being down must not break the scrape of the other metrics
            log.warning("metrics: database gauges unavailable", exc_info=True)
            up = GaugeMetricFamily("popid_database_up", "1 when the database answered the metrics queries")
            up.add_metric([], 0)
            yield up

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from popid.core.models import AccessRecord
        from popid.exchange.models import Delivery
        from popid.services.models import Dossier, DossierState

        now = timezone.now()
        up = GaugeMetricFamily("popid_database_up", "1 when the database answered the metrics queries")
        up.add_metric([], 1)
        yield up
        by_status = GaugeMetricFamily("popid_tasks", "Background task rows by status", labels=["status"])
        counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in TaskResultStatus.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        ready = DBTaskResult.objects.ready()
        oldest = ready.aggregate(at=Min("enqueued_at"))["at"]
        depth = GaugeMetricFamily("popid_task_queue_depth", "Tasks ready to run now")
        depth.add_metric([], ready.count())
        yield depth
        age = GaugeMetricFamily("popid_task_queue_oldest_age_seconds", "Age of the oldest task ready to run")
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield age
        workers = GaugeMetricFamily("popid_workers_alive", "Workers and schedulers with a fresh heartbeat",
                                    labels=["kind"])
        for kind in ("worker", "scheduler"):
            workers.add_metric([kind], len(tasks.live_workers(kind=kind)))
        yield workers
        hooks = GaugeMetricFamily("popid_webhook_deliveries", "Webhook deliveries by status", labels=["status"])
        for status, n in Delivery.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"):
            hooks.add_metric([status], n)
        yield hooks
        pending = AccessRecord.objects.filter(committed_at__isnull=True)
        first = pending.order_by("id").values_list("at", flat=True).first()
        lag = GaugeMetricFamily("popid_ledger_pending_records", "Access records not yet committed to the ledger")
        lag.add_metric([], pending.count())
        yield lag
        lag_age = GaugeMetricFamily("popid_ledger_lag_seconds", "Age of the oldest access record not yet committed")
        lag_age.add_metric([], (now - first).total_seconds() if first else 0.0)
        yield lag_age
        dossiers = GaugeMetricFamily("popid_dossiers", "Dossiers by state", labels=["state"])
        for state, n in Dossier.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"):
            dossiers.add_metric([state], n)
        yield dossiers
        open_states = [DossierState.SUBMITTED, DossierState.IN_REVIEW, DossierState.SUPPLEMENT_REQUESTED]
        overdue = GaugeMetricFamily("popid_dossiers_overdue", "Open dossiers past their deadline")
        overdue.add_metric([], Dossier.objects.filter(state__in=open_states,
                                                      deadline__lt=timezone.localdate()).count())
        yield overdue


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every gunicorn worker's counters and histograms
    else:
        for collector in (REQUESTS, LATENCY, QUERIES):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return registry


def _metrics_allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "POPID_METRICS_TOKEN", "")
    if token:
        offered = request.headers.get("Authorization", "")
        return offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].encode(), token.encode())
    return request.META.get("REMOTE_ADDR", "") in {"127.0.0.1", "::1"}


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return _problem(403, "forbidden", "Metrics need the metrics bearer token", {})
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- health -------------------------------------------------------------------------------------
def _problem(status: int, code: str, title: str, extra: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"type": "about:blank", "title": title, "status": status, "code": code, **extra},
                        status=status, content_type="application/problem+json")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def healthz_db(request: HttpRequest) -> JsonResponse:
    """The process answers and its database connection runs ``SELECT 1``: a liveness check that
    includes the connection, and the *framework floor* of ``make bench-http`` (the same server,
    middleware and connection handling as every endpoint, with one trivial query)."""
    return JsonResponse({"status": "ok", "database": _check_database()})


def _check_database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _replica_status() -> str:
    """The replica is not a readiness condition (reads fall back to the primary): reported only."""
    from popid.core import db_router

    lag = db_router.replica_lag()
    if lag is None:
        return "unreachable: reads go to the primary"
    state = "ok" if lag <= db_router.max_lag_seconds() else "lagging: reads go to the primary"
    return f"{state} (replay lag {lag:.1f} s)"


def _check_cache() -> str:
    key = f"popid:readyz:{os.getpid()}"
    getattr(cache, "raw_set", cache.set)(key, "1", 10)  # the resilient Redis cache would hide the outage
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    return "ok"


def _check_keys() -> str:
    from popid.core import keys

    directory = keys.keys_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if not os.access(directory, os.R_OK | os.W_OK | os.X_OK):
        raise RuntimeError("key directory is not readable and writable")
    keys.all_keys()  # every stored key parses
    return "ok"


def _check_worker() -> str:
    if not getattr(settings, "POPID_READYZ_REQUIRE_WORKER", True):
        return "skipped"
    if not tasks.live_workers():
        raise RuntimeError(f"no worker heartbeat within {tasks.stale_seconds():g} s")
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {"database": _check_database, "cache": _check_cache, "keys": _check_keys,
                                         "worker": _check_worker}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    failing = []
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            failing.append(name)
            results[name] = f"failed: {type(exc).__name__}"
            log.warning("readyz: %s failed (%s)", name, type(exc).__name__)
            if name != "database" and is_database_unavailable(exc) and "database" not in failing:
                # e.g. the database-backed cache, or the database went away after its own check:
                # name the cause, not only the part that noticed it.
                failing.insert(0, "database")
                results["database"] = f"failed: {type(exc).__name__} (seen by the {name} check)"
    if "replica" in settings.DATABASES:  # reported, never failing: reads fall back to the primary
        results["replica"] = _replica_status()
    if failing:
        return _problem(503, "not_ready", "Service not ready", {
            "detail": "Failing: " + ", ".join(failing), "failing": failing, "checks": results})
    return JsonResponse({"status": "ready", "checks": results})
