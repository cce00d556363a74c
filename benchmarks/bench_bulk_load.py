"""Bulk load of generated persons into PostgreSQL: the `popid seed` pipeline (generation +
COPY of persons, households, members, residences, relations, cards, vital events and history
rows, then ANALYZE) against a raw COPY of exactly the same rows, pre-generated and
pre-serialised to COPY text files, into the same freshly migrated tables, in the same run.

The ratio says how close the seeder gets to the database's own ingest speed; the difference
is the Python cost of generating the population.

Run: .venv/bin/python benchmarks/bench_bulk_load.py [--persons 1000000]
Leaves the benchmark database populated for bench_api_lookup.py and bench_search.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_DATA_DIR, BENCH_URL, popid, recreate_database, setup_django, write_result

TRUTH_FILE = BENCH_DATA_DIR / "truth.json"

SEED, ERROR_RATE = 1, 0.02


def _text(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))


def write_copy_files(persons: int, directory: Path) -> tuple[dict[str, Path], int, float]:
    """Generate the rows once and serialise them per table, outside any timing of COPY."""
    from popid.registry.synthetic import generate_rows
    from popid.registry.synthetic.generator import TABLES

    started = time.perf_counter()
    files = {attr: directory / f"{table}.tsv" for attr, (table, _) in TABLES.items()}
    handles = {attr: path.open("w", encoding="utf-8") for attr, path in files.items()}
    rows = 0
    for batch in generate_rows(persons=persons, seed=SEED, error_rate=ERROR_RATE):
        for attr, handle in handles.items():
            for row in getattr(batch, attr):
                handle.write("\t".join(_text(v) for v in row) + "\n")
                rows += 1
    for handle in handles.values():
        handle.close()
    return files, rows, time.perf_counter() - started


def raw_copy(files: dict[str, Path]) -> float:
    from popid.registry.synthetic.generator import TABLES

    started = time.perf_counter()
    with psycopg.connect(BENCH_URL) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # same FK treatment as the loader
        for attr, (table, columns) in TABLES.items():
            with files[attr].open("rb") as source, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        cur.execute("ANALYZE registry_person, registry_household, registry_householdmember, "
                    "registry_residence, registry_familyrelation")
    return time.perf_counter() - started


def truncate_registry() -> None:
    with psycopg.connect(BENCH_URL) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'registry_%'")]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    recreate_database()
    popid("migrate", "--noinput", "-v", "0")
    setup_django()
    from popid.registry.synthetic import seed_population

    with tempfile.TemporaryDirectory(prefix="popid-copy-") as tmp:
        files, rows, generation_seconds = write_copy_files(args.persons, Path(tmp))
        copy_seconds = raw_copy(files)
        size = sum(p.stat().st_size for p in files.values())
    truncate_registry()
    result = seed_population(persons=args.persons, seed=SEED, error_rate=ERROR_RATE)
    TRUTH_FILE.parent.mkdir(parents=True, exist_ok=True)
    TRUTH_FILE.write_text(json.dumps(result.truth))  # ground truth for bench_quality.py
    with psycopg.connect(BENCH_URL) as conn:
        loaded = conn.execute("SELECT count(*) FROM registry_person").fetchone()[0]
    popid("seed", "--if-empty", "--persons", "1", "--seed", str(SEED), "--no-progress")  # demo accounts
    seed_rate = result.persons / result.seconds
    copy_rate = args.persons / copy_seconds
    write_result("bulk_load", {
        "persons": args.persons, "persons_loaded": loaded, "households": result.households,
        "rows_all_tables": rows, "copy_text_mib": round(size / 2**20, 1), "error_rate": ERROR_RATE,
        "seed_pipeline": {"seconds": round(result.seconds, 1), "persons_per_second": round(seed_rate)},
        "raw_copy_same_rows": {"seconds": round(copy_seconds, 1), "persons_per_second": round(copy_rate),
                               "rows_per_second": round(rows / copy_seconds)},
        "generation_only_to_text_seconds": round(generation_seconds, 1),
        "ratio_seed_vs_raw_copy": round(seed_rate / copy_rate, 3),
    })


if __name__ == "__main__":
    main()
