"""`popid traffic import-csv FILE`: import detections from a CSV file (see traffic/imports.py).
`popid traffic reconcile`: query pending fine payments at the gateway, send pending refunds, list refunds."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.traffic.imports import import_csv


class Command(BaseCommand):
    help = "Traffic violations: import detections from CSV."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-csv", help="import detections (idempotent on device, plate and time)")
        imp.add_argument("file", type=Path)
        imp.add_argument("--source", default="", help="recorded as the detections' source (default csv:<file name>)")
        rec = sub.add_parser("reconcile", help="query pending fine payments; send pending refunds and list them")
        rec.add_argument("--older-than", type=int, default=0, metavar="SECONDS",
                         help="only query payments opened at least this long ago (default 0)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reconcile":
            from datetime import timedelta

            from popid.traffic.services import reconcile

            report = reconcile(older_than=timedelta(seconds=options["older_than"]))
            self.stdout.write(f"queried={report.queried} recorded_paid={report.recorded_paid} "
                              f"still_pending={report.still_pending} refunds={len(report.refunds)}")
            for line in report.refunds:
                self.stdout.write(f"refund: {line}")
            return
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        imported = import_csv(path, source=options["source"])
        for row, message in imported.errors:
            self.stderr.write(f"line {row}: {message}")
        self.stdout.write(f"created={imported.created} manual={imported.manual} duplicates={imported.duplicates} "
                          f"errors={len(imported.errors)}")
        if imported.errors and not imported.created and not imported.duplicates:
            raise CommandError("no row imported")
