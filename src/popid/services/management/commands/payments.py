"""`popid payments reconcile --date YYYY-MM-DD`: compare the day's payments and refunds of every
purpose (dossier fees, traffic fines) with the gateway's settlement report; prints the counts and
every mismatch, keeps the run for the console page /services/doi-soat/. Exit status 1 when
anything does not match (so a cron job or a monitor notices)."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from popid.core.access import Actor
from popid.core.errors import DomainError


class Command(BaseCommand):
    help = "Payments: reconcile a day against the gateway's settlement report."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("reconcile", help="compare a day with the gateway's settlement report")
        rec.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                         help="the day to reconcile (default: yesterday, local time)")

    def handle(self, *args: Any, **options: Any) -> None:
        from popid.services.payments.reconciliation import reconcile_day

        day = options["date"] or timezone.localdate() - timedelta(days=1)
        try:
            run = reconcile_day(actor=Actor.system("payments:reconcile"), day=day)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc}") from exc
        self.stdout.write(f"day={run.day} gateway={run.gateway} matched={run.matched} mismatched={run.mismatched} "
                          f"report_sha256={run.report_sha256}")
        for line in run.lines.exclude(outcome="matched"):
            self.stdout.write(f"{line.outcome} {line.kind} {line.order_id} here={line.amount_here} "
                              f"report={line.amount_in_report} {line.purpose}")
        if run.mismatched:
            raise SystemExit(1)
