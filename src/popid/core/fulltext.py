"""Accent-free free-text search, shared by the apps that search officers' text (digitised pages in
``records``, crime reports and case files in ``police``).

A searchable row keeps an accent-free, lower-case copy of its text (``search_text(...)``, the
normaliser of ``core.text``). On PostgreSQL the copy has a stored generated ``tsvector`` column
(config ``simple``: no stemming, no stop words, so Vietnamese syllables stay as they are) with a GIN
index, added by a migration through ``tsvector_sql``; a query word is a prefix match of a text word.
On SQLite (the embedded default) each word is a substring of the copy (``LIKE``, a scan of the rows
the other filters leave: there is no index for it).

The query is split into runs of letters and digits only (``query_words``), so nothing typed by an
officer reaches ``to_tsquery`` as an operator."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from popid.core.text import normalize_text

WORD_RE = re.compile(r"[^\W_]+")
MAX_WORDS = 12
COLUMN_RE = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


def search_text(*parts: str | None) -> str:
    """The accent-free, lower-case copy stored for search: the words (runs of letters and digits) of
    the parts, one space apart. Punctuation goes, so "TG-20261207-000123" is stored as the words a
    query for it is split into (PostgreSQL's parser would otherwise keep "-000123" as a signed number)."""
    return " ".join(WORD_RE.findall(normalize_text(" ".join(part for part in parts if part))))


def query_words(text: str) -> list[str]:
    """The accent-free words of a query: runs of letters and digits (at most ``MAX_WORDS``)."""
    return WORD_RE.findall(normalize_text(text or ""))[:MAX_WORDS]


def words_filter(words: list[str], *, column: str, tsv_sql: str) -> Q | RawSQL:
    """Rows containing every word. PostgreSQL: ``tsv_sql`` (the table-qualified generated tsvector
    column, GIN-indexed) matches each word as a prefix; elsewhere each word is a substring of
    ``column`` (the accent-free copy). ``words`` must come from ``query_words``."""
    if connection.vendor == "postgresql":
        if not COLUMN_RE.fullmatch(tsv_sql):
            raise ValueError(f"not a table.column: {tsv_sql!r}")
        tsquery = " & ".join(f"{w}:*" for w in words)
        # tsv_sql is a code constant checked above; the officer's words are a bound parameter
        return RawSQL(f"{tsv_sql} @@ to_tsquery('simple'::regconfig, %s)",  # noqa: S611
                      [tsquery], output_field=BooleanField())
    q = Q()
    for word in words:
        q &= Q(**{f"{column}__contains": word})
    return q


def tsvector_sql(*, table: str, source: str, column: str, index: str) -> tuple[list[str], list[str]]:
    """PostgreSQL statements (forward, backward) adding a stored generated tsvector ``column`` over
    the accent-free ``source`` column of ``table`` and its GIN ``index``, for a migration. Django
    does not know the column: rows are written as usual and PostgreSQL fills it."""
    forward = [f"ALTER TABLE {table} ADD COLUMN {column} tsvector "
               f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {source})) STORED",
               f"CREATE INDEX {index} ON {table} USING gin ({column})"]
    backward = [f"DROP INDEX IF EXISTS {index}", f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}"]
    return forward, backward
