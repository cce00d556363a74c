"""The HMAC secret shared by PopID and the sandbox gateway: ``POPID_PAYMENT_SECRET`` (setting or
environment) or a random one generated once into DATA_DIR (file mode 600). Never logged."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

SECRET_FILE = "payment-sandbox.key"


def callback_secret() -> bytes:
    configured = getattr(settings, "POPID_PAYMENT_SECRET", "") or os.environ.get("POPID_PAYMENT_SECRET", "")
    if configured:
        return configured.encode()
    path = Path(settings.DATA_DIR) / SECRET_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
