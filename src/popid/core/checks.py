"""Deployment checks of PopID's own settings (``popid check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_operations_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    token = getattr(settings, "POPID_METRICS_TOKEN", "")
    if not token:
        problems.append(checks.Warning(
            "POPID_METRICS_TOKEN is not set: /metrics answers loopback clients only, which a reverse proxy on "
            "the same host is.", hint="Set POPID_METRICS_TOKEN to a long random value (docs/operations.md).",
            id="popid.W001"))
    elif len(token) < 24:
        problems.append(checks.Warning("POPID_METRICS_TOKEN is shorter than 24 characters.", id="popid.W002"))
    if getattr(settings, "POPID_LOG_FORMAT", "json") != "json":
        problems.append(checks.Warning("POPID_LOG_FORMAT is not json: log collectors expect one JSON object per line.",
                                       id="popid.W003"))
    return problems
