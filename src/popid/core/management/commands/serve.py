"""``popid serve``: the production web server (gunicorn with ``popid.deploy.gunicorn``).
Extra arguments go to gunicorn, e.g. ``popid serve --bind 0.0.0.0:8000 --workers 4``."""

from __future__ import annotations

import os
import sys
from argparse import REMAINDER, ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run PopID under gunicorn with the packaged configuration."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("gunicorn_args", nargs=REMAINDER, help="passed to gunicorn")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:popid.deploy.gunicorn",
                *options["gunicorn_args"], "popid.wsgi:application"]
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn, fixed program
