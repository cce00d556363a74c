"""Search by accent-insensitive name + birth year on the benchmark population: p50/p99 through
the registry selector (jurisdiction filter, access records), against the same WHERE clause as raw
SQL, in the same run. Queries use names typed without diacritics ("nguyen van an").

Run: .venv/bin/python benchmarks/bench_search.py [--queries 2000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, latency_summary, person_count, setup_django, write_result

SQL = ("SELECT id, id_number, full_name, birth_date, sex, commune_code FROM registry_person "
       "WHERE name_norm = %s AND birth_year = %s ORDER BY name_norm, birth_year, id_number LIMIT 20")
AUDIT_SQL = ("INSERT INTO core_accessrecord (at, actor, actor_unit, person_id_number, purpose, legal_basis, "
             "consent_ref, channel, fields) VALUES (now(), %s, '', %s, %s, '', '', 'api', '[]')")
PREFIX_SQL = ("SELECT id, id_number, full_name, birth_date, sex, commune_code FROM registry_person "
              "WHERE name_norm LIKE %s || '%%' AND birth_year = %s ORDER BY name_norm, birth_year, id_number LIMIT 20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    persons = person_count()
    if persons == 0:
        sys.exit("benchmark database is empty: run benchmarks/bench_bulk_load.py first")
    setup_django()
    from popid.core.access import AccessContext, Actor
    from popid.core.text import normalize_text
    from popid.registry.selectors import search_persons

    with psycopg.connect(BENCH_URL) as conn:
        sample = conn.execute("SELECT full_name, birth_year FROM registry_person TABLESAMPLE SYSTEM (2) "
                              "LIMIT %s", (args.queries,)).fetchall()
    rng = random.Random(1)
    rng.shuffle(sample)
    queries = [(normalize_text(name), year) for name, year in sample]  # typed without accents
    ctx = AccessContext(actor=Actor.system("bench.search"), purpose="benchmark")

    def measure(batch: list[tuple[str, int]], sql: str) -> tuple[dict, dict, int]:
        for name, year in batch[:50]:
            search_persons(ctx=ctx, name=name, birth_year=year)  # warm-up
        selector_times, hits = [], 0
        for name, year in batch:
            start = time.perf_counter()
            _page, total = search_persons(ctx=ctx, name=name, birth_year=year)
            selector_times.append(time.perf_counter() - start)
            hits += bool(total)
        sql_times = []
        with psycopg.connect(BENCH_URL) as conn:
            for name, year in batch:
                start = time.perf_counter()
                conn.execute(sql, (name, year)).fetchall()
                sql_times.append(time.perf_counter() - start)
        return latency_summary(selector_times), latency_summary(sql_times), hits

    selector, sql, hits = measure(queries, SQL)
    # The selector also records who read which persons; the same durable write as raw SQL
    # (SELECT, then one multi-row INSERT into core_accessrecord, COMMIT) separates audit cost
    # from ORM cost.
    audited_times = []
    with psycopg.connect(BENCH_URL) as conn:
        for name, year in queries:
            start = time.perf_counter()
            rows = conn.execute(SQL, (name, year)).fetchall()
            with conn.cursor() as cur:
                cur.executemany(AUDIT_SQL, [("bench.raw", r[1], "benchmark") for r in rows])
            conn.commit()
            audited_times.append(time.perf_counter() - start)
    sql_audited = latency_summary(audited_times)
    # Partial names ("nguyen van" + year): the prefix path of the same selector.
    prefixes = [(" ".join(name.split()[:2]), year) for name, year in queries[:500]]
    prefix_selector, prefix_sql, prefix_hits = measure(prefixes, PREFIX_SQL)
    write_result("search", {
        "persons_in_database": persons, "queries": len(queries), "queries_with_hits": hits,
        "selector": selector, "raw_sql": sql, "raw_sql_plus_audit_insert_commit": sql_audited,
        "ratio_p50_selector_vs_raw_sql": round(selector["p50_ms"] / sql["p50_ms"], 2),
        "ratio_p50_selector_vs_raw_sql_with_audit": round(selector["p50_ms"] / sql_audited["p50_ms"], 2),
        "prefix_queries": len(prefixes), "prefix_queries_with_hits": prefix_hits,
        "prefix_selector": prefix_selector, "prefix_raw_sql": prefix_sql,
        "ratio_p50_prefix_selector_vs_raw_sql": round(prefix_selector["p50_ms"] / prefix_sql["p50_ms"], 2),
    })


if __name__ == "__main__":
    main()
