"""`popid keys rotate|list|prune`: manage the signing keys published at /oidc/jwks."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand

from popid.core import keys


def _when(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds") if epoch else ""


class Command(BaseCommand):
    help = "Rotate, list and prune the token-signing keys (current, next, retired)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="next key becomes current, current is retired, a new next key")
        rotate.add_argument("--alg", choices=keys.SUPPORTED_ALGS, action="append",
                            help="algorithm to rotate (repeatable; default: all)")
        sub.add_parser("list", help="list keys as JSON (public parts only)")
        sub.add_parser("prune", help="delete retired keys past their publication window")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rotate":
            for alg in options["alg"] or keys.SUPPORTED_ALGS:
                new = keys.rotate(alg)
                self.stdout.write(f"{alg}: current key is now {new.kid}")
        elif action == "list":
            keys.public_jwks()  # bootstraps missing algorithms
            rows = [{"kid": k.kid, "alg": k.alg, "status": k.status, "created": _when(k.created),
                     "retired_at": _when(k.retired_at)} for k in keys.all_keys()]
            self.stdout.write(json.dumps(rows, indent=2))
        elif action == "prune":
            removed = keys.prune()
            self.stdout.write(json.dumps({"removed": removed}))
