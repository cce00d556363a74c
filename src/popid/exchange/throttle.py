"""Per-agency rate limit (requests per minute) and daily quota (persons per day).

- The per-minute rate is a fixed one-minute window counted in Django's cache: Redis when
  ``POPID_REDIS_URL`` is set, else the database cache with an atomic ``incr`` (``core.cache``):
  shared by every web worker either way.
- The daily quota is counted in the database (``DailyUsage``) with one conditional UPDATE, so it
  is exact across workers and survives restarts with or without Redis.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core.rawrows import FixedSql, quoted_column
from popid.exchange.errors import QuotaExceeded, Throttled
from popid.exchange.models import Agency, DailyUsage

WINDOW = 60


def _rate_key(agency_id: int, window: int) -> str:
    return f"popid:exchange:rate:{agency_id}:{window}"


def check_rate(agency: Agency, *, now: float | None = None) -> None:
    """Count one request in the current minute; refuse past ``rate_per_minute``."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    key = _rate_key(agency.pk, window)
    count_in_window = getattr(cache, "count_in_window", None)
    if count_in_window is not None:  # Redis (core.redis_cache): one round trip
        count = count_in_window(key, WINDOW * 2)
    else:
        cache.add(key, 0, timeout=WINDOW * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=WINDOW * 2)
            count = 1
    if count > agency.rate_per_minute:
        retry_after = max(1, int((window + 1) * WINDOW - now) + 1)
        raise Throttled(_("Tối đa %(n)d yêu cầu mỗi phút") % {"n": agency.rate_per_minute}, retry_after=retry_after,
                        limit=agency.rate_per_minute)


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()) + 1)


def _usage_sql(c: Any) -> str:
    def col(name: str) -> str:
        return quoted_column(DailyUsage, name, c)

    return (f"UPDATE {c.ops.quote_name(DailyUsage._meta.db_table)} "  # noqa: S608 - model metadata only
            f"SET {col('count')} = {col('count')} + %s "
            f"WHERE {col('agency')} = %s AND {col('day')} = %s AND {col('count')} <= %s")


# usage.filter(count__lte=limit - units).update(count=F("count") + units), written once: every
# answered exchange call runs it inside the transaction that records the release (core.rawrows).
_ADD_USAGE = FixedSql(_usage_sql)


def _add_usage(agency: Agency, day: date, units: int, limit: int) -> bool:
    connection = connections[router.db_for_write(DailyUsage) or "default"]
    with connection.cursor() as cursor:
        cursor.execute(_ADD_USAGE(connection), [units, agency.pk, connection.ops.adapt_datefield_value(day),
                                                 limit - units])
        return bool(cursor.rowcount)


def charge_quota(agency: Agency, units: int) -> None:
    """Add ``units`` persons to today's usage unless that would exceed the quota (then nothing
    is added and a 429 ``quota_exceeded`` is raised)."""
    day = timezone.localdate()
    limit = agency.daily_quota
    if units > limit:
        raise QuotaExceeded(_("Hạn mức mỗi ngày là %(n)d") % {"n": limit}, retry_after=_seconds_to_midnight(),
                            limit=limit)
    if _add_usage(agency, day, units, limit):
        return
    usage = DailyUsage.objects.filter(agency=agency, day=day)
    if not usage.exists():
        try:
            with transaction.atomic():
                DailyUsage.objects.create(agency=agency, day=day, count=units)
            return
        except IntegrityError:
            pass  # another worker created today's row first
    # the row exists now (perhaps created concurrently since the first UPDATE): decide on it
    if _add_usage(agency, day, units, limit):
        return
    raise QuotaExceeded(_("Hạn mức mỗi ngày là %(n)d") % {"n": limit}, retry_after=_seconds_to_midnight(),
                        limit=limit)


def usage_today(agency: Agency) -> int:
    row = DailyUsage.objects.filter(agency=agency, day=timezone.localdate()).first()
    return row.count if row else 0
