"""``popid worker``: run background tasks (django-tasks-db's ``db_worker`` under PopID's name),
writing a heartbeat every few seconds; ``--with-scheduler`` also runs ``popid scheduler`` in a
thread (one process for development and small sites)."""

from __future__ import annotations

import contextlib
import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from popid.core import scheduler, tasks

log = logging.getLogger("popid.worker")


def _heartbeat(worker_id: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            tasks.beat(worker_id)
        except Exception:  # the database restarting: the next beat will do
            log.warning("worker heartbeat failed", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(tasks.heartbeat_seconds())
    with contextlib.suppress(Exception):  # the database may be why we stop; the row goes stale anyway
        tasks.forget(worker_id)
    close_old_connections()


class Command(DbWorkerCommand):
    help = "Run PopID's background tasks (webhooks, outbox consumers, ledger, periodic jobs)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False, worker_id=tasks.new_worker_id())
        parser.add_argument("--with-scheduler", action="store_true",
                            help="also enqueue the periodic jobs (same as running `popid scheduler`)")

    def handle(self, *args: Any, **options: Any) -> None:
        with_scheduler = options.pop("with_scheduler")
        stop = threading.Event()
        threads = [threading.Thread(target=_heartbeat, args=(options["worker_id"], stop), daemon=True,
                                    name="popid-heartbeat")]
        if with_scheduler:
            threads.append(threading.Thread(target=scheduler.run, kwargs={"stop": stop}, daemon=True,
                                            name="popid-scheduler"))
        for thread in threads:
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
