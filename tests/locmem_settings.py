"""Settings with a per-process cache, for the deploy check test (test_throttle_counters)."""

from popid.settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
