"""Probabilistic matching (popid.matching) on a synthetic population with hard-error duplicates.

What ``popid match registry`` does after reading the persons — build the match records, train
(u by random sampling, m by EM), block, score and cluster — on DuckDB, against a baseline in
the same run: exact blocking on accent-free name + birth date (what a rule finds). Optionally
the same trained model scored on Spark local mode on a smaller population.

The records are built from the generator's person rows with the same ``record_from_person``
the registry command uses (the PostgreSQL read is not part of the figure).

Run: .venv/bin/python benchmarks/bench_matching.py --persons 200000 [--spark-persons 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
os.environ.setdefault("POPID_DATA_DIR", "/tmp/popid-bench")

import django  # noqa: E402

django.setup()

import pyarrow as pa  # noqa: E402

from popid.matching.engine import DEFAULT_THRESHOLD, FieldSet, Matcher, spark_api  # noqa: E402
from popid.matching.evaluation import score_clusters, score_pairs  # noqa: E402
from popid.matching.records import SCHEMA, record_from_person  # noqa: E402
from popid.registry.synthetic.generator import PERSON_COLUMNS, Truth  # noqa: E402
from popid.registry.synthetic.population import generate_rows  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def population(persons: int, rate: float, seed: int) -> tuple[pa.Table, dict[str, str], list[tuple[str, str]]]:
    truth = Truth(seed=seed, persons=persons, error_rate=0.0)
    tables, numbers = [], {}
    for batch in generate_rows(persons=persons, seed=seed, duplicate_rate=rate, truth=truth, batch_size=20_000):
        records = []
        for row in batch.persons:
            person = dict(zip(PERSON_COLUMNS, row, strict=True))
            person["birth_date"] = date.fromisoformat(person["birth_date"])
            numbers[str(person["id"])] = person["id_number"]
            records.append(record_from_person(person))
        tables.append(pa.Table.from_pylist(records, schema=SCHEMA))
    pairs = [tuple(d["pair"]) for d in truth.match_duplicates]
    return pa.concat_tables(tables), numbers, pairs


def baseline(table: pa.Table, numbers: dict[str, str]) -> list[tuple[str, str]]:
    """Exact blocking on accent-free name + birth date: every pair sharing both."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for uid, name, born in zip(table["unique_id"].to_pylist(), table["name_plain"].to_pylist(),
                               table["birth_date"].to_pylist(), strict=True):
        if name and born:
            groups[(name, born)].append(numbers[uid])
    return [(a, b) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1:]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--duplicate-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--spark-persons", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict = {"persons": args.persons, "duplicate_rate": args.duplicate_rate}

    started = time.perf_counter()
    table, numbers, truth = population(args.persons, args.duplicate_rate, args.seed)
    result["generate_s"] = round(time.perf_counter() - started, 1)
    result["records"], result["true_pairs"] = table.num_rows, len(truth)

    started = time.perf_counter()
    matcher = Matcher([table], FieldSet.registry())
    matcher.train(max_pairs=5e6)
    trained = time.perf_counter()
    outcome = matcher.predict(threshold=0.5, cluster_threshold=DEFAULT_THRESHOLD)
    finished = time.perf_counter()
    result["duckdb"] = {"train_s": round(trained - started, 1), "block_score_cluster_s": round(finished - trained, 1),
                        "total_s": round(finished - started, 1), "peak_rss_mib": round(peak_mib()),
                        "comparisons": outcome.total_comparisons,
                        "rules": [(r.rule, r.comparisons) for r in outcome.rule_counts]}
    predicted = [(numbers[str(p["unique_id_l"])], numbers[str(p["unique_id_r"])]) for p in outcome.pairs
                 if p["match_probability"] >= DEFAULT_THRESHOLD]
    clusters = {numbers[k]: v for k, v in outcome.clusters.items()}
    result["duckdb"]["pairs"] = score_pairs(predicted, truth).as_dict()
    result["duckdb"]["clusters"] = score_clusters(clusters, truth).as_dict()

    started = time.perf_counter()
    exact = baseline(table, numbers)
    result["baseline"] = {"seconds": round(time.perf_counter() - started, 1),
                          "pairs": score_pairs(exact, truth).as_dict()}
    print(json.dumps(result, indent=1), flush=True)

    if args.spark_persons:
        small, _numbers, _ = population(args.spark_persons, args.duplicate_rate, args.seed)
        started = time.perf_counter()
        duck_small = Matcher([small], FieldSet.registry(), model=matcher.model_dict()).predict(threshold=0.5)
        duck_s = time.perf_counter() - started
        from popid.matching.spark import local_session

        session_started = time.perf_counter()
        spark = local_session(cores=2)
        session_s = time.perf_counter() - session_started
        started = time.perf_counter()
        spark_small = Matcher([small], FieldSet.registry(), db_api=spark_api(spark),
                              model=matcher.model_dict()).predict(threshold=0.5)
        spark_s = time.perf_counter() - started
        spark.stop()
        result["spark"] = {"persons": args.spark_persons, "duckdb_predict_s": round(duck_s, 1),
                           "spark_session_start_s": round(session_s, 1), "spark_predict_s": round(spark_s, 1),
                           "ratio_spark_to_duckdb": round(spark_s / duck_s, 1),
                           "pairs_duckdb": len(duck_small.pairs), "pairs_spark": len(spark_small.pairs)}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
