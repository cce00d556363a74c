"""Read throughput with primary + streaming replica against the primary alone: the same gunicorn
configuration, the same clients, the same run, alternating (primary, replica, primary, replica) so
drift in the machine's load hits both sides alike.

Workload: GET /api/v1/persons/{id_number} (person_detail: the person, residences, relations,
household, under ``@replica_reads``) with a nation-level supervisor's token; every read also
INSERTs an access record, which always goes to the primary. With the replica configured the
router sends the detail's SELECTs to the standby (``core.db_router``); the run also counts the
rows each server returned (``pg_stat_database.tup_returned + tup_fetched`` of the benchmark
database) to show where the reads went.

Needs the replica on port 5433 (``deploy/replica/setup-replica.sh``). One command:

    .venv/bin/python benchmarks/bench_replica_reads.py [--clients 16] [--seconds 15] [--persons 20000]

The benchmark database (``popid_bench_replica``, or POPID_BENCH_DATABASE_URL) is created and
seeded when empty; the standby receives it by streaming.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("POPID_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popid_bench_replica")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import psycopg

from bench_api_lookup import PORT, _http_worker, run_clients
from common import (
    BENCH_URL,
    ROOT,
    db_name,
    person_count,
    popid,
    popid_env,
    recreate_database,
    write_result,
)

REPLICA_PORT = int(os.environ.get("POPID_BENCH_REPLICA_PORT", "5433"))


def replica_url() -> str:
    head, _, name = BENCH_URL.rpartition("/")
    return f"{head.rsplit(':', 1)[0]}:{REPLICA_PORT}/{name}"


def rows_read(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
                           [db_name()]).fetchone()
    return int(row[0]) if row else 0


def wait_for_replica(persons: int) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if person_count(replica_url()) >= persons:
                return
        except psycopg.Error:
            pass
        time.sleep(1)
    sys.exit(f"the replica at port {REPLICA_PORT} does not have the benchmark database: "
             "run deploy/replica/setup-replica.sh")


def serve(extra_env: dict[str, str], workers: int) -> subprocess.Popen:
    env = {**popid_env(), "POPID_LOG_LEVEL": "WARNING", **extra_env}
    if "POPID_REPLICA_DATABASE_URL" not in extra_env:
        env.pop("POPID_REPLICA_DATABASE_URL", None)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "popid.wsgi:application", "-k", "gthread",
         "-w", str(workers), "--threads", "8", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"], env=env)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def one_run(label: str, extra_env: dict[str, str], ids: list[str], token: str, args: argparse.Namespace) -> dict:
    server = serve(extra_env, args.server_workers)
    try:
        run_clients(_http_worker, (ids, token), args.clients, args.processes, 3)  # warm-up
        before = {"primary": rows_read(BENCH_URL), "replica": rows_read(replica_url())}
        result = run_clients(_http_worker, (ids, token), args.clients, args.processes, args.seconds)
        after = {"primary": rows_read(BENCH_URL), "replica": rows_read(replica_url())}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    result["rows_read"] = {k: after[k] - before[k] for k in before}
    print(label, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="client processes sharing the clients")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2, help="primary/replica pairs, alternating")
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--persons", type=int, default=20000, help="seeded when the database is empty")
    args = parser.parse_args()
    if person_count() == 0:
        recreate_database()
        popid("migrate", "--noinput")
        popid("seed", "--persons", str(args.persons), "--seed", "1")
    persons = person_count()
    wait_for_replica(persons)
    with psycopg.connect(BENCH_URL) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id_number FROM registry_person TABLESAMPLE SYSTEM (20) LIMIT 20000").fetchall()]
    if "bench.replica" not in popid("staff", "list", capture=True):
        popid("staff", "create", "bench.replica", "--role", "supervisor", "--level", "nation")
    token = popid("staff", "token", "bench.replica", "--name", "benchmark", capture=True).strip()
    time.sleep(2)  # the token row reaches the standby

    runs: dict[str, list[dict]] = {"primary_only": [], "primary_and_replica": []}
    for _ in range(args.rounds):
        runs["primary_only"].append(one_run("primary only", {}, ids, token, args))
        runs["primary_and_replica"].append(one_run(
            "primary + replica", {"POPID_REPLICA_DATABASE_URL": replica_url()}, ids, token, args))

    def total(name: str) -> float:
        return sum(r["per_second"] for r in runs[name]) / len(runs[name])

    write_result("replica_reads", {
        "persons_in_database": persons, "clients": args.clients, "seconds_per_run": args.seconds,
        "server": f"gunicorn gthread {args.server_workers} workers x 8 threads (one per run)",
        "replica": f"streaming standby on port {REPLICA_PORT}, same machine", "runs": runs,
        "mean_per_second": {"primary_only": round(total("primary_only"), 1),
                            "primary_and_replica": round(total("primary_and_replica"), 1)},
        "ratio_replica_vs_primary_only": round(total("primary_and_replica") / total("primary_only"), 3),
    })


if __name__ == "__main__":
    main()
