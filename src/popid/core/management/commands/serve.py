"""``popid serve``: the production web server — Granian (``popid.deploy.granian``), or gunicorn
with ``popid.deploy.gunicorn`` when ``POPID_WEB_SERVER=gunicorn``. Extra arguments go to the
server, e.g. ``popid serve --workers 4``."""

from __future__ import annotations

import os
import sys
from argparse import REMAINDER, ArgumentParser
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

SERVERS = ("granian", "gunicorn")


class Command(BaseCommand):
    help = "Run PopID under its production web server (Granian; gunicorn with POPID_WEB_SERVER=gunicorn)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("server_args", nargs=REMAINDER, help="passed to the server")

    def handle(self, *args: Any, **options: Any) -> None:
        server = os.environ.get("POPID_WEB_SERVER", "granian").strip().lower() or "granian"
        if server not in SERVERS:
            raise CommandError(f"POPID_WEB_SERVER={server!r}: choose one of {', '.join(SERVERS)}")
        if server == "gunicorn":
            argv = [sys.executable, "-m", "gunicorn", "-c", "python:popid.deploy.gunicorn",
                    *options["server_args"], "popid.wsgi:application"]
        else:
            from popid.deploy import granian

            try:
                logging_args = granian.prepare(os.environ)
                argv = granian.command(os.environ, [*logging_args, *options["server_args"]])
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
        sys.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606 - replaces this process with the server, fixed program
