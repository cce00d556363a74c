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
        parser.add_argument("--chip-card", action="store_true",
                            help="nội dung là mã QR mặt trước thẻ căn cước: kiểm tra ngoại tuyến (định dạng, số "
                                 "định danh khớp giới tính và năm sinh, ngày tháng, hạn thẻ); không cần bộ nhớ đệm")
        parser.add_argument("--make-chip-card", action="store_true",
                            help="in mã QR của một thẻ thử nghiệm (dùng --name, --birth, --sex, --address, --issued, "
                                 "--id-number)")
        parser.add_argument("--name", default="Nguyễn Văn An")
        parser.add_argument("--birth", default="12/05/1990", help="NN/TT/NNNN")
        parser.add_argument("--sex", default="M", choices=["M", "F"])
        parser.add_argument("--address", default="12 Hàng Bạc, Phường Hoàn Kiếm, Hà Nội")
        parser.add_argument("--issued", default="01/07/2021", help="NN/TT/NNNN")
        parser.add_argument("--id-number", default="")
        parser.add_argument("--svg", type=Path, default=None, help="với --make-chip-card: ghi thêm ảnh QR (SVG)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["make_chip_card"]:
            self._make_chip_card(options)
            return
        if options["chip_card"]:
            self._chip_card(options)
            return
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

    def _read(self, raw: str | None) -> str:
        if raw is None:
            raise CommandError("Cần nội dung mã QR hoặc đường dẫn tệp")
        if raw == "-":
            return sys.stdin.read()
        if len(raw) < 4096 and "|" not in raw and Path(raw).is_file():
            return Path(raw).read_text(encoding="utf-8")
        return raw

    def _chip_card(self, options: dict[str, Any]) -> None:
        """Exit 0 consistent, 1 inconsistent or unreadable (issue #19 item 11)."""
        from django.utils import timezone

        from popid.core.errors import ValidationFailed
        from popid.wallet.chipqr import check_offline, parse_chip_qr

        try:
            card = parse_chip_qr(self._read(options["payload"]).strip())
        except ValidationFailed as exc:
            problems = [(e.get("field", "qr"), str(e.get("message", ""))) for e in exc.errors()]
            if options["json"]:
                self.stdout.write(json.dumps({"consistent": False, "problems": problems}, ensure_ascii=False))
            else:
                self.stdout.write("KHÔNG ĐỌC ĐƯỢC: " + "; ".join(f"{f}: {m}" for f, m in problems))
            sys.exit(1)
        check = check_offline(card, today=timezone.localdate())
        if options["json"]:
            self.stdout.write(json.dumps({
                "consistent": check.consistent, "problems": [{"code": c, "text": str(t)} for c, t in check.problems],
                "id_number": card.id_number, "full_name": card.full_name, "birth_date": card.birth_date.isoformat(),
                "sex": card.sex, "issued_on": card.issued_on.isoformat(),
                "valid_until": check.valid_until.isoformat() if check.valid_until else None}, ensure_ascii=False,
                indent=1))
        else:
            until = check.valid_until.strftime("%d/%m/%Y") if check.valid_until else "không thời hạn"
            self.stdout.write(f"{'NHẤT QUÁN' if check.consistent else 'KHÔNG NHẤT QUÁN'}: {card.full_name}, "
                              f"số định danh {card.id_number}, sinh {card.birth_date:%d/%m/%Y}, "
                              f"cấp {card.issued_on:%d/%m/%Y}, có giá trị đến {until}")
            for _code, text in check.problems:
                self.stdout.write(f"  {text}")
            self.stdout.write("  lưu ý: mã QR mặt trước không có chữ ký số — kiểm tra ngoại tuyến chỉ xác nhận tính "
                              "nhất quán; đối chiếu CSDL dân cư tại /giay-to/xac-minh-the-can-cuoc/")
        if not check.consistent:
            sys.exit(1)

    def _make_chip_card(self, options: dict[str, Any]) -> None:
        from datetime import datetime

        from popid.wallet.chipqr import make_chip_qr

        try:
            birth = datetime.strptime(options["birth"], "%d/%m/%Y").date()
            issued = datetime.strptime(options["issued"], "%d/%m/%Y").date()
        except ValueError as exc:
            raise CommandError("Ngày phải có dạng NN/TT/NNNN") from exc
        text = make_chip_qr(full_name=options["name"], birth_date=birth, sex=options["sex"],
                            permanent_address=options["address"], issued_on=issued, id_number=options["id_number"])
        self.stdout.write(text)
        if options["svg"]:
            import qrcode
            import qrcode.image.svg

            qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(str(options["svg"]))
            self.stderr.write(f"Đã ghi {options['svg']}")
