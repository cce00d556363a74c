"""`popid services reconcile`: ask the payment gateway about pending payments and submit every
paid submission that has no dossier yet (safe to run any time, e.g. from cron: it never submits
twice)."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from popid.services.submissions import reconcile


class Command(BaseCommand):
    help = "Public-service maintenance: reconcile payments and submissions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("reconcile", help="query pending payments, submit paid submissions")
        rec.add_argument("--older-than", type=int, default=0, metavar="SECONDS",
                         help="only query payments opened at least this long ago (default 0)")

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile(older_than=timedelta(seconds=options["older_than"]))
        self.stdout.write(f"queried={report.queried} recorded_paid={report.recorded_paid} "
                          f"submitted={report.submitted} still_pending={report.still_pending} "
                          f"refunded={report.refunded}")
