"""Background work: every task of every app is a ``@background`` function on django-tasks (the
backport of Django 6's tasks framework) with its database backend.

- ``@background(max_attempts=…, every=…)`` turns a module-level function into a task. A failed
  run is retried with exponential back-off (``backoff``) until ``max_attempts`` runs have been
  made; then it stays ``FAILED``: a dead letter, listed for supervisors at
  ``/van-hanh/tac-vu-loi/`` with a retry button.
- The task row is written by the database backend in the caller's transaction, so a task
  enqueued by a command exists exactly when the command's rows exist (``core.outbox`` relies on it).
- ``every=`` declares a periodic job; ``popid scheduler`` (``core.scheduler``) enqueues it once
  per period, whatever the number of schedulers.
- Workers (``popid worker``) write a heartbeat; a task left ``RUNNING`` by a worker that stopped
  beating (``kill -9``, power loss) is put back in the queue by ``requeue_orphans``.
- The request id of the request that enqueued a task travels with it (``core.logs``).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar, cast, overload

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task as make_task
from django_tasks.base import Task, TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.models import DBTaskResult

from popid.core import logs
from popid.core.task_backend import REQUEST_ID_KWARG

log = logging.getLogger("popid.tasks")

BASE_DELAY = 10  # seconds before the 2nd run; then 20, 40, … capped at MAX_DELAY
MAX_DELAY = 3600


def backoff(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed runs: 10, 20, 40, … ≤ 1 h."""
    return min(MAX_DELAY, BASE_DELAY * (1 << max(0, attempts - 1)))


@dataclass(frozen=True)
class Periodic:
    task: Task[..., Any]
    every: int  # seconds
    offset: int = 0  # seconds after the period boundary (UTC), e.g. 19 h for 02:00 in Hanoi
    window: int | None = None  # only enqueued in the period's first `window` s (a nightly job stays nightly)

    @property
    def name(self) -> str:
        return self.task.module_path

    def slot(self, now: datetime) -> int:
        """The period number ``now`` falls in: one run per slot."""
        return int((now.timestamp() - self.offset) // self.every)

    def due(self, now: datetime) -> bool:
        return self.window is None or (now.timestamp() - self.offset) % self.every < self.window


_max_attempts: dict[str, int] = {}
PERIODIC: dict[str, Periodic] = {}


P = ParamSpec("P")
R = TypeVar("R")


@overload
def background(function: Callable[P, R], *, max_attempts: int = ..., every: int | None = ...,
               offset: int = ..., window: int | None = ..., priority: int = ...,
               queue_name: str = ...) -> Task[P, R]: ...


@overload
def background(function: None = None, *, max_attempts: int = ..., every: int | None = ...,
               offset: int = ..., window: int | None = ..., priority: int = ...,
               queue_name: str = ...) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def background(function: Callable[P, R] | None = None, *, max_attempts: int = 5, every: int | None = None,
               offset: int = 0, window: int | None = None, priority: int = 0,
               queue_name: str = "default") -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Declare a task (optionally periodic). Use as ``@background`` or ``@background(...)``."""

    def decorate(func: Callable[P, R]) -> Task[P, R]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            request_id = kwargs.pop(REQUEST_ID_KWARG, None)
            with logs.request_id_scope(request_id):
                log.info("task %s.%s running", func.__module__, func.__qualname__)
                return func(*args, **kwargs)

        # ``run`` takes ``func``'s arguments (plus the request id the backend adds) and returns its result
        made = cast("Task[P, R]", make_task(priority=priority, queue_name=queue_name)(run))
        _max_attempts[made.module_path] = max(1, max_attempts)
        if every is not None:
            if every <= 0:
                raise ValueError("every must be a positive number of seconds")
            PERIODIC[made.module_path] = Periodic(task=made, every=every, offset=offset, window=window)
        return made

    return decorate(function) if function is not None else decorate


def max_attempts_for(task_path: str) -> int:
    return _max_attempts.get(task_path, 1)


def _retry_failed(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """Signal handler: a failed run with attempts left goes back to the queue after the back-off
    (its traceback stays on the row as the last error until the next run)."""
    if task_result.status != TaskResultStatus.FAILED:
        return
    attempts = len(task_result.worker_ids)
    if attempts >= max_attempts_for(task_result.task.module_path):
        log.warning("task %s (%s) failed for good after %d attempts", task_result.id,
                    task_result.task.module_path, attempts)
        return
    delay = backoff(attempts)
    DBTaskResult.objects.filter(pk=task_result.id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, finished_at=None, run_after=timezone.now() + timedelta(seconds=delay))
    log.info("task %s (%s) failed (attempt %d), retrying in %d s", task_result.id,
             task_result.task.module_path, attempts, delay)


def connect_signals() -> None:
    task_finished.connect(_retry_failed, dispatch_uid="popid.core.tasks.retry_failed")


# --- workers: heartbeats and orphaned tasks -----------------------------------------------------
def heartbeat_seconds() -> float:
    return float(getattr(settings, "POPID_WORKER_HEARTBEAT_SECONDS", 5))


def stale_seconds() -> float:
    """A worker silent this long is dead: /readyz fails and its running task is requeued."""
    return float(getattr(settings, "POPID_WORKER_STALE_SECONDS", 30))


def new_worker_id(kind: str = "worker") -> str:
    return f"{kind}-{socket.gethostname()[:30]}-{os.getpid()}-{os.urandom(3).hex()}"[:64]


def beat(worker_id: str, *, kind: str = "worker") -> None:
    from popid.core.models import WorkerHeartbeat

    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(worker_id=worker_id, kind=kind, hostname=socket.gethostname()[:100],
                                       pid=os.getpid(), started_at=now, seen_at=now)


def forget(worker_id: str) -> None:
    from popid.core.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def live_workers(*, kind: str = "worker") -> list[str]:
    from popid.core.models import WorkerHeartbeat

    cutoff = timezone.now() - timedelta(seconds=stale_seconds())
    return list(WorkerHeartbeat.objects.filter(kind=kind, seen_at__gte=cutoff).values_list("worker_id", flat=True))


def requeue_orphans() -> int:
    """Tasks ``RUNNING`` on a worker without a fresh heartbeat go back to the queue (the worker was
    killed mid-task; the run counts as an attempt). Returns how many were requeued or failed."""
    from popid.core.models import WorkerHeartbeat

    now = timezone.now()
    cutoff = now - timedelta(seconds=stale_seconds())
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True))
    touched = 0
    for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).only(
            "id", "worker_ids", "task_path"):
        if row.worker_ids and row.worker_ids[-1] in alive:
            continue
        attempts = len(row.worker_ids)
        with transaction.atomic():
            if attempts >= max_attempts_for(row.task_path):
                changed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                    status=TaskResultStatus.FAILED, finished_at=now, exception_class_path="popid.core.tasks.WorkerLost",
                    traceback="WorkerLost: the worker running this task stopped (killed or lost) on its last attempt")
            else:
                changed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                    status=TaskResultStatus.READY, run_after=now, started_at=None)
        if changed:
            touched += 1
            log.warning("task %s (%s) was running on a lost worker: %s", row.pk, row.task_path,
                        "failed" if attempts >= max_attempts_for(row.task_path) else "requeued")
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    return touched


# --- dead letters -------------------------------------------------------------------------------
def failed_tasks(limit: int = 200) -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.failed().order_by("-finished_at")[:limit])


def retry_failed_task(task_id: str) -> bool:
    """A dead letter back to the queue with a fresh attempt budget; False if it is not failed
    (or ``task_id`` is not a task id)."""
    try:
        task_id = str(uuid.UUID(str(task_id)))
    except ValueError:
        return False
    return bool(DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=timezone.now(), finished_at=None, started_at=None, worker_ids=[]))


def error_summary(row: DBTaskResult[Any, Any]) -> str:
    """Exception class and the traceback's last line (the message), bounded."""
    last = next((line for line in reversed(row.traceback.splitlines()) if line.strip()), "")
    return last[:300] or row.exception_class_path


# --- housekeeping -------------------------------------------------------------------------------
def keep_results_days() -> int:
    return int(getattr(settings, "POPID_TASK_RESULTS_KEEP_DAYS", 7))


@background(every=3600, max_attempts=1)
def prune_task_results() -> int:
    """Successful task rows and period markers older than the retention; dead letters stay until
    a supervisor retries them."""
    from popid.core.models import PeriodicRun

    cutoff = timezone.now() - timedelta(days=keep_results_days())
    deleted, _ = DBTaskResult.objects.successful().filter(finished_at__lt=cutoff).delete()
    PeriodicRun.objects.filter(enqueued_at__lt=cutoff).delete()
    return deleted
