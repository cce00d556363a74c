"""``popid immigration overstays [--date YYYY-MM-DD]``: the daily overstay computation (stays with
no departure whose permission to stay has expired) → alerts for the police of the commune.
``popid immigration screen``: the guests declared since the last run against the watch list
through the matcher (the scheduler also runs it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from popid.immigration import services


class Command(BaseCommand):
    help = "Cơ sở dữ liệu xuất nhập cảnh: tính người nước ngoài quá hạn tạm trú."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("overstays", help="Tạo cảnh báo quá hạn (chạy hằng ngày; chạy lại không tạo trùng).")
        p.add_argument("--date", default="", help="Ngày tính (mặc định hôm nay), YYYY-MM-DD")
        sub.add_parser("screen", help="Đối chiếu khách mới khai báo với danh sách theo dõi (bộ so khớp).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "screen":
            from popid.immigration import screening

            done = screening.screen_new_stays()
            self.stdout.write(f"Khách đã đối chiếu: {done.guests}; mục theo dõi: {done.entries}; "
                              f"cặp so sánh: {done.pairs}; kết quả mới cần xem xét: {done.hits}")
            return
        today = None
        if options["date"]:
            today = parse_date(options["date"])
            if today is None:
                raise CommandError("--date phải có dạng YYYY-MM-DD")
        result = services.compute_overstays(today=today)
        self.stdout.write(f"Cảnh báo quá hạn mới: {result.created}; đang mở: {result.open_total}")
