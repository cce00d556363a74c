"""Django's database cache with an ``incr`` that is exact across processes.

Django's ``DatabaseCache.incr`` is the base class's get followed by a set: two web workers
incrementing at once both read n and both write n + 1 (measured: 4 processes × 200 increments left
460 instead of 800). Rate limits built on ``cache.add`` + ``cache.incr`` (the exchange's per-minute
rate, the wallet verifier's sessions per address) need the read and the write under one lock:
``SELECT … FOR UPDATE`` on PostgreSQL, the write lock that SQLite's ``BEGIN IMMEDIATE`` (our
``transaction_mode``) takes at the start of the transaction.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(DjangoDatabaseCache):
    _table: str  # the table's name, set by BaseDatabaseCache.__init__ (not declared in django-stubs)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        # identifiers are the configured table and fixed column names, quoted; values are parameters
        select = (f"SELECT {quote_name('value')} FROM {table} WHERE {quote_name('cache_key')} = %s "  # noqa: S608
                  f"AND {quote_name('expires')} > %s{lock}")
        update = f"UPDATE {table} SET {quote_name('value')} = %s WHERE {quote_name('cache_key')} = %s"  # noqa: S608
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(select, [key, now])
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            # values this cache wrote itself, exactly as Django's DatabaseCache.get reads them
            stored = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode()))  # noqa: S301
            value = stored + delta
            cursor.execute(update, [base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1"), key])
        return value

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        return self.incr(key, -delta, version)
