"""``popid scheduler``: enqueue periodic jobs once per period (safe to run several) and requeue
the tasks of workers that died mid-task."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core import scheduler, tasks


class Command(BaseCommand):
    help = "Enqueue PopID's periodic jobs (ledger, status lists, reconciliation, quality run)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks (default 1)")
        parser.add_argument("--once", action="store_true", help="one tick, print what was enqueued, exit")
        parser.add_argument("--list", action="store_true", help="list the periodic jobs and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be positive")
        if options["list"]:
            for job in sorted(tasks.PERIODIC.values(), key=lambda j: j.every):
                self.stdout.write(f"{job.name}\tevery {job.every} s" + (f" (+{job.offset} s)" if job.offset else ""))
            return
        if options["once"]:
            for name in scheduler.tick():
                self.stdout.write(f"enqueued {name}")
            tasks.requeue_orphans()
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_a: stop.set())
        scheduler.run(interval=options["interval"], stop=stop)
