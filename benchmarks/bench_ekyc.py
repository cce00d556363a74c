"""eKYC verifications per second and p99 over HTTP, against the raw SQL lookup of the same
persons, measured in the same run on the same PostgreSQL database.

eKYC: gunicorn (gthread) serving POST /api/v1/exchange/ekyc/verify (ID number + full name +
birth date + sex) for an agency subsystem authenticated by a client_credentials token obtained
with private_key_jwt (one token per client process). Each call checks the token, the per-agency
rate (local-memory cache) and daily quota (one conditional UPDATE), the grant, reads the person,
compares the attributes and INSERTs an access record.
Baselines, same clients and duration, through psycopg: (a) the raw lookup SELECT of the compared
columns by id_number; (b) the same SELECT plus the access-record INSERT, i.e. the database work
an eKYC answer cannot avoid.

Run: .venv/bin/python benchmarks/bench_ekyc.py [--clients 16] [--seconds 20]
(needs a populated benchmark database: run bench_bulk_load.py first).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_DATA_DIR, BENCH_URL, ROOT, latency_summary, person_count, popid_env, setup_django, write_result

PORT = 8791
HOST = "127.0.0.1"
STATE_FILE = BENCH_DATA_DIR / "bench-ekyc.json"
AGENCY = "bench-ekyc"
SQL = ("SELECT id_number, full_name, birth_date, birth_date_precision, sex, status "
       "FROM registry_person WHERE id_number = %s")
INSERT = ("INSERT INTO core_accessrecord (at, actor, actor_unit, person_id_number, purpose, legal_basis, "
          "consent_ref, channel, fields) VALUES (now(), %s, %s, %s, %s, %s, '', 'ekyc', %s)")
CONTEXT = {"purpose": "Benchmark eKYC", "legal_basis": "Benchmark", "official": "bench"}


def ensure_agency() -> dict:
    """An agency with unlimited rate and quota, one subsystem and an eKYC grant; key kept in
    the benchmark data directory so reruns reuse it."""
    from datetime import timedelta

    from django.utils import timezone
    from joserfc.jwk import ECKey

    from popid.core.access import Actor
    from popid.exchange import management_services as manage
    from popid.exchange.models import Agency, Grant, Subsystem

    admin = Actor.system("benchmark")
    try:
        state = json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        state = {}
    agency = Agency.objects.filter(code=AGENCY).first() or manage.create_agency(
        actor=admin, code=AGENCY, name="Benchmark bank", rate_per_minute=100_000_000, daily_quota=1_000_000_000)
    subsystem = Subsystem.objects.select_related("client").filter(agency=agency, code="ekyc").first()
    if subsystem is None or state.get("client_id") != subsystem.client.client_id:
        key = ECKey.generate_key("P-256", private=True, parameters={"kid": "bench-ekyc", "alg": "ES256"})
        jwks = {"keys": [key.as_dict(private=False)]}
        if subsystem is None:
            subsystem = manage.create_subsystem(actor=admin, agency=agency, code="ekyc", name="eKYC", jwks=jwks)
        else:
            manage.replace_subsystem_key(actor=admin, subsystem=subsystem, jwks=jwks)
        state = {"client_id": subsystem.client.client_id, "key": key.as_dict(private=True)}
        STATE_FILE.write_text(json.dumps(state))
    if not any(g.is_active() for g in Grant.objects.filter(subsystem=subsystem, service="ekyc")):
        manage.create_grant(actor=admin, subsystem=subsystem, service="ekyc", legal_basis="Benchmark",
                            fields=["full_name", "birth_date", "sex"], expires_at=timezone.now() + timedelta(days=30))
    return state


def sample_persons(n: int) -> list[dict]:
    with psycopg.connect(BENCH_URL) as conn:
        rows = conn.execute(
            "SELECT id_number, full_name, birth_date, sex FROM registry_person TABLESAMPLE SYSTEM (5) "
            "WHERE birth_date_precision = 'day' AND birth_date IS NOT NULL AND id_number ~ '^[0-9]{12}$' "
            "LIMIT %s", [n]).fetchall()
    return [{"id_number": r[0], "full_name": r[1], "birth_date": r[2].isoformat(), "sex": r[3]} for r in rows]


def get_token(state: dict) -> str:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.import_key(state["key"])
    now = int(time.time())
    token_url = f"http://{HOST}:{PORT}/oidc/token"
    assertion = jwt.encode({"alg": "ES256", "kid": key.kid},
                           {"iss": state["client_id"], "sub": state["client_id"], "aud": token_url, "iat": now,
                            "exp": now + 60, "jti": uuid.uuid4().hex}, key, algorithms=["ES256"])
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    conn.request("POST", "/oidc/token", body=urlencode({
        "grant_type": "client_credentials", "scope": "exchange.ekyc",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion}), headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    body = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"token endpoint: {response.status} {body}")
    return body["access_token"]


def _http_worker(persons: list[dict], state: dict, seconds: float, threads: int, out: mp.Queue) -> None:
    token = get_token(state)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        local: list[float] = []
        while time.perf_counter() < deadline:
            p = rng.choice(persons)
            body = json.dumps({"context": CONTEXT, "id_number": p["id_number"], "full_name": p["full_name"],
                               "birth_date": p["birth_date"], "attributes": {"sex": p["sex"]}})
            start = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/exchange/ekyc/verify", body=body.encode(), headers=headers)
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and b'"match": true' in data.replace(b'"match":true', b'"match": true')
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
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


def _sql_worker(persons: list[dict], with_insert: bool, seconds: float, threads: int, out: mp.Queue) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        local: list[float] = []
        with psycopg.connect(BENCH_URL) as conn:
            while time.perf_counter() < deadline:
                p = rng.choice(persons)
                start = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute(SQL, (p["id_number"],))
                    cur.fetchall()
                    if with_insert:
                        cur.execute(INSERT, ("bench", "Benchmark bank", p["id_number"], "Benchmark eKYC",
                                             "Benchmark", json.dumps(["birth_date", "full_name", "sex"])))
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
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="client processes sharing the clients")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server-workers", type=int, default=4)
    args = parser.parse_args()
    persons_in_db = person_count()
    if persons_in_db == 0:
        sys.exit("benchmark database is empty: run benchmarks/bench_bulk_load.py first")
    setup_django()
    state = ensure_agency()
    persons = sample_persons(20_000)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "popid.wsgi:application", "-k", "gthread",
         "-w", str(args.server_workers), "--threads", "8", "-b", f"{HOST}:{PORT}", "--log-level", "warning"],
        env={**popid_env(), "POPID_LOG_LEVEL": "WARNING"},
    )
    try:
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
                conn.request("GET", "/api/v1/exchange/jwks")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        run_clients(_http_worker, (persons, state), args.clients, args.processes, 3)  # warm-up
        ekyc = run_clients(_http_worker, (persons, state), args.clients, args.processes, args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    sql = run_clients(_sql_worker, (persons, False), args.clients, args.processes, args.seconds)
    sql_insert = run_clients(_sql_worker, (persons, True), args.clients, args.processes, args.seconds)
    write_result("ekyc", {
        "persons_in_database": persons_in_db, "clients": args.clients, "client_processes": args.processes,
        "server": f"gunicorn gthread {args.server_workers} workers x 8 threads", "ekyc_http": ekyc,
        "raw_sql_lookup": sql, "raw_sql_lookup_plus_access_insert": sql_insert,
        "ratio_ekyc_vs_raw_sql_lookup": round(ekyc["per_second"] / sql["per_second"], 4),
        "ratio_ekyc_vs_lookup_plus_insert": round(ekyc["per_second"] / sql_insert["per_second"], 4),
    })


if __name__ == "__main__":
    main()
