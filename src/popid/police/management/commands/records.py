"""`popid records ocr FILE`: print the text Tesseract (Vietnamese) recognises on one scan, for
operators checking a scanner's output."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core.errors import DomainError
from popid.police import ocr


class Command(BaseCommand):
    help = "Records digitisation: OCR one scanned page (PNG, JPEG or TIFF) and print its text."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("ocr", help="print the recognised text of one scan")
        run.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > ocr.MAX_SCAN_BYTES:
            raise CommandError(f"{path}: larger than {ocr.MAX_SCAN_BYTES // (1024 * 1024)} MB")
        try:
            text = ocr.recognise(path.read_bytes())
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.title}: {exc.detail}") from exc
        self.stdout.write(text)
