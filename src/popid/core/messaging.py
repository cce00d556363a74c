"""SMS and e-mail gateway. The backend is chosen by ``POPID_MESSAGING_BACKEND``:

- ``file`` (default): one JSON line per message in ``DATA_DIR/outbox/messages.jsonl`` so the
  demo and the tests can read one-time codes without a real SMS provider;
- ``console``: the message is logged.

A real operator plugs in a provider by adding a backend here; callers never change.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger("popid.messaging")
_lock = threading.Lock()


def outbox_path() -> Path:
    return Path(settings.DATA_DIR) / "outbox" / "messages.jsonl"


def _deliver(message: dict[str, Any]) -> None:
    backend = getattr(settings, "POPID_MESSAGING_BACKEND", "file")
    if backend == "console":
        logger.info("%s to %s: %s", message["channel"], message["to"], message["text"])
        return
    if backend != "file":
        raise ValueError(f"unknown POPID_MESSAGING_BACKEND {backend!r}")
    path = outbox_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(message, ensure_ascii=False) + "\n"
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)


def send_sms(phone: str, text: str) -> None:
    _deliver({"channel": "sms", "to": phone, "subject": "", "text": text, "at": timezone.now().isoformat()})


def send_email(address: str, subject: str, text: str) -> None:
    _deliver({"channel": "email", "to": address, "subject": subject, "text": text, "at": timezone.now().isoformat()})


def read_outbox(to: str | None = None) -> list[dict[str, Any]]:
    """Messages written by the file backend, oldest first (for tests and the demo)."""
    path = outbox_path()
    if not path.exists():
        return []
    messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [m for m in messages if to is None or m["to"] == to]
