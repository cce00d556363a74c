"""Lookup by ID number through the HTTP API under concurrency, against the same lookup as a
raw SQL query, measured in the same run on the same database.

API: gunicorn (gthread) serving GET /api/v1/persons/{id_number} (jurisdiction check, full
detail: residences, relations, household, and an access record INSERT per read).
Baseline: SELECT of the person row by id_number through psycopg, same number of clients.

Run: .venv/bin/python benchmarks/bench_api_lookup.py [--clients 32] [--seconds 20]
(needs a populated benchmark database: run bench_bulk_load.py first).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, ROOT, latency_summary, person_count, popid, popid_env, write_result

PORT = 8765
SQL = ("SELECT id, id_number, full_name, birth_date, sex, commune_code, status, version "
       "FROM registry_person WHERE id_number = %s")


def _http_worker(ids: list[str], token: str, seconds: float, threads: int, out: mp.Queue) -> None:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        local: list[float] = []
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "benchmark"}
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", f"/api/v1/persons/{rng.choice(ids)}", headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            if ok:
                local.append(time.perf_counter() - start)
            else:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(local)

    workers = [threading.Thread(target=client, args=(random.randrange(2**32),)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors))


def _sql_worker(ids: list[str], seconds: float, threads: int, out: mp.Queue) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        local: list[float] = []
        with psycopg.connect(BENCH_URL) as conn:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute(SQL, (rng.choice(ids),))
                    cur.fetchall()
                conn.commit()
                local.append(time.perf_counter() - start)
        with lock:
            latencies.extend(local)

    workers = [threading.Thread(target=client, args=(random.randrange(2**32),)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, 0))


def run_clients(target, args: tuple, clients: int, processes: int, seconds: float) -> dict:
    queue: mp.Queue = mp.Queue()
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [mp.Process(target=target, args=(*args, seconds, n, queue)) for n in per_process if n]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    latencies = [x for lat, _ in results for x in lat]
    errors = sum(e for _, e in results)
    return {"requests": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
            "per_second": round(len(latencies) / seconds, 1), **latency_summary(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the clients")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server-workers", type=int, default=4)
    args = parser.parse_args()
    persons = person_count()
    if persons == 0:
        sys.exit("benchmark database is empty: run benchmarks/bench_bulk_load.py first")
    with psycopg.connect(BENCH_URL) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id_number FROM registry_person TABLESAMPLE SYSTEM (5) LIMIT 20000").fetchall()]
    if "bench.api" not in popid("staff", "list", capture=True):
        popid("staff", "create", "bench.api", "--role", "supervisor", "--level", "nation")
    token = popid("staff", "token", "bench.api", "--name", "benchmark", capture=True).strip()

    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "popid.wsgi:application", "-k", "gthread",
         "-w", str(args.server_workers), "--threads", "8", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        env={**popid_env(), "POPID_LOG_LEVEL": "WARNING"},
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        run_clients(_http_worker, (ids, token), args.clients, args.processes, 3)  # warm-up
        api = run_clients(_http_worker, (ids, token), args.clients, args.processes, args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    sql = run_clients(_sql_worker, (ids,), args.clients, args.processes, args.seconds)
    write_result("api_lookup", {
        "persons_in_database": persons, "clients": args.clients, "server": f"gunicorn gthread "
        f"{args.server_workers} workers x 8 threads", "api": api, "raw_sql": sql,
        "ratio_api_vs_raw_sql": round(api["per_second"] / sql["per_second"], 4),
    })


if __name__ == "__main__":
    main()
