"""`popid records ocr FILE`: print the text Tesseract (Vietnamese) recognises on one scan (PDF or
image), for operators checking a scanner's output."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core.errors import DomainError
from popid.records import ocr


class Command(BaseCommand):
    help = "Records digitisation: OCR one scan (PDF, PNG, JPEG or TIFF) and print its text."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("ocr", help="print the recognised text of one scan, page by page")
        run.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            ocr.check_size(path.stat().st_size)  # before reading it
            pages = ocr.recognise_pages(path.read_bytes())
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.title}: {exc.detail}") from exc
        for number, text in enumerate(pages, start=1):
            if len(pages) > 1:
                self.stdout.write(f"--- trang {number}/{len(pages)} ---")
            self.stdout.write(text)
