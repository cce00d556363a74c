"""``popid mrz parse LINE…``: parse and check an ICAO 9303 machine-readable zone.

Prints the fields as JSON; on a bad zone exits with status 1 and names the failed check
(``length``, ``characters``, ``document_number_check_digit``, ``composite_check_digit``…)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from popid.immigration.mrz import InvalidMrz, parse


class Command(BaseCommand):
    help = "Đọc và kiểm tra vùng đọc máy (MRZ) của giấy tờ đi lại theo ICAO Doc 9303."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("parse", help="In các trường dưới dạng JSON; mã thoát 1 nếu MRZ không hợp lệ.")
        p.add_argument("lines", nargs="+", help="Các dòng MRZ (mỗi dòng một đối số, hoặc một đối số nhiều dòng)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = parse(options["lines"])
        except InvalidMrz as exc:
            raise CommandError(f"mrz_invalid: {exc.check}: {exc.detail}") from exc
        self.stdout.write(json.dumps(data.as_json(), ensure_ascii=False, indent=2))
