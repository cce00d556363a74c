"""`popid exchange deliver [--once]`: the webhook worker (outbox → signed deliveries, retries);
`popid exchange replay ID`: re-queue a dead letter; `popid exchange demo-call`: the demo bank's
calls over HTTP against a running server (client assertion → token → eKYC and person data)."""

from __future__ import annotations

import json
import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from popid.core.access import Actor
from popid.core.errors import DomainError
from popid.exchange import webhooks


class Command(BaseCommand):
    help = "Webhook delivery worker, dead-letter replay and the demo agency's HTTP calls."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        deliver = sub.add_parser("deliver", help="dispatch outbox events and deliver webhooks")
        deliver.add_argument("--once", action="store_true", help="one round, then exit")
        deliver.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
        deliver.add_argument("--timeout", type=float, default=webhooks.DEFAULT_TIMEOUT,
                             help="seconds to wait for a receiver")
        replay = sub.add_parser("replay", help="re-queue a dead letter")
        replay.add_argument("delivery_id", type=int)
        demo = sub.add_parser("demo-call", help="the demo bank's eKYC and person-data calls over HTTP")
        demo.add_argument("--base-url", default=None, help="default: POPID_BASE_URL (what `make run` serves)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except DomainError as exc:
            reasons = "; ".join(e.get("message", "") for e in exc.errors()) or str(exc.detail or exc.title)
            raise CommandError(reasons) from exc

    def _deliver(self, o: dict[str, Any]) -> None:
        stop = {"now": False}

        def _stop(*_args: Any) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        while True:
            counts = webhooks.run_once(timeout=o["timeout"])
            if o["once"] or any(counts.values()):
                self.stdout.write(json.dumps(counts))
            if o["once"] or stop["now"]:
                return
            time.sleep(o["interval"])
            if stop["now"]:
                return

    def _replay(self, o: dict[str, Any]) -> None:
        delivery = webhooks.replay(actor=Actor.system("popid exchange replay (CLI)"), delivery_id=o["delivery_id"])
        self.stdout.write(f"delivery {delivery.pk} queued again")

    def _demo_call(self, o: dict[str, Any]) -> None:
        from popid.exchange.demo import demo_call_over_http

        try:
            lines = demo_call_over_http((o["base_url"] or settings.BASE_URL).rstrip("/"))
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"demo call failed: {exc}") from exc
        self.stdout.write("\n".join(lines))
