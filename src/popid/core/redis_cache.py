"""The shared cache (Redis) without Redis being a single point of failure.

``ResilientRedisCache`` is Django's ``RedisCache`` whose operations, when Redis cannot be reached
(connection refused, timeout), behave like an empty cache instead of raising: reads miss,
writes are dropped, ``incr`` raises ``ValueError`` as for a missing key (the callers' existing
fallback). The web tier keeps serving; what the cache held (rate-limit windows, lockout
counters, verifier nonces) starts afresh when Redis is back. ``/readyz`` reports ``cache`` failing
meanwhile, so the outage is visible. One warning per ``WARN_EVERY`` seconds, not one per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("popid.cache")
WARN_EVERY = 30.0
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
T = TypeVar("T")


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _guard(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except UNAVAILABLE as exc:
            now = time.monotonic()
            if now - ResilientRedisCache._last_warning >= WARN_EVERY:
                ResilientRedisCache._last_warning = now
                log.warning("cache unavailable (%s during %s): serving without it", type(exc).__name__, operation)
            return fallback

    def raw_set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        """The unguarded write, for /readyz (which must see the failure)."""
        super().set(key, value, timeout, version)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._guard("get", lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guard("set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._guard("delete", lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._guard("get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._guard("has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        result = self._guard("incr", lambda: super(ResilientRedisCache, self).incr(key, delta, version), missing)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return result  # type: ignore[return-value]

    def count_in_window(self, key: str, seconds: int, version: int | None = None) -> int:
        """Count one event in a window of ``seconds`` that starts with its first event, in one round
        trip (``SET key 0 EX seconds NX`` then ``INCR key``, pipelined) where ``add`` + ``incr``
        take three. With Redis unreachable it answers 1: the window starts afresh, as for ``incr``."""
        full = self.make_and_validate_key(key, version=version)

        def run() -> int:
            client = self._cache.get_client(full, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.set(full, 0, ex=max(1, int(seconds)), nx=True)
            pipe.incr(full)
            return int(pipe.execute()[1])

        return self._guard("count_in_window", run, 1)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[str]:
        return self._guard("set_many", lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
                           list(data))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guard("delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._guard("clear", lambda: super(ResilientRedisCache, self).clear(), None)
