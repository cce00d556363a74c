"""``popid wallet sync [--follow]``: apply registry events to credential statuses (the web
process also does it before serving a status list or verifying); ``popid wallet prune``: delete
expired verifier sessions, issuance nonces, offers and tokens (and compact presentations
at once)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from popid.wallet import compact
from popid.wallet.models import CredentialOffer, IssuanceNonce, IssuanceToken, VerifierSession
from popid.wallet.status import sync_events

KEEP = timedelta(days=1)


class Command(BaseCommand):
    help = "Ví giấy tờ: đồng bộ trạng thái từ sự kiện dân cư (sync) và dọn dữ liệu hết hạn (prune)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="áp dụng sự kiện dân cư mới vào danh sách trạng thái")
        sync.add_argument("--follow", action="store_true", help="chạy liên tục")
        sync.add_argument("--interval", type=float, default=1.0, help="giây giữa hai lần đọc (--follow)")
        sub.add_parser("prune", help="xóa phiên xác minh, nonce, lời mời và token đã hết hạn quá 1 ngày")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "prune":
            cutoff = timezone.now() - KEEP
            counts = {
                "verifier_sessions": VerifierSession.objects.filter(expires_at__lt=cutoff).delete()[0],
                "nonces": IssuanceNonce.objects.filter(expires_at__lt=cutoff).delete()[0],
                "tokens": IssuanceToken.objects.filter(expires_at__lt=cutoff).delete()[0],
                "offers": CredentialOffer.objects.filter(expires_at__lt=cutoff).delete()[0],
                # compact presentations hold disclosed data: gone as soon as their 60 s are over
                "compact_presentations": compact.prune(),
            }
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            return
        while True:
            applied = sync_events()
            if applied or not options["follow"]:
                self.stdout.write(f"{applied} sự kiện đã áp dụng")
            if not options["follow"]:
                return
            time.sleep(options["interval"])
