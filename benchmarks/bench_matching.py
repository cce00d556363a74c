"""Probabilistic matching (popid.matching) on a synthetic population with hard-error duplicates.

What ``popid match registry`` does after reading the persons — build the match records, train
(u by random sampling, m by EM), block, score and cluster — on DuckDB, against a baseline in
the same run: exact blocking on accent-free name + birth date (what a rule finds). Optionally
the same trained model scored on Spark local mode and on DuckDB on a smaller population (the
time ratio).

The records are built from the generator's person and relation rows with the same
``record_from_person`` the registry command uses (the PostgreSQL read is not part of the
figure: at a million persons the load alone takes longer than the matching, BENCHMARKS.md §1).
Quality is scored against the generator's truth with ``popid.matching.evaluation`` (what
``popid match evaluate --truth`` prints), and broken down by error kind: the false negatives
by the errors of the second record, the false positives by what the two records share (twins
of the same household are recorded by the generator as hard negatives; with ``--registry`` the
queue's false positives by name, birth-year gap and household: ``false_positives_by_kind``).

The machine is shared: the load average is printed next to every timing.

Run: .venv/bin/python benchmarks/bench_matching.py --persons 1000000 --spark-persons 100000 --out result.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
os.environ.setdefault("POPID_DATA_DIR", "/tmp/popid-bench")

import django  # noqa: E402

django.setup()

import pyarrow as pa  # noqa: E402
from django.db import connection  # noqa: E402

from popid.matching.engine import DEFAULT_THRESHOLD, REVIEW_LOWER, FieldSet, Matcher, spark_api  # noqa: E402
from popid.matching.evaluation import score_clusters, score_pairs  # noqa: E402
from popid.matching.records import SCHEMA, record_from_person  # noqa: E402
from popid.registry.synthetic.generator import PERSON_COLUMNS, Truth  # noqa: E402
from popid.registry.synthetic.population import generate_rows  # noqa: E402

IGNORED_IN_KIND = {"old_id_kept", "no_phone", "phone_changed"}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class Population:
    def __init__(self, persons: int, rate: float, seed: int) -> None:
        truth = Truth(seed=seed, persons=persons, error_rate=0.0)
        tables, self.numbers, self.household = [], {}, {}
        for batch in generate_rows(persons=persons, seed=seed, duplicate_rate=rate, truth=truth, batch_size=20_000):
            parents = {(pid, kind): name for pid, kind, _rid, name, *_ in batch.relations
                       if kind in ("father", "mother") and name}
            for hid, pid, *_ in batch.members:
                self.household[str(pid)] = hid
            records = []
            for row in batch.persons:
                person = dict(zip(PERSON_COLUMNS, row, strict=True))
                if person["status"] != "alive":  # the registry run scores living persons only
                    continue
                person["birth_date"] = date.fromisoformat(person["birth_date"])
                person["father_name"] = parents.get((person["id"], "father"))
                person["mother_name"] = parents.get((person["id"], "mother"))
                self.numbers[str(person["id"])] = person["id_number"]
                records.append(record_from_person(person))
            tables.append(pa.Table.from_pylist(records, schema=SCHEMA))
        self.table = pa.concat_tables(tables)
        self.truth = {tuple(sorted(d["pair"])): d["errors"] for d in truth.match_duplicates}
        self.twins = {tuple(sorted(d["pair"])) for d in truth.match_non_duplicates}

    def id_pairs(self, pairs: list[dict[str, Any]], threshold: float) -> list[tuple[str, str]]:
        return [tuple(sorted((self.numbers[str(p["unique_id_l"])], self.numbers[str(p["unique_id_r"])])))
                for p in pairs if p["match_probability"] >= threshold]


def baseline(pop: Population) -> list[tuple[str, str]]:
    """Exact blocking on accent-free name + birth date: every pair sharing both."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    table = pop.table
    for uid, name, born in zip(table["unique_id"].to_pylist(), table["name_plain"].to_pylist(),
                               table["birth_date"].to_pylist(), strict=True):
        if name and born:
            groups[(name, born)].append(pop.numbers[uid])
    return [(a, b) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1:]]


def error_kind(errors: list[str]) -> str:
    return "+".join(e for e in errors if e not in IGNORED_IN_KIND and not e.startswith("parents_")) or "none"


def breakdown(pop: Population, predicted: set[tuple[str, str]], scored: set[tuple[str, str]]) -> dict[str, Any]:
    """False negatives by the duplicate's name and date error (and how many were never blocked);
    false positives by relationship (twin, same household, other)."""
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # all, missed, not blocked
    for pair, errors in pop.truth.items():
        row = by_kind[error_kind(errors)]
        row[0] += 1
        row[1] += pair not in predicted
        row[2] += pair not in scored
    of_number = {v: k for k, v in pop.numbers.items()}
    false_positives: Counter[str] = Counter()
    for pair in predicted - pop.truth.keys():
        a, b = (of_number[x] for x in pair)
        false_positives["twin" if pair in pop.twins else
                        "same household" if pop.household[a] == pop.household[b] else "other"] += 1
    return {"false_negatives_by_error": {k: {"true": v[0], "missed": v[1], "never_compared": v[2]}
                                         for k, v in sorted(by_kind.items(), key=lambda x: -x[1][1])},
            "false_positives_by_relation": dict(false_positives),
            "twin_pairs": len(pop.twins), "twins_predicted": len(predicted & pop.twins)}


# --- `popid match registry` itself, on a seeded database ----------------------------------------
def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def timed_command(*argv: str) -> dict[str, Any]:
    """One `popid` command in its own process under /usr/bin/time -v: wall time, peak RSS of
    the whole command (interpreter, Django, DuckDB), the load average before and after."""
    before = uptime()
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "popid.cli", *argv],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{done.stderr[-3000:]}")
    def field(name: str) -> str:
        return next(line.split(": ", 1)[1] for line in done.stderr.splitlines() if line.strip().startswith(name))

    rss = int(field("Maximum resident set size"))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    steps = next((line.strip() for line in done.stderr.splitlines() if line.strip().startswith("records ")), "")
    return {"command": "popid " + " ".join(argv), "wall_s": round(wall, 1), "peak_rss_mib": round(rss / 1024),
            "cpu_s": round(cpu, 1), "cpu_share": field("Percent of CPU this job got"),
            "steps": steps, "stdout": done.stdout.strip().splitlines(), "uptime_before": before,
            "uptime_after": uptime()}


def registry_quality(truth: list[tuple[str, str]], twins: set[tuple[str, str]]) -> dict[str, Any]:
    """What `popid match evaluate --truth` prints, for the review queue the run just wrote."""
    from popid.matching.evaluation import components
    from popid.matching.models import CandidatePair, MatchRun

    def at(threshold: float) -> list[tuple[str, str]]:
        return [tuple(sorted(p)) for p in CandidatePair.objects.filter(match_probability__gte=threshold)
                .values_list("left__id_number", "right__id_number")]

    probable = at(DEFAULT_THRESHOLD)
    run = MatchRun.objects.order_by("-pk").first()
    return {"pairs": score_pairs(probable, truth).as_dict(),
            "clusters": score_clusters(components(probable), truth).as_dict(),
            "review_queue": {"pairs": CandidatePair.objects.count(),
                             "recall": score_pairs(at(REVIEW_LOWER), truth).recall},
            "twins_proposed": len(set(probable) & twins),
            "false_positives_by_kind": false_positive_kinds(probable, truth, twins),
            "comparisons": run.comparisons if run else None,
            "rules": [(r["rule"], r["comparisons"]) for r in run.rule_counts] if run else []}


def false_positive_kinds(probable: list[tuple[str, str]], truth: list[tuple[str, str]],
                         twins: set[tuple[str, str]]) -> dict[str, int]:
    """What the false positives at the upper threshold share: the same full name with birth
    years apart (in one household: siblings or a parent and child named alike), the same name
    in the same year, twins, or something else."""
    from popid.registry.models import HouseholdMember, Person

    wrong = sorted(set(probable) - set(truth))
    numbers = {n for pair in wrong for n in pair}
    people = {row["id_number"]: row for row in Person.objects.filter(id_number__in=numbers)
              .values("id_number", "full_name", "birth_year")}
    homes = dict(HouseholdMember.objects.filter(person__id_number__in=numbers, left_on__isnull=True)
                 .values_list("person__id_number", "household_id"))
    kinds: Counter[str] = Counter()
    for a, b in wrong:
        left, right = people[a], people[b]
        if (a, b) in twins:
            kinds["twins"] += 1
        elif left["full_name"] != right["full_name"]:
            kinds["other name"] += 1
        else:
            gap = abs((left["birth_year"] or 0) - (right["birth_year"] or 0))
            where = "same household" if homes.get(a) is not None and homes.get(a) == homes.get(b) else "elsewhere"
            years = "same year" if gap == 0 else "1 year apart" if gap == 1 else "2+ years apart"
            kinds[f"same name, {years}, {where}"] += 1
    return dict(sorted(kinds.items()))


def exact_baseline(table: pa.Table, numbers: dict[str, str]) -> list[tuple[str, str]]:
    """Exact blocking on accent-free name + birth date: every pair of persons sharing both."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for uid, name, born in zip(table["unique_id"].to_pylist(), table["name_plain"].to_pylist(),
                               table["birth_date"].to_pylist(), strict=True):
        if name and born:
            groups[(name, born)].append(numbers[uid])
    return [(a, b) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1:]]


def registry_benchmark(args: argparse.Namespace, save: Any) -> dict[str, Any]:
    """The issue's figure: `popid match registry` on the persons `popid seed` loaded (the truth
    file it wrote), first training and scoring, then the routine run with the saved model;
    quality of the review queue; the exact-blocking baseline in the same run; optionally the
    saved model on Spark local mode and on DuckDB over the first N persons."""
    from popid.matching.engine import load_model
    from popid.matching.services import registry_match_table, registry_model_path
    from popid.registry.models import Person

    truth_doc = json.loads(args.truth.read_text())
    truth = [tuple(sorted(d["pair"])) for d in truth_doc["match_duplicates"]]
    twins = {tuple(sorted(d["pair"])) for d in truth_doc.get("match_non_duplicates", [])}
    result: dict[str, Any] = {"mode": "registry", "database": connection.vendor, "persons": Person.objects.count(),
                              "true_pairs": len(truth), "twin_pairs": len(twins), "cores": os.cpu_count(),
                              "uptime_start": uptime()}
    if args.spark_only:
        table = registry_match_table()
        numbers = {str(pk): number for pk, number in Person.objects.values_list("pk", "id_number")}
        model = load_model(registry_model_path(), FieldSet.registry())
        result["spark"] = spark_against_duckdb(table, numbers, truth, model, args.spark_persons)
        result["uptime_end"] = uptime()
        save(result)
        return result
    if not args.skip_training:
        result["first_run_trains"] = timed_command("match", "-v", "2", "registry", "--retrain")
        save(result)
    result["routine_run"] = timed_command("match", "-v", "2", "registry")
    save(result)
    result["quality"] = registry_quality(truth, twins)
    save(result)

    started = time.perf_counter()
    table = registry_match_table()
    read_s = time.perf_counter() - started
    numbers = {str(pk): number for pk, number in Person.objects.values_list("pk", "id_number")}
    started = time.perf_counter()
    exact = exact_baseline(table, numbers)
    result["baseline"] = {"what": "exact blocking on accent-free name + birth date",
                          "seconds_after_read": round(time.perf_counter() - started, 1),
                          "read_s": round(read_s, 1), "pairs": score_pairs(exact, truth).as_dict()}
    result["uptime_end"] = uptime()
    save(result)
    if args.spark_persons:
        result["spark"] = spark_against_duckdb(table, numbers, truth, load_model(registry_model_path(),
                                                                                 FieldSet.registry()),
                                               args.spark_persons)
        result["uptime_end"] = uptime()
        save(result)
    return result


def spark_against_duckdb(table: pa.Table, numbers: dict[str, str], truth: list[tuple[str, str]],
                         model: dict[str, Any], persons: int) -> dict[str, Any]:
    """The saved model scoring the first ``persons`` persons (by id: a duplicate is created
    with its household, so the cut keeps nearly all pairs) on DuckDB, then on Spark local
    mode, in this process; both evaluated against the truth restricted to those persons."""
    from popid.matching.spark import local_session

    small = table.slice(0, persons)
    kept = {numbers[uid] for uid in small["unique_id"].to_pylist()}
    small_truth = [p for p in truth if p[0] in kept and p[1] in kept]

    def probable(pairs: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [tuple(sorted((numbers[str(p["unique_id_l"])], numbers[str(p["unique_id_r"])])))
                for p in pairs if p["match_probability"] >= DEFAULT_THRESHOLD]

    out: dict[str, Any] = {"persons": small.num_rows, "true_pairs": len(small_truth), "uptime_before": uptime()}
    started = time.perf_counter()
    duck = Matcher([small], FieldSet.registry(), model=model).predict(threshold=REVIEW_LOWER)
    duck_s = time.perf_counter() - started
    out["duckdb"] = {"seconds": round(duck_s, 1), "comparisons": duck.total_comparisons,
                     "pairs": score_pairs(probable(duck.pairs), small_truth).as_dict(), "uptime_after": uptime()}
    started = time.perf_counter()
    spark = local_session(cores=2, driver_memory="4g")
    out["spark_session_start_s"] = round(time.perf_counter() - started, 1)
    try:
        started = time.perf_counter()
        on_spark = Matcher([small], FieldSet.registry(), db_api=spark_api(spark), model=model).predict(
            threshold=REVIEW_LOWER)
        spark_s = time.perf_counter() - started
    finally:
        spark.stop()
    out["spark"] = {"seconds": round(spark_s, 1), "comparisons": on_spark.total_comparisons,
                    "pairs": score_pairs(probable(on_spark.pairs), small_truth).as_dict(), "uptime_after": uptime()}
    out["ratio_spark_to_duckdb"] = round(spark_s / duck_s, 1)
    out["same_pairs_at_upper_threshold"] = set(probable(duck.pairs)) == set(probable(on_spark.pairs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registry", action="store_true",
                        help="run `popid match registry` on the seeded database (POPID_DATABASE_URL)")
    parser.add_argument("--truth", type=Path, help="with --registry: the truth JSON `popid seed --truth` wrote")
    parser.add_argument("--skip-training", action="store_true", help="with --registry: use the saved model only")
    parser.add_argument("--spark-only", action="store_true",
                        help="with --registry and --spark-persons: only the Spark / DuckDB comparison")
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--duplicate-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--spark-persons", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.registry:
        def write(partial: dict[str, Any]) -> None:
            if args.out:
                args.out.write_text(json.dumps(partial, indent=1))

        print(json.dumps(registry_benchmark(args, write), indent=1), flush=True)
        return
    result: dict[str, Any] = {"persons": args.persons, "duplicate_rate": args.duplicate_rate, "seed": args.seed,
                              "cores": os.cpu_count()}

    def save() -> None:
        print(json.dumps(result, indent=1), flush=True)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1))

    started = time.perf_counter()
    pop = Population(args.persons, args.duplicate_rate, args.seed)
    result["generate_s"] = round(time.perf_counter() - started, 1)
    result["records"], result["true_pairs"] = pop.table.num_rows, len(pop.truth)

    started = time.perf_counter()
    matcher = Matcher([pop.table], FieldSet.registry())
    matcher.train()
    trained = time.perf_counter()
    train_load = load()
    outcome = matcher.predict(threshold=REVIEW_LOWER, cluster_threshold=DEFAULT_THRESHOLD)
    finished = time.perf_counter()
    result["duckdb"] = {"train_s": round(trained - started, 1), "load_after_train": train_load,
                        "block_score_cluster_s": round(finished - trained, 1), "load_after_predict": load(),
                        "total_s": round(finished - started, 1), "peak_rss_mib": round(peak_mib()),
                        "comparisons": outcome.total_comparisons,
                        "rules": [(r.rule, r.comparisons) for r in outcome.rule_counts]}
    predicted = pop.id_pairs(outcome.pairs, DEFAULT_THRESHOLD)
    clusters = {pop.numbers[k]: v for k, v in outcome.clusters.items()}
    truth = list(pop.truth)
    result["duckdb"]["pairs"] = score_pairs(predicted, truth).as_dict()
    result["duckdb"]["clusters"] = score_clusters(clusters, truth).as_dict()
    result["duckdb"]["review_band"] = {  # pairs ≥ 0.5: what reaches the review queue
        "pairs": len(outcome.pairs), "recall": score_pairs(pop.id_pairs(outcome.pairs, REVIEW_LOWER), truth).recall}
    result["duckdb"]["breakdown"] = breakdown(pop, set(predicted), set(pop.id_pairs(outcome.pairs, 0.0)))

    started = time.perf_counter()
    exact = baseline(pop)
    result["baseline"] = {"seconds": round(time.perf_counter() - started, 1),
                          "pairs": score_pairs(exact, truth).as_dict()}
    model = matcher.model_dict()
    del matcher, outcome
    save()

    if args.spark_persons:
        small = Population(args.spark_persons, args.duplicate_rate, args.seed)
        started = time.perf_counter()
        duck_small = Matcher([small.table], FieldSet.registry(), model=model).predict(threshold=REVIEW_LOWER)
        duck_s = time.perf_counter() - started
        duck_load = load()
        from popid.matching.spark import local_session

        session_started = time.perf_counter()
        spark = local_session(cores=2)
        session_s = time.perf_counter() - session_started
        started = time.perf_counter()
        spark_small = Matcher([small.table], FieldSet.registry(), db_api=spark_api(spark),
                              model=model).predict(threshold=REVIEW_LOWER)
        spark_s = time.perf_counter() - started
        spark.stop()
        same = set(small.id_pairs(duck_small.pairs, DEFAULT_THRESHOLD)) == set(
            small.id_pairs(spark_small.pairs, DEFAULT_THRESHOLD))
        result["spark"] = {"persons": args.spark_persons, "duckdb_predict_s": round(duck_s, 1),
                           "load_after_duckdb": duck_load, "spark_session_start_s": round(session_s, 1),
                           "spark_predict_s": round(spark_s, 1), "load_after_spark": load(),
                           "ratio_spark_to_duckdb": round(spark_s / duck_s, 1),
                           "pairs_duckdb": len(duck_small.pairs), "pairs_spark": len(spark_small.pairs),
                           "same_pairs_at_upper_threshold": same}
        save()


if __name__ == "__main__":
    main()
