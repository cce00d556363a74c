"""SMS and e-mail gateway. ``send_sms`` / ``send_email`` do not talk to the gateway in the request:
they enqueue the background task ``deliver_message`` (``core.tasks``: written in the caller's
transaction, run by ``popid worker``, retried with back-off 10 s, 20 s, 40 s … up to
``MAX_ATTEMPTS`` runs, then a dead letter at ``/van-hanh/tac-vu-loi/``). The task's arguments
are sealed (AES-256-GCM under a key derived from ``SECRET_KEY``): task rows are kept for days
and must not hold one-time codes or phone numbers in clear, like the OTP table that stores only
keyed hashes. Rotating ``SECRET_KEY`` makes messages still queued undeliverable (they fail and are
listed as dead letters); codes expire within minutes anyway.

The gateway is chosen by ``POPID_MESSAGING_BACKEND``:

- ``file`` (default): one JSON line per message in ``DATA_DIR/outbox/messages.jsonl`` so the
  demo and the tests can read one-time codes without a real SMS provider;
- ``console``: the message is logged.

A real operator plugs in a provider by adding a backend here; callers never change.
``POPID_MESSAGING_TASK_BACKEND`` names the task backend (``TASKS``) that runs the deliveries:
``default`` (the database queue); the test suite uses ``immediate`` (django-tasks' immediate
backend runs the task at once, as a worker would).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from popid.core.tasks import background

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


MAX_ATTEMPTS = 6  # runs over about 5 minutes (10 + 20 + 40 + 80 + 160 s): an OTP lives 5 minutes


def _key() -> bytes:
    return salted_hmac("popid.core.messaging.seal", "task-arguments", algorithm="sha256").digest()


def seal(message: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    box = AESGCM(_key()).encrypt(nonce, json.dumps(message, ensure_ascii=False).encode(), b"popid-message")
    return base64.urlsafe_b64encode(nonce + box).decode()


def unseal(sealed: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(sealed.encode())
    message: dict[str, Any] = json.loads(AESGCM(_key()).decrypt(raw[:12], raw[12:], b"popid-message"))
    return message


@background(max_attempts=MAX_ATTEMPTS, priority=10)
def deliver_message(sealed: str) -> None:
    """Hand one message to the gateway (a failure raises: the task is retried with back-off)."""
    _deliver(unseal(sealed))


def _enqueue(message: dict[str, Any]) -> None:
    backend = getattr(settings, "POPID_MESSAGING_TASK_BACKEND", "default")
    deliver_message.using(backend=backend).enqueue(seal(message))


def send_sms(phone: str, text: str) -> None:
    _enqueue({"channel": "sms", "to": phone, "subject": "", "text": text, "at": timezone.now().isoformat()})


def send_email(address: str, subject: str, text: str) -> None:
    _enqueue({"channel": "email", "to": address, "subject": subject, "text": text, "at": timezone.now().isoformat()})


def read_outbox(to: str | None = None) -> list[dict[str, Any]]:
    """Messages written by the file backend, oldest first (for tests and the demo)."""
    path = outbox_path()
    if not path.exists():
        return []
    messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [m for m in messages if to is None or m["to"] == to]
