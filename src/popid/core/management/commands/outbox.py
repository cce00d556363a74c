"""``popid outbox replay --from-id N [--to-id M] [--consumer PATH]``: enqueue the outbox consumers
again for stored events (events older than a consumer, or after restoring a backup). Safe:
consumers are idempotent."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from popid.core import outbox


class Command(BaseCommand):
    help = "Outbox maintenance: list consumers, replay stored events to them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("consumers", help="list the consumers and their topics")
        replay = sub.add_parser("replay", help="enqueue the consumers for stored events")
        replay.add_argument("--from-id", type=int, required=True)
        replay.add_argument("--to-id", type=int, default=None)
        replay.add_argument("--consumer", action="append", default=None, help="only this consumer (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "consumers":
            for item in outbox.CONSUMERS:
                self.stdout.write(f"{item.name}\t{', '.join(sorted(item.topics))}")
            return
        if options["from_id"] < 1 or (options["to_id"] is not None and options["to_id"] < options["from_id"]):
            raise CommandError("--from-id must be ≥ 1 and --to-id ≥ --from-id")
        try:
            made = outbox.replay(from_id=options["from_id"], to_id=options["to_id"], consumers=options["consumer"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{made} consumer tasks enqueued")
