"""``popid restore ARCHIVE [--force]``: verify the archive's checksums, then restore the database,
keys and uploaded files into this installation (core.backup)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a `popid backup` archive (checksums verified first; an empty target unless --force)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["archive"].is_file():
            raise CommandError(f"{options['archive']}: no such file")
        try:
            manifest = restore(options["archive"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {manifest.data['engine']} backup of {manifest.data['created_at']} "
                          f"({len(manifest.files)} files)")
