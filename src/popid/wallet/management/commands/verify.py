"""``popid verify <payload|file>``: verify a wallet presentation offline (a compact one's full text is
fetched first, with ``--audience``), from a cached JWKS and
status list, and say how old the cache is. ``--refresh-cache`` rebuilds the cache first (from this
installation, or over HTTP with ``--from https://popid.example``), adding the JWKS of every external
issuer in ``POPID_TRUSTED_VC_ISSUERS`` (SD-JWT VC metadata discovery) and the external status lists
given with ``--status-list``; nothing else touches the network.

Exit status: 0 accepted, 1 refused, 2 no usable cache or unreadable input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from popid.wallet import compact
from popid.wallet.issuers import issuer_base
from popid.wallet.sdjwt import Refused
from popid.wallet.verify import PRESENTATION_MAX_AGE, add_external_issuers, build_cache, fetch_cache, verify_offline


def default_cache_path() -> Path:
    return Path(settings.DATA_DIR) / "wallet" / "verifier-cache.json"


def write_cache(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class Command(BaseCommand):
    help = "Xác minh bản trình bày giấy tờ số ngoại tuyến (JWKS và danh sách trạng thái lưu sẵn)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("payload", nargs="?", help="nội dung mã QR, hoặc đường dẫn tệp chứa nó ('-' = stdin)")
        parser.add_argument("--cache", type=Path, default=None, help="tệp bộ nhớ đệm (mặc định DATA_DIR/wallet/)")
        parser.add_argument("--refresh-cache", action="store_true", help="làm mới bộ nhớ đệm trước khi xác minh")
        parser.add_argument("--from", dest="source", default="", help="tải bộ nhớ đệm qua HTTP từ địa chỉ PopID này")
        parser.add_argument("--base", default="", help="gốc URL của cơ quan cấp khi làm mới từ máy này")
        parser.add_argument("--status-list", action="append", default=[], dest="status_lists",
                            help="khi làm mới: tải thêm danh sách trạng thái (URL) của một cơ quan cấp bên ngoài "
                                 "được tin cậy (có thể lặp lại)")
        parser.add_argument("--nonce", default=None, help="nonce bên xác minh đã đưa cho ví")
        parser.add_argument("--audience", default=None, help="định danh bên xác minh (aud)")
        parser.add_argument("--max-age", type=int, default=PRESENTATION_MAX_AGE,
                            help="tuổi tối đa của bản trình bày (giây)")
        parser.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        cache = options["cache"] or default_cache_path()
        if options["refresh_cache"]:
            source = options["source"].rstrip("/")
            data = fetch_cache(source) if source else build_cache(options["base"].rstrip("/") or issuer_base())
            add_external_issuers(data, status_lists=tuple(options["status_lists"]))
            write_cache(cache, data)
            self.stderr.write(f"Đã làm mới bộ nhớ đệm {cache} ({len(data['issuers'])} cơ quan cấp)")
            for missing in data.get("unavailable", []):
                what = missing.get("issuer") or missing.get("status_list")
                self.stderr.write(f"Không tải được {what}: {missing['reason']} {missing['detail']}")
        raw = options["payload"]
        if raw is None:
            if options["refresh_cache"]:
                return
            raise CommandError("Cần nội dung mã QR hoặc đường dẫn tệp")
        if raw == "-":
            raw = sys.stdin.read()
        elif len(raw) < 4096 and "~" not in raw and Path(raw).is_file():
            raw = Path(raw).read_text(encoding="utf-8")
        if compact.is_compact(raw):
            # a compact presentation (issue #19 item 6): fetch the full one for this audience first
            try:
                raw = compact.fetch(raw, audience=options["audience"] or "")
            except Refused as exc:
                self.stdout.write(f"KHÔNG CHẤP NHẬN: {exc.reason} {exc.detail}")
                sys.exit(1)
        if not cache.exists():
            self.stderr.write(f"Chưa có bộ nhớ đệm {cache}: chạy popid verify --refresh-cache")
            sys.exit(2)
        result = verify_offline(raw.strip(), cache_path=cache, audience=options["audience"], nonce=options["nonce"],
                                max_age=options["max_age"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        else:
            age = result.cache_age_seconds or 0
            self.stdout.write(f"Bộ nhớ đệm: {cache}, cập nhật {age} giây trước ({age // 3600} giờ)")
            if result.accepted:
                self.stdout.write(f"HỢP LỆ: {result.config_id} do {result.issuer_name} cấp, trạng thái {result.status}")
                for name, value in result.disclosed.items():
                    self.stdout.write(f"  {name}: {value}")
                for note in result.notes:
                    self.stdout.write(f"  lưu ý: {note}")
            else:
                self.stdout.write(f"KHÔNG CHẤP NHẬN: {result.reason} {result.detail}")
        if not result.accepted:
            sys.exit(1)
