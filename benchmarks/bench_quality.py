"""Data-quality engine on the benchmark population: run time and persons checked per second,
against a plain sequential read of the same person columns as raw SQL in the same run, plus
recall and precision per finding kind against the seeder's ground truth.

Run: .venv/bin/python benchmarks/bench_quality.py   (after bench_bulk_load.py, which writes
the ground truth to $POPID_BENCH_DATA_DIR/truth.json)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_DATA_DIR, BENCH_URL, person_count, setup_django, write_result

SCAN_SQL = ("SELECT id, id_number, full_name, name_norm, birth_date, birth_year, sex, birth_place, "
            "birth_registration_commune_code, birth_registration_province_code, hometown, ethnicity_code, "
            "religion_code, nationality, status, died_on, commune_code, province_code FROM registry_person")


def raw_scan_seconds() -> float:
    started = time.perf_counter()
    with psycopg.connect(BENCH_URL) as conn, conn.cursor(name="scan") as cur:
        cur.itersize = 20_000
        cur.execute(SCAN_SQL)
        for _row in cur:
            pass
    return time.perf_counter() - started


def main() -> None:
    persons = person_count()
    if persons == 0:
        sys.exit("benchmark database is empty: run benchmarks/bench_bulk_load.py first")
    truth_file = BENCH_DATA_DIR / "truth.json"
    setup_django()
    from popid.registry.quality.engine import run_quality_check
    from popid.registry.quality.selectors import compare_with_truth, report_json

    scan = raw_scan_seconds()
    started = time.perf_counter()
    run = run_quality_check()
    engine = time.perf_counter() - started
    report = report_json(run=run)
    comparison = compare_with_truth(report, json.loads(truth_file.read_text())) if truth_file.exists() else None
    write_result("quality", {
        "persons_in_database": persons, "findings": run.finding_count,
        "engine": {"seconds": round(engine, 1), "persons_per_second": round(persons / engine)},
        "raw_sql_scan": {"seconds": round(scan, 1), "persons_per_second": round(persons / scan)},
        "ratio_engine_vs_raw_scan": round(scan / engine, 4),
        "against_truth": comparison,
    })


if __name__ == "__main__":
    main()
