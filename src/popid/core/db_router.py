"""Reads from a PostgreSQL streaming replica, with read-your-writes.

``POPID_REPLICA_DATABASE_URL`` adds the ``replica`` database alias (a hot standby, set up on one
machine by ``deploy/replica/setup-replica.sh``). Queries go to it only when every rule below
agrees; otherwise, and always without the alias, they go to the primary (``default``):

1. the code runs inside a ``replica_reads`` scope: read-only selectors opt in with the
   ``@replica_reads`` decorator (``registry.selectors.person_detail``, ``search_persons`` …);
2. the scope runs in a request that ``ReadYourWritesMiddleware`` allowed: a GET or HEAD whose
   client did not write (POST/PUT/PATCH/DELETE) within ``POPID_READ_YOUR_WRITES_SECONDS`` (the
   middleware sets the ``popid_rw`` cookie on the response to a write request). Management commands, the worker and the
   scheduler never set it, so they always read the primary;
3. nothing was written in this request yet (a write pins the rest of the request to the primary;
   bookkeeping rows never read back in the request, such as access records, do not);
4. the primary's connection is not inside a transaction (reads under ``transaction.atomic``,
   ``select_for_update`` and every command read the primary);
5. the replica is up and its replay lag (``now() - pg_last_xact_replay_timestamp()`` while WAL
   is waiting to be replayed) is at most ``POPID_REPLICA_MAX_LAG_SECONDS``; the check runs at
   most once per ``LAG_CHECK_SECONDS`` per process, and a replica that cannot be reached is
   avoided for ``DOWN_BACKOFF_SECONDS``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

log = logging.getLogger("popid.db_router")

REPLICA = "replica"
PRIMARY = "default"
COOKIE = "popid_rw"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAG_CHECK_SECONDS = 1.0
DOWN_BACKOFF_SECONDS = 5.0
# Bookkeeping rows a read request writes and never reads back (access records, a token's last use,
# throttle counters, sessions): writing one does not make the request's later reads stale.
BOOKKEEPING_MODELS = frozenset({"core.accessrecord", "core.staffapitoken", "core.throttlecounter",
                                "sessions.session"})

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _RequestState:
    allow_replica: bool
    wrote: bool = False


_request: contextvars.ContextVar[_RequestState | None] = contextvars.ContextVar("popid_db_request", default=None)
_scope: contextvars.ContextVar[int] = contextvars.ContextVar("popid_db_replica_scope", default=0)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def max_lag_seconds() -> float:
    return float(getattr(settings, "POPID_REPLICA_MAX_LAG_SECONDS", 5.0))


def read_your_writes_seconds() -> int:
    return int(getattr(settings, "POPID_READ_YOUR_WRITES_SECONDS", 10))


# --- replica lag --------------------------------------------------------------------------------
LAG_SQL = ("SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
           "WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
           "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END")


class _LagCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = -1e18
        self.lag: float | None = None  # None: unknown or unreachable
        self.down_until = 0.0

    def reset(self) -> None:
        with self.lock:
            self.checked_at, self.lag, self.down_until = -1e18, None, 0.0


_lag = _LagCache()


def replica_lag() -> float | None:
    """Seconds the replica's replay is behind (0 when it has replayed all it received), measured
    now on the replica; None when it cannot be reached or is not a standby."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError as exc:
        log.warning("replica unreachable (%s): reading from the primary", type(exc).__name__)
        with contextlib.suppress(DatabaseError):
            connections[REPLICA].close()
        return None
    if row is None or row[0] is None:
        return None
    return float(row[0])


def replica_fresh() -> bool:
    """The replica may serve reads now (cached per process for ``LAG_CHECK_SECONDS``)."""
    now = time.monotonic()
    with _lag.lock:
        if now < _lag.down_until:
            return False
        if now - _lag.checked_at < LAG_CHECK_SECONDS:
            return _lag.lag is not None and _lag.lag <= max_lag_seconds()
        _lag.checked_at = now  # one checker at a time; the others use the last answer
    lag = replica_lag()
    with _lag.lock:
        _lag.lag = lag
        if lag is None:
            _lag.down_until = time.monotonic() + DOWN_BACKOFF_SECONDS
    if lag is not None and lag > max_lag_seconds():
        log.info("replica lags %.1f s (> %.1f s): reading from the primary", lag, max_lag_seconds())
    return lag is not None and lag <= max_lag_seconds()


def reset_lag_cache() -> None:
    _lag.reset()


# --- scopes -------------------------------------------------------------------------------------
@contextlib.contextmanager
def replica_scope() -> Iterator[None]:
    token = _scope.set(_scope.get() + 1)
    try:
        yield
    finally:
        _scope.reset(token)


def replica_reads(function: Callable[P, R]) -> Callable[P, R]:
    """Mark a read-only selector: its queries may go to the replica (see the module's rules)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_scope():
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def request_scope(*, allow_replica: bool) -> Iterator[_RequestState]:
    """What the middleware does for one request (also for tests and benchmarks)."""
    state = _RequestState(allow_replica=allow_replica)
    token = _request.set(state)
    try:
        yield state
    finally:
        _request.reset(token)


def _model_label(model: Any) -> str:
    meta = getattr(model, "_meta", None)
    return str(getattr(meta, "label_lower", "")) if meta is not None else ""


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads to ``replica`` under the rules above, writes to ``default``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not replica_configured() or not _scope.get():
            return None
        state = _request.get()
        if state is None or not state.allow_replica or state.wrote:
            return None
        if connections[PRIMARY].in_atomic_block:
            return None
        instance = hints.get("instance")
        if instance is not None and getattr(getattr(instance, "_state", None), "db", None) == PRIMARY:
            return None  # follow a relation of a row read from the primary on the primary
        return REPLICA if replica_fresh() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        state = _request.get()
        if state is not None and _model_label(model) not in BOOKKEEPING_MODELS:
            state.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db == PRIMARY


class ReadYourWritesMiddleware:
    """Reads of GET/HEAD requests may use the replica unless the client wrote within
    ``POPID_READ_YOUR_WRITES_SECONDS``; a write request sets the ``popid_rw`` cookie (a Unix
    time until which this client reads the primary). The cookie is not a security boundary: a
    client that drops or forges it can only make its own reads staler or fresher."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        try:
            pinned_until = float(request.COOKIES.get(COOKIE, "0") or 0)
        except ValueError:
            pinned_until = 0.0
        safe = (request.method or "GET") in SAFE_METHODS
        with request_scope(allow_replica=safe and time.time() >= pinned_until):
            response = self.get_response(request)
        if not safe:
            seconds = read_your_writes_seconds()
            response.set_cookie(COOKIE, str(int(time.time()) + seconds), max_age=seconds, httponly=True,
                                samesite="Lax", secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", True)))
        return response
