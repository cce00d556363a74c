"""`popid ledger integrate|checkpoint|verify|verify-bundle`: operate and audit the access ledger."""

from __future__ import annotations

import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from popid.ledger import services
from popid.ledger.bundle import verify_bundle
from popid.ledger.dbroles import ensure_roles
from popid.ledger.verify import verify_ledger


class Command(BaseCommand):
    help = "Commit pending access records, sign checkpoints, verify the whole log or a proof bundle."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        integrate = sub.add_parser("integrate", help="commit every pending access record to the Merkle log")
        integrate.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)
        integrate.add_argument("--no-checkpoint", action="store_true", help="do not sign a checkpoint even if due")
        sub.add_parser("checkpoint", help="integrate, then sign a checkpoint of the current tree head")
        verify = sub.add_parser("verify", help="recompute every leaf and node and check every checkpoint")
        verify.add_argument("--jwks", type=Path, help="trusted ledger public keys (JWKS JSON) to pin the signers")
        bundle = sub.add_parser("verify-bundle", help="verify a citizen's downloaded proof bundle offline")
        bundle.add_argument("file", type=Path)
        bundle.add_argument("--jwks", type=Path, help="trusted ledger public keys (JWKS JSON) to check against")
        roles = sub.add_parser("db-roles", help="PostgreSQL: create the least-privilege application role (and "
                                                "the owner role) and grant; run after every migrate")
        roles.add_argument("--app-role", default="popid_app")
        roles.add_argument("--owner-role", help="also create this owner role and give it every table")
        roles.add_argument("--app-password-env", help="name of an environment variable holding the app password")
        roles.add_argument("--owner-password-env", help="name of an environment variable holding the owner password")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "integrate":
            result = services.integrate(batch_size=options["batch_size"], checkpoint=not options["no_checkpoint"])
            self.stdout.write(_("Đã cam kết %(added)s bản ghi; sổ cái có %(size)s mục.")
                              % {"added": result.added, "size": result.size})
            if result.checkpoint:
                self.stdout.write(_("Đã ký điểm kiểm tra kích thước %(size)s.") % {"size": result.checkpoint.size})
        elif action == "checkpoint":
            services.integrate(checkpoint=False)
            made = services.create_checkpoint()
            latest = services.latest_checkpoint()
            if made is None:
                self.stdout.write(_("Không có mục mới; điểm kiểm tra mới nhất vẫn là kích thước %(size)s.")
                                  % {"size": latest.size if latest else 0})
            self.stdout.write(latest.note if latest else "")
        elif action == "db-roles":
            self._db_roles(options)
        elif action == "verify":
            self._verify(options.get("jwks"), show_progress=options["verbosity"] >= 1)
        else:
            self._verify_bundle(options["file"], options.get("jwks"))

    def _verify(self, jwks_path: Path | None, *, show_progress: bool) -> None:
        def progress(done: int, size: int) -> None:
            if done % 1_000_000 < 5000 or done == size:
                self.stderr.write(_("… đã kiểm tra %(done)s / %(size)s mục") % {"done": done, "size": size})

        report = verify_ledger(trusted_keys=self._read_jwks(jwks_path) if jwks_path else None,
                               progress=progress if show_progress else None)
        self.stdout.write(_("Sổ cái: %(size)s mục, %(cps)s điểm kiểm tra đã kiểm tra.")
                          % {"size": report.size, "cps": report.checkpoints_checked})
        for warning in report.warnings:
            self.stderr.write(_("Lưu ý: %(warning)s") % {"warning": warning})
        if report.ok:
            self.stdout.write(self.style.SUCCESS(_("Toàn vẹn: mọi lá, nút và điểm kiểm tra đều khớp.")))
            return
        first = report.first
        self.stderr.write(_("LỖI ĐẦU TIÊN: %(problem)s") % {"problem": first})
        for problem in report.problems:
            if problem is not first:
                self.stderr.write(f"  - {problem}")
        raise CommandError(_("Sổ cái đã bị can thiệp: %(count)s vấn đề.") % {"count": len(report.problems)})

    def _db_roles(self, options: dict[str, Any]) -> None:
        def secret(name: str | None) -> str | None:
            if name is None:
                return None
            value = os.environ.get(name)
            if not value:
                raise CommandError(_("Biến môi trường %(name)s trống.") % {"name": name})
            return value

        try:
            done = ensure_roles(app_role=options["app_role"], owner_role=options.get("owner_role"),
                                app_password=secret(options.get("app_password_env")),
                                owner_password=secret(options.get("owner_password_env")))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for statement in done:
            self.stdout.write(statement)

    @staticmethod
    def _read_jwks(path: Path) -> dict[str, dict[str, Any]]:
        try:
            return {k["kid"]: k for k in json.loads(path.read_text())["keys"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(_("Không đọc được tệp: %(error)s") % {"error": exc}) from exc

    def _verify_bundle(self, path: Path, jwks_path: Path | None) -> None:
        trusted = self._read_jwks(jwks_path) if jwks_path else None
        try:
            bundle = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(_("Không đọc được tệp: %(error)s") % {"error": exc}) from exc
        report = verify_bundle(bundle, trusted_keys=trusted)
        for entry in report.entries:
            status = _("hợp lệ") if entry.ok else _("KHÔNG hợp lệ: %(why)s") % {"why": entry.reason}
            self.stdout.write(_("mục %(index)s: %(status)s") % {"index": entry.index, "status": status})
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok or report.checkpoint is None:  # ok implies a checkpoint
            raise CommandError(_("Gói bằng chứng không hợp lệ."))
        self.stdout.write(self.style.SUCCESS(
            _("Gói bằng chứng hợp lệ: %(count)s mục nằm trong cây kích thước %(size)s đã ký.")
            % {"count": len(report.entries), "size": report.checkpoint.size}))
