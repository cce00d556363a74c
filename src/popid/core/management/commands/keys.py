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
                            help="algorithm to rotate (repeatable; default: the keyset's algorithms)")
        listing = sub.add_parser("list", help="list keys as JSON (public parts only)")
        prune = sub.add_parser("prune", help="delete retired keys past their publication window")
        for p in (rotate, listing, prune):
            p.add_argument("--keyset", default=keys.DEFAULT_KEYSET,
                           help="signer whose keys to manage (default: oidc; e.g. ledger)")

    def handle(self, *args: Any, **options: Any) -> None:
        action, keyset = options["action"], options["keyset"]
        if action == "rotate":
            existing = sorted({k.alg for k in keys.all_keys(keyset)})
            default = keys.OIDC_ALGS if keyset == keys.DEFAULT_KEYSET else tuple(existing)
            for alg in options["alg"] or default:
                new = keys.rotate(alg, keyset)
                self.stdout.write(f"{alg}: current key is now {new.kid}")
        elif action == "list":
            keys.public_jwks(keyset)  # bootstraps missing OIDC algorithms
            rows = [{"kid": k.kid, "alg": k.alg, "status": k.status, "created": _when(k.created),
                     "retired_at": _when(k.retired_at)} for k in keys.all_keys(keyset)]
            self.stdout.write(json.dumps(rows, indent=2))
        elif action == "prune":
            removed = keys.prune(keyset)
            self.stdout.write(json.dumps({"removed": removed}))
