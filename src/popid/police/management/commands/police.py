"""`popid police verify-custody`: recompute the evidence chain of custody and name every record
that was altered, removed or re-linked."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.police import services


class Command(BaseCommand):
    help = "Police operations: verify the hash-chained chain of custody of evidence."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify-custody", help="recompute every custody record's hash and link")

    def handle(self, *args: Any, **options: Any) -> None:
        count, problems = services.verify_custody()
        if problems:
            for problem in problems:
                self.stderr.write(f"custody record seq={problem.seq} id={problem.record_id}: {problem.reason}")
            raise CommandError(f"chain of custody: {len(problems)} problem(s) in {count} record(s)")
        self.stdout.write(f"chain of custody: {count} record(s) verified, no alteration")
