"""``popid backup [--output FILE]``: database + keys + uploaded files in one archive with a
manifest of checksums (core.backup)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from popid.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database, signing keys and uploaded files into one .tar.gz archive."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", type=Path, default=None,
                            help="archive path (default DATA_DIR/backups/popid-<time>.tar.gz)")

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"] or (Path(settings.DATA_DIR) / "backups" /
                                       f"popid-{timezone.now():%Y%m%dT%H%M%SZ}.tar.gz")
        try:
            manifest = backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(f["size"] for f in manifest.files.values())
        self.stdout.write(f"{output} ({manifest.data['engine']}, {len(manifest.files)} files, {size} bytes)")
