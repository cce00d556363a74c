"""``popid scheduler``: enqueue the periodic jobs declared with ``@background(every=…)``.

Each tick, for each job, the current period number (``slot``) is claimed by inserting a
``PeriodicRun(name, slot)`` row; the task is enqueued in the same transaction. The unique
constraint lets exactly one of several schedulers (or a restarted one) enqueue each period.
A tick also puts back the tasks of workers that stopped beating (``requeue_orphans``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from popid.core import tasks
from popid.core.models import PeriodicRun

log = logging.getLogger("popid.scheduler")


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose current period has no run yet; returns their names."""
    now = now or timezone.now()
    enqueued = []
    for job in list(tasks.PERIODIC.values()):
        slot = job.slot(now)
        if not job.due(now) or PeriodicRun.objects.filter(name=job.name, slot=slot).exists():
            continue  # not in its window, or already enqueued (the common case: no failed INSERT)
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=job.name, slot=slot)
                job.task.enqueue()
        except IntegrityError:
            continue  # this period is already enqueued (another scheduler, or an earlier tick)
        enqueued.append(job.name)
    return enqueued


def run(*, interval: float = 1.0, stop: threading.Event | None = None, worker_id: str | None = None) -> None:
    """Loop until ``stop`` is set: tick, requeue orphans, beat."""
    stop = stop or threading.Event()
    worker_id = worker_id or tasks.new_worker_id("scheduler")
    log.info("scheduler %s started: %d periodic jobs", worker_id, len(tasks.PERIODIC))
    last_reap = 0.0
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                tasks.beat(worker_id, kind="scheduler")
                if names := tick():
                    log.debug("enqueued %s", ", ".join(names))
                if time.monotonic() - last_reap >= tasks.heartbeat_seconds():
                    tasks.requeue_orphans()
                    last_reap = time.monotonic()
            except Exception:  # a database restart: log, wait, go on
                log.exception("scheduler tick failed")
            stop.wait(interval)
    finally:
        with contextlib.suppress(Exception):  # the database may be the reason we stop
            tasks.forget(worker_id)
        close_old_connections()
