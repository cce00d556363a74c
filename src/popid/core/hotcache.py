"""Per-process caches for the hot paths (issue #18): what a bearer credential resolves to (token →
actor, token → agency subsystem and scopes) and an agency subsystem's grants.

Every entry lives at most ``POPID_HOT_CACHE_SECONDS`` (default 5 s). A revocation made through
PopID's own commands is also applied at once in the process that made it (the command calls
``invalidate``); any other process (another gunicorn worker, the CLI, a change made in the
database by hand) sees it when the entry expires, so a revoked token, suspended agency or revoked
grant works for at most that many seconds anywhere. Expiry times stored in the entries (a token's
``expires_at``, a grant's ``expires_at``) are still checked on every request.

Each cache is a plain dict (item reads and writes are atomic under the GIL, so gthread workers
share it safely); it is emptied when it reaches ``MAX_ENTRIES`` rather than tracking recency.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from django.conf import settings

MAX_ENTRIES = 20_000
_MISSING = object()
_caches: dict[str, TtlCache] = {}


def ttl_seconds() -> float:
    return float(getattr(settings, "POPID_HOT_CACHE_SECONDS", 5.0))


class TtlCache:
    def __init__(self, name: str) -> None:
        self.name = name
        self._data: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        """The cached value, or ``None`` when absent or older than the time to live."""
        entry = self._data.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        seconds = ttl_seconds()
        if seconds <= 0:
            return
        if len(self._data) >= MAX_ENTRIES:
            self._data.clear()
        self._data[key] = (time.monotonic() + seconds, value)

    def discard(self, key: Hashable) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


def cache(name: str) -> TtlCache:
    """The process's cache called ``name`` (made on first use)."""
    found = _caches.get(name)
    if found is None:
        found = _caches.setdefault(name, TtlCache(name))
    return found


def invalidate(*names: str) -> None:
    """Forget every entry of these caches in this process (all caches when no name is given)."""
    for name in names or tuple(_caches):
        if name in _caches:
            _caches[name].clear()


def forget(*names: str) -> None:
    """After a command changed what these caches hold: forgotten in this process now, and again
    when its transaction commits (a request racing the commit could refill the old value);
    other processes see the change once their entries expire."""
    from django.db import transaction

    invalidate(*names)
    transaction.on_commit(lambda: invalidate(*names))
