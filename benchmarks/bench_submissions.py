"""Sustained online dossier submissions per second, with p50/p99 latency, through the HTTP API on
PostgreSQL, against inserting the same rows directly, measured in the same run.

Submission: ``POST /api/v1/services/dossiers`` from logged-in citizen sessions (session cookie +
CSRF token, as the portal's JavaScript sends it), a temporary-residence dossier with one 16 KB
PDF attachment as base64 JSON and a fresh ``Idempotency-Key``. Each request does what a real
submission does: session and account lookup, the registry read for the pre-filled fields (with
its access record), validation, the dossier row, the attachment file in Django storage and its
row, the "received" event (and the citizen's inbox notification where that table exists), in
one transaction. Server: gunicorn gthread; clients: threads in several processes, each thread its
own citizen session.

Baselines on the same database in the same run, inserting copies of exactly the rows the HTTP
run wrote (dossier, events, attachment rows, notifications, access records; new codes/keys):
- ``raw_sql``: one transaction per dossier through psycopg, same number of concurrent clients
  (what the database itself sustains for these rows);
- ``bulk``: every copied row in one transaction with ``executemany`` (the batch-load ceiling).
The attachment *file* write is part of the HTTP path only.

Sessions are created server-side (Django SessionStore with the same keys a password + OTP login
leaves: user, backend, auth hash and the level-1 ``popid_acr``) for BENCH_ACCOUNTS citizen accounts
of sampled adults (user first_name "bench-submissions", passwordless, reused on reruns).

Run: .venv/bin/python benchmarks/bench_submissions.py [--clients 4 16] [--seconds 20]
An empty benchmark database is migrated and seeded with --persons (default 20,000) first.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_URL, ROOT, latency_summary, person_count, popid, popid_env, setup_django, write_result

PORT = 8767
HOST = "127.0.0.1"
MARK = "bench-submissions"
BENCH_ACCOUNTS = 64
PDF = b"%PDF-1.4\n" + bytes(random.Random(1).randrange(256) for _ in range(16 * 1024 - 20)) + b"\n%%EOF\n"
ROW_TABLES = ("public_services_dossierevent", "public_services_dossierattachment", "public_services_notification")


# --- setup (main process, Django ORM) ----------------------------------------------------------------
def ensure_sessions(n: int, mark: str = MARK) -> list[dict]:
    """n citizen accounts (tagged ``mark``) with a fresh session each, made server-side in the
    configured session engine (the cache when Redis is set, as in production): cookie values,
    CSRF secret and a target commune. bench_http.py uses it too, with its own mark."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils import timezone

    from popid.identity.auth import SESSION_ACR
    from popid.identity.models import CitizenAccount
    from popid.registry.models import Person, PersonStatus, ResidenceKind

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    user_model = get_user_model()
    accounts = list(CitizenAccount.objects.select_related("user", "person").filter(user__first_name=mark)
                    .order_by("pk")[:n])
    if len(accounts) < n:
        taken = set(CitizenAccount.objects.values_list("person_id", flat=True))
        adults = (Person.objects.filter(status=PersonStatus.ALIVE, birth_date__lte=date(2004, 1, 1),
                                        residences__kind=ResidenceKind.PERMANENT, residences__ended_on__isnull=True,
                                        id_number__regex=r"^[0-9]{12}$")
                  .exclude(pk__in=taken).exclude(id_number__in=user_model.objects.values("username"))
                  .distinct().order_by("?")[: n - len(accounts)])
        for person in adults:
            user = user_model(username=person.id_number, first_name=mark)
            user.set_unusable_password()
            user.save()
            accounts.append(CitizenAccount.objects.create(user=user, person=person, level=1,
                                                          phone=f"09{person.pk % 10**8:08d}",
                                                          phone_verified_at=timezone.now()))
    sessions = []
    for account in accounts:
        store = store_class()
        store[SESSION_KEY] = str(account.user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = account.user.get_session_auth_hash()
        store[SESSION_ACR] = "level-1"
        store.create()
        sessions.append({"session": store.session_key, "csrf": secrets.token_hex(16),
                         "commune": account.person.commune_code})
    return sessions


def submission_body(commune: str, house: int) -> str:
    """A temporary-residence dossier with a 16 KB PDF, as the API takes it."""
    start = date.today()
    return json.dumps({
        "procedure": "temporary_residence",
        "data": {"commune_code": commune, "address": f"{house} đường Trần Hưng Đạo (nhà thuê)",
                 "valid_from": start.isoformat(), "valid_until": (start + timedelta(days=365)).isoformat(),
                 "reason": "Đi làm, thuê nhà ở (benchmark)"},
        "attachments": [{"kind": "proof_of_residence", "name": "hop-dong-thue-nha.pdf",
                         "content_type": "application/pdf", "content_base64": base64.b64encode(PDF).decode()}],
    }, ensure_ascii=False)


# --- HTTP load ---------------------------------------------------------------------------------------
def _http_worker(sessions: list[dict], seconds: float, out: mp.Queue) -> None:
    latencies: list[float] = []
    codes: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(session: dict, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
        headers = {"Cookie": f"sessionid={session['session']}; csrftoken={session['csrf']}",
                   "X-CSRFToken": session["csrf"], "Content-Type": "application/json"}
        local, made, failed = [], [], []
        while time.perf_counter() < deadline:
            body = submission_body(session["commune"], rng.randrange(1, 400)).encode()
            start = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/services/dossiers", body=body,
                             headers={**headers, "Idempotency-Key": secrets.token_hex(12)})
                response = conn.getresponse()
                text = response.read()
                ok = response.status == 201
            except (OSError, http.client.HTTPException) as exc:
                ok, text = False, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
            if ok:
                local.append(time.perf_counter() - start)
                made.append(json.loads(text)["code"])
            else:
                failed.append(text[:300].decode(errors="replace"))
        with lock:
            latencies.extend(local)
            codes.extend(made)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(s, random.randrange(2**32))) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, codes, errors))


def run_http(sessions: list[dict], clients: int, processes: int, seconds: float) -> tuple[dict, list[str]]:
    queue: mp.Queue = mp.Queue()
    chunks = [sessions[i:clients:processes] for i in range(processes)]
    procs = [mp.Process(target=_http_worker, args=(chunk, seconds, queue)) for chunk in chunks if chunk]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for lat, _c, _e in results for x in lat]
    codes = [c for _l, made, _e in results for c in made]
    errors = [e for _l, _c, errs in results for e in errs]
    return {"clients": clients, "dossiers": len(codes), "errors": len(errors), "first_error": errors[0] if errors
            else "", "per_second": round(len(codes) / seconds, 2), **latency_summary(latencies)}, codes


# --- baselines: the same rows inserted directly ------------------------------------------------------
def _existing_tables(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                       "'public'").fetchall()}


def load_rows(codes: list[str]) -> list[dict]:
    """For each dossier the HTTP run made: its row and the rows that reference it, plus the access
    record of its pre-fill read, as (columns, values) ready to be inserted again."""
    bundles = []
    with psycopg.connect(BENCH_URL) as conn:
        tables = [t for t in ROW_TABLES if t in _existing_tables(conn)]
        cur = conn.execute("SELECT * FROM public_services_dossier WHERE code = ANY(%s)", (codes,))
        columns = [d.name for d in cur.description]
        for row in cur.fetchall():
            dossier = dict(zip(columns, row, strict=True))
            bundle = {"dossier": dossier, "children": {}}
            for table in tables:
                c = conn.execute(f"SELECT * FROM {table} WHERE dossier_id = %s", (dossier["id"],))
                bundle["children"][table] = ([d.name for d in c.description], c.fetchall())
            c = conn.execute("SELECT * FROM core_accessrecord WHERE person_id_number = (SELECT id_number FROM "
                             "registry_person WHERE id = %s) AND channel = 'portal' ORDER BY id DESC LIMIT 1",
                             (dossier["subject_id"],))
            bundle["access"] = ([d.name for d in c.description], c.fetchall())
            bundles.append(bundle)
    return bundles


def _insert(cur: psycopg.Cursor, table: str, columns: list[str], rows: list[tuple], *, returning: bool = False):
    cols = [c for c in columns if c != "id"]
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
           + (" RETURNING id" if returning else ""))
    values = [_values(columns, row) for row in rows]
    if returning:
        cur.execute(sql, values[0])
        return cur.fetchone()[0]
    cur.executemany(sql, values)
    return None


def _copy_bundle(cur: psycopg.Cursor, bundle: dict, tag: str) -> int:
    """Insert one dossier's rows again under a new code; returns rows written."""
    dossier = dict(bundle["dossier"])
    dossier["code"] = (dossier["code"] + tag)[:32]
    dossier["idempotency_key"] = (dossier["idempotency_key"] + tag)[:100] if dossier["idempotency_key"] else ""
    new_id = _insert(cur, "public_services_dossier", list(dossier), [tuple(dossier.values())], returning=True)
    written = 1
    for table, (columns, rows) in bundle["children"].items():
        if rows:
            index = columns.index("dossier_id")
            _insert(cur, table, columns, [(*r[:index], new_id, *r[index + 1:]) for r in rows])
            written += len(rows)
    columns, rows = bundle["access"]
    if rows:
        _insert(cur, "core_accessrecord", columns, rows)
        written += len(rows)
    return written


def _sql_worker(bundles: list[dict], seconds: float, threads: int, out: mp.Queue) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        local = []
        with psycopg.connect(BENCH_URL) as conn:
            n = 0
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                with conn.cursor() as cur:
                    _copy_bundle(cur, rng.choice(bundles), f"R{seed % 10**6}-{n}")
                conn.commit()
                local.append(time.perf_counter() - start)
                n += 1
        with lock:
            latencies.extend(local)

    workers = [threading.Thread(target=client, args=(random.randrange(2**32),)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(latencies)


def run_raw_sql(bundles: list[dict], clients: int, processes: int, seconds: float) -> dict:
    queue: mp.Queue = mp.Queue()
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [mp.Process(target=_sql_worker, args=(bundles, seconds, n, queue)) for n in per_process if n]
    for p in procs:
        p.start()
    latencies = [x for _ in procs for x in queue.get()]
    for p in procs:
        p.join()
    return {"clients": clients, "dossiers": len(latencies), "per_second": round(len(latencies) / seconds, 2),
            **latency_summary(latencies)}


def _values(columns: list[str], row: tuple) -> tuple:
    return tuple(psycopg.types.json.Jsonb(v) if isinstance(v, (dict, list)) else v
                 for c, v in zip(columns, row, strict=True) if c != "id")


def run_bulk(bundles: list[dict], total: int) -> dict:
    """``total`` dossiers (the HTTP run's, cycled) with all their rows in one transaction: one
    pipelined executemany per table, timed from the first INSERT to the COMMIT."""
    bundles = [bundles[i % len(bundles)] for i in range(total)]
    dossiers = []
    for i, bundle in enumerate(bundles):
        dossier = dict(bundle["dossier"])
        dossier["code"] = (dossier["code"] + f"B{i}")[:32]
        dossier["idempotency_key"] = (dossier["idempotency_key"] + f"B{i}")[:100] if dossier["idempotency_key"] \
            else ""
        dossiers.append(dossier)
    columns = list(dossiers[0])
    cols = [c for c in columns if c != "id"]
    with psycopg.connect(BENCH_URL) as conn, conn.cursor() as cur:
        start = time.perf_counter()
        cur.executemany(f"INSERT INTO public_services_dossier ({', '.join(cols)}) VALUES "
                        f"({', '.join(['%s'] * len(cols))}) RETURNING id",
                        [_values(columns, tuple(d.values())) for d in dossiers], returning=True)
        new_ids = []
        while True:
            new_ids.append(cur.fetchone()[0])
            if not cur.nextset():
                break
        rows = len(new_ids)
        children: dict[str, tuple[list[str], list[tuple]]] = {}
        for bundle, new_id in zip(bundles, new_ids, strict=True):
            for table, (cols_t, table_rows) in [*bundle["children"].items(), ("core_accessrecord", bundle["access"])]:
                entry = children.setdefault(table, (cols_t, []))
                if "dossier_id" in cols_t:
                    index = cols_t.index("dossier_id")
                    table_rows = [(*r[:index], new_id, *r[index + 1:]) for r in table_rows]
                entry[1].extend(table_rows)
        for table, (cols_t, table_rows) in children.items():
            if table_rows:
                _insert(cur, table, cols_t, table_rows)
                rows += len(table_rows)
        conn.commit()
        elapsed = time.perf_counter() - start
    return {"dossiers": len(bundles), "rows": rows, "seconds": round(elapsed, 3),
            "per_second": round(len(bundles) / elapsed, 1)}


# --- main --------------------------------------------------------------------------------------------
def _wait_for_server() -> None:
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
            conn.request("GET", "/api/v1/services/procedures")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the clients")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--server-threads", type=int, default=4)
    parser.add_argument("--persons", type=int, default=20000, help="population to seed into an empty database")
    args = parser.parse_args()
    popid("migrate", "--noinput", "-v", "0")
    if person_count() == 0:
        popid("seed", "--persons", str(args.persons), "--seed", "7", "--no-progress")
    persons = person_count()
    setup_django()
    from django.db import connections

    sessions = ensure_sessions(max(max(args.clients), BENCH_ACCOUNTS))
    connections.close_all()  # no Django connection crosses the fork into the load processes
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "popid.wsgi:application", "-k", "gthread", "-w", str(args.server_workers),
         "--threads", str(args.server_threads), "-b", f"{HOST}:{PORT}", "--log-level", "warning"],
        env={**popid_env(), "POPID_LOG_LEVEL": "WARNING", "POPID_DB_CONN_MAX_AGE": "60",
             "POPID_MAX_BODY_BYTES": str(1024 * 1024)})
    runs, all_codes = [], []
    try:
        _wait_for_server()
        run_http(sessions, max(16, *args.clients), args.processes, 5)  # warm every worker and thread
        for clients in args.clients:
            result, codes = run_http(sessions, clients, args.processes, args.seconds)
            runs.append(result)
            all_codes += codes
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    bundles = load_rows(all_codes[:2000])
    if not bundles:
        raise SystemExit(f"no dossier was created over HTTP: {runs}")
    raw = [run_raw_sql(bundles, clients, args.processes, args.seconds) for clients in args.clients]
    bulk = run_bulk(bundles, 5000)
    write_result("submissions", {
        "persons_in_database": persons, "server": f"gunicorn gthread {args.server_workers} workers x "
        f"{args.server_threads} threads", "attachment_bytes": len(PDF), "http": runs, "raw_sql": raw, "bulk": bulk,
        "rows_per_dossier": round(bulk["rows"] / bulk["dossiers"], 2),
        "ratio_http_vs_raw_sql": [round(h["per_second"] / r["per_second"], 4) for h, r in zip(runs, raw, strict=True)],
        "ratio_http_vs_bulk": [round(h["per_second"] / bulk["per_second"], 5) for h in runs],
    })


if __name__ == "__main__":
    main()
