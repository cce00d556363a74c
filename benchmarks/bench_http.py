"""Hot paths over HTTP against the framework floor, measured in the same run (issue #18,
``make bench-http``).

The production server configuration: ``popid serve`` (Granian with ``popid.deploy.granian``, the
packaged settings; ``--server gunicorn`` for gunicorn's gthread workers) on PostgreSQL with Redis
as the shared cache, exactly as ``deploy/`` runs it, on its own database (``popid_perf_bench``,
seeded once with --persons) and port. Load comes from ``wrk`` (compiled, Debian's package) with the Lua scripts in
``benchmarks/wrk/``, so the client takes little of the server's CPU.

For every round (``--rounds``, default 2) and every endpoint, interleaved, each ``--seconds``:
1. the framework floor: ``GET /healthz/db`` (same server, middleware and database connection,
   one ``SELECT 1``), same connections;
2. the endpoint — floor and endpoint alternate in ``--slices`` (default 4) slices of the measure
   and each rate is its summed requests over its summed time, so the machine's drift (the floor
   alone moved 2–3× between 8-second windows on the shared VM) falls on both sides alike;
3. where there is one, the raw SQL floor of the same data access: ``pgbench`` (compiled) with a
   custom script from ``benchmarks/pgbench/``, same number of clients, prepared statements.
Then the complete login flow (a Python driver: authorize → login → consent remembered → token →
userinfo; it takes CPU from the server, which only lowers the flow rate) right before the
argon2id hash rate at the project's parameters in as many processes as there are vCPUs, and the
offline presentation verification against bare ES256 verification (one process, interleaved
slices, per CPU-second: bench_wallet.py's method).

Endpoints: eKYC verify; officer person lookup (full view with household and access record);
userinfo; client-credentials grant (private_key_jwt, a fresh assertion per request); refresh-token
grant (private_key_jwt, rotation: each refresh token presented once); dossier submission with a
16 KB attachment (citizen session + CSRF, fresh Idempotency-Key).

Writes benchmarks/results/http.json and benchmarks/results/http.md (the table).
Run: make bench-http  (or: python benchmarks/bench_http.py [--seconds 8] [--rounds 2])
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("POPID_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popid_perf_bench")
os.environ.setdefault("POPID_BENCH_DATA_DIR", "/tmp/popid-perf-bench")
os.environ.setdefault("POPID_REDIS_URL", os.environ.get("POPID_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
os.environ.setdefault("POPID_SECURE_COOKIES", "0")  # plain HTTP on loopback
os.environ.setdefault("POPID_MAX_BODY_BYTES", str(1024 * 1024))

import common  # noqa: E402
from common import BENCH_DATA_DIR, BENCH_URL, ROOT, person_count, popid_env, setup_django, write_result  # noqa: E402

PORT = int(os.environ.get("POPID_BENCH_HTTP_PORT", "8137"))
HOST = "127.0.0.1"
ORIGIN = f"http://{HOST}:{PORT}"
WRK_DIR = HERE / "wrk"
PG_DIR = HERE / "pgbench"
WORK = BENCH_DATA_DIR / "http"
PY = sys.executable
ACCOUNTS = 24
SUBMIT_MARK = "bench-http-submit"


def popid_cmd(*args: str, capture: bool = False) -> str:
    env = {**popid_env(), "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([PY, "-m", "popid.cli", *args], env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


# --- setup ----------------------------------------------------------------------------------------
def ensure_database(persons: int) -> int:
    count = person_count()
    if count == 0:
        common.recreate_database()
        popid_cmd("migrate", "--noinput", "-v", "0")
        popid_cmd("seed", "--persons", str(persons), "--seed", "1")
        count = person_count()
    else:
        popid_cmd("migrate", "--noinput", "-v", "0")
    return count


def staff_token() -> str:
    if "bench.api" not in popid_cmd("staff", "list", capture=True):
        popid_cmd("staff", "create", "bench.api", "--role", "supervisor", "--level", "nation")
    return popid_cmd("staff", "token", "bench.api", "--name", "bench-http", capture=True).strip()


def lookup_ids(n: int) -> list[str]:
    import psycopg

    with psycopg.connect(BENCH_URL) as conn:
        return [r[0] for r in conn.execute(
            "SELECT id_number FROM registry_person TABLESAMPLE SYSTEM (10) WHERE id_number ~ '^[0-9]{12}$' LIMIT %s",
            [n]).fetchall()]


def wallet_objects() -> dict:
    """One named citizen with a driving licence and a level-2 account (bench_wallet.py's), made once."""
    return common.licence_holder("bench-http", number="019923456789")


def assertions(client_id: str, key_dict: dict, n: int, audience: str) -> list[str]:
    """n private_key_jwt assertions (ES256, single-use jti, 290 s lifetime), signed before the run."""
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.import_key(key_dict)
    now = int(time.time())
    header = {"alg": "ES256", "kid": key.kid}
    return [jwt.encode(header, {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 290,
                                "jti": uuid.uuid4().hex}, key, algorithms=["ES256"]) for _ in range(n)]


# --- load generators --------------------------------------------------------------------------------
def wrk(script: str, args: list[str], *, seconds: float, connections: int, threads: int,
        env: dict | None = None) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(WRK_DIR / script), ORIGIN, "--", *args]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True, env={**os.environ, **(env or {})})
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout} {out.stderr}")
    data = json.loads(line[len("WRKJSON "):])
    ok = data["requests"] - data["status_errors"]
    data["per_second"] = round(ok / (data["duration_us"] / 1e6), 1)
    return data


def combined(parts: list[dict]) -> dict:
    """The slices of one measure as one: the rate from the summed requests and durations; latency
    as the median of the slices' p50 and their largest p99 (percentiles do not add up)."""
    requests = sum(p["requests"] for p in parts)
    duration = sum(p["duration_us"] for p in parts)
    status_errors = sum(p["status_errors"] for p in parts)
    return {"requests": requests, "duration_us": duration, "status_errors": status_errors,
            "socket_errors": sum(p["socket_errors"] for p in parts), "slices": len(parts),
            "p50_ms": statistics.median(p["p50_ms"] for p in parts), "p99_ms": max(p["p99_ms"] for p in parts),
            "mean_ms": sum(p["mean_ms"] * p["requests"] for p in parts) / max(1, requests),
            "per_second": round((requests - status_errors) / (duration / 1e6), 1)}


def pgbench(script: str, *, seconds: float, clients: int, variables: dict[str, Any]) -> dict:
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(int(seconds)),
           "-f", str(PG_DIR / script), *[f"-D{k}={v}" for k, v in variables.items()], "-r",
           "-h", "127.0.0.1", "-U", "postgres", common.db_name()]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    return {"per_second": round(float(tps.group(1)), 1) if tps else 0.0,
            "mean_ms": float(lat.group(1)) if lat else None}


def _argon2_worker(params: dict, seconds: float, out: mp.Queue) -> None:
    from argon2 import PasswordHasher, Type

    ph = PasswordHasher(time_cost=params["time_cost"], memory_cost=params["memory_cost"],
                        parallelism=params["parallelism"], type=Type.ID)
    encoded = ph.hash("Mat-khau-benchmark-2026")
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        ph.verify(encoded, "Mat-khau-benchmark-2026")
        count += 1
    out.put(count)


def argon2_rate(params: dict, seconds: float, processes: int) -> dict:
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_argon2_worker, args=(params, seconds, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return {"processes": processes, "hashes": total, "per_second": round(total / seconds, 1)}


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- the server ---------------------------------------------------------------------------------------
def start_server(workers: int | None, threads: int | None, kind: str = "granian") -> subprocess.Popen:
    """``popid serve``, the production command, with its packaged server (Granian) or, for
    comparison, gunicorn (``--server gunicorn``, with ``--worker-class``)."""
    env = {**popid_env(), "PYTHONPATH": str(ROOT / "src"), "POPID_BIND": f"{HOST}:{PORT}",
           "POPID_LOG_LEVEL": "WARNING", "POPID_BASE_URL": ORIGIN, "POPID_DEMO_RP": "0",
           # no `popid worker` runs beside the server: the setup's OTP SMS are written at once
           # (only the untimed first logins send one); other tasks stay queued as rows
           "POPID_MESSAGING_TASK_BACKEND": "immediate", "POPID_WEB_SERVER": kind}
    if workers:
        env["POPID_WEB_WORKERS"] = str(workers)
    if threads:
        env["POPID_WEB_THREADS"] = str(threads)
    server = subprocess.Popen([PY, "-m", "popid.cli", "serve"], env=env, start_new_session=True)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
            conn.request("GET", "/healthz/db")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("the server did not start")


def stop_server(server: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def check(method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
          expect: int = 200) -> bytes:
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if response.status != expect:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return data


# --- main -----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000, help="seeded when the database is empty")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--slices", type=int, default=4,
                        help="floor and endpoint alternate in this many slices of each measure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--flow-vus", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None, help="POPID_WEB_WORKERS (default: the config's)")
    parser.add_argument("--threads", type=int, default=None, help="POPID_WEB_THREADS (default: the config's)")
    parser.add_argument("--worker-class", default=None, help="POPID_WEB_WORKER_CLASS (default: the config's)")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian",
                        help="POPID_WEB_SERVER of popid serve (default: Granian, the packaged server)")
    parser.add_argument("--only", nargs="*", default=None, help="endpoint names to run")
    parser.add_argument("--label", default="http", help="result file name (benchmarks/results/LABEL.json)")
    args = parser.parse_args()
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install {'wrk' if tool == 'wrk' else 'postgresql-contrib'}")
    WORK.mkdir(parents=True, exist_ok=True)
    persons = ensure_database(args.persons)
    setup_django()
    import bench_ekyc
    import bench_oidc

    for module in (bench_ekyc, bench_oidc):  # their helpers, pointed at this server
        module.PORT, module.HOST = PORT, HOST
    bench_oidc.ORIGIN, bench_oidc.TOKEN_URL = ORIGIN, f"{ORIGIN}/oidc/token"
    bench_ekyc.STATE_FILE = WORK / "agency.json"
    bench_oidc.STATE_FILE = WORK / "oidc-client.json"
    from django.contrib.auth.hashers import get_hasher
    from django.db import connection, connections

    hasher = get_hasher("default")
    argon2_params = {"time_cost": hasher.time_cost, "memory_cost": hasher.memory_cost,
                     "parallelism": hasher.parallelism}
    token = staff_token()
    agency_state = bench_ekyc.ensure_agency()
    from popid.exchange.models import Agency

    agency_id = Agency.objects.get(code=bench_ekyc.AGENCY).pk
    ekyc_persons = bench_ekyc.sample_persons(5000)
    ids = lookup_ids(5000)
    accounts = bench_oidc.ensure_accounts(ACCOUNTS)
    client_state = bench_oidc.ensure_client()
    from bench_submissions import ensure_sessions, submission_body

    sessions = ensure_sessions(32, mark=SUBMIT_MARK)
    wallet = wallet_objects()
    with connection.cursor() as cur:
        cur.execute("SELECT max(id) FROM registry_person")
        maxid = cur.fetchone()[0]
        # a fresh start for the login throttles: every login of the benchmark comes from 127.0.0.1
        cur.execute("DELETE FROM core_throttlecounter")
    from django.core.cache import cache

    cache.clear()  # the benchmark's own Redis database (POPID_BENCH_REDIS_URL, default db 13)
    connections.close_all()

    (WORK / "ids.txt").write_text("\n".join(ids) + "\n")
    (WORK / "ekyc.jsonl").write_text("".join(json.dumps({
        "context": bench_ekyc.CONTEXT, "id_number": p["id_number"], "full_name": p["full_name"],
        "birth_date": p["birth_date"], "attributes": {"sex": p["sex"]}}, ensure_ascii=False) + "\n"
        for p in ekyc_persons))
    (WORK / "sessions.txt").write_text("".join(f"{s['session']} {s['csrf']}\n" for s in sessions))
    (WORK / "submissions.jsonl").write_text("".join(submission_body(s["commune"], k + 1) + "\n"
                                                    for k, s in enumerate(sessions)))

    if args.worker_class:
        os.environ["POPID_WEB_WORKER_CLASS"] = args.worker_class
    server = start_server(args.workers, args.threads, args.server)
    results: dict[str, Any] = {"rounds": []}
    load_before = load_average()
    try:
        # citizens: one password + OTP login each on a new device (device cookie kept), consent given
        client = bench_oidc._load_client(client_state)
        devices_file = WORK / "devices.json"
        devices = json.loads(devices_file.read_text()) if devices_file.exists() else {}
        vus = []
        for account in accounts:
            device = devices.get(account["id_number"])
            if device is None:  # new device: password + OTP and consent, once per account
                browser = bench_oidc.Browser()
                bench_oidc.login_flow(browser, client, account, otp_for=account["phone"])
                device = devices[account["id_number"]] = browser.cookies["popid_device"]
                devices_file.write_text(json.dumps(devices))
            vus.append({**account, "device": device})

        def user_tokens(n: int) -> list[dict]:
            out = []
            for k in range(n):
                vu = vus[k % len(vus)]
                out.append(bench_oidc.login_flow(bench_oidc.Browser(vu["device"]), client, vu))
            return out

        token_url = f"{ORIGIN}/oidc/token"
        agency_token = bench_ekyc.get_token(agency_state)
        # one answer each, checked, before any timing
        check("GET", "/healthz/db")
        body = check("POST", "/api/v1/exchange/ekyc/verify", body=(WORK / "ekyc.jsonl").read_text().splitlines()[0]
                     .encode(), headers={"Authorization": f"Bearer {agency_token}",
                                         "Content-Type": "application/json"})
        assert json.loads(body)["match"] is True, body
        check("GET", f"/api/v1/persons/{ids[0]}", headers={"Authorization": f"Bearer {token}"})
        access_tokens = [t["access_token"] for t in user_tokens(len(vus))]
        (WORK / "access_tokens.txt").write_text("\n".join(access_tokens) + "\n")
        check("GET", "/oidc/userinfo", headers={"Authorization": f"Bearer {access_tokens[0]}"})
        check("POST", "/api/v1/services/dossiers", body=(WORK / "submissions.jsonl").read_text().splitlines()[0]
              .encode(), headers={"Cookie": f"sessionid={sessions[0]['session']}; csrftoken={sessions[0]['csrf']}",
                                  "X-CSRFToken": sessions[0]["csrf"], "Content-Type": "application/json",
                                  "Idempotency-Key": secrets.token_hex(12)}, expect=201)
        refresh_pool = WORK / "refresh.txt"
        refresh_pool.write_text("\n".join(t["refresh_token"] for t in user_tokens(args.connections + 8)) + "\n")

        c, t, s = args.connections, args.wrk_threads, args.seconds
        floor_args = ["/healthz/db"]

        def endpoint_runs() -> dict[str, dict]:
            nonlocal agency_token
            agency_token = bench_ekyc.get_token(agency_state)  # a fresh token per round (10 min life)
            runs: dict[str, dict] = {}
            plan = {
                "ekyc": (lambda sec: wrk("post.lua", ["/api/v1/exchange/ekyc/verify", str(WORK / "ekyc.jsonl"),
                                                      "application/json", agency_token], seconds=sec, connections=c,
                                         threads=t),
                         ("ekyc.sql", {"maxid": maxid, "agency": agency_id})),
                "lookup": (lambda sec: wrk("get.lua", ["/api/v1/persons/", f"{token}", str(WORK / "ids.txt")],
                                           seconds=sec, connections=c, threads=t),
                           ("lookup.sql", {"maxid": maxid})),
                "userinfo": (lambda sec: wrk("get.lua", ["/oidc/userinfo", f"@{WORK / 'access_tokens.txt'}"],
                                             seconds=sec, connections=c, threads=t), None),
                "client_credentials": (lambda sec: _token_run("client_credentials", sec), None),
                "refresh": (lambda sec: _token_run("refresh_token", sec), None),
                "submission": (lambda sec: wrk("post.lua", ["/api/v1/services/dossiers",
                                                            str(WORK / "submissions.jsonl"), "application/json", "-",
                                                            str(WORK / "sessions.txt")],
                                               seconds=sec, connections=c, threads=t), None),
            }
            for name, (run, sql) in plan.items():
                if args.only and name not in args.only:
                    continue
                entry = {"load_average": load_average()}
                # Floor and endpoint alternate in slices of the measure, so a slow or fast phase of
                # the machine falls on both alike; each side's rate is its summed requests over its
                # summed time.
                piece = max(1.0, s / args.slices)
                floor_parts, endpoint_parts = [], []
                for _ in range(args.slices):
                    floor_parts.append(wrk("get.lua", floor_args, seconds=piece, connections=c, threads=t))
                    endpoint_parts.append(run(piece))
                entry["floor"], entry["endpoint"] = combined(floor_parts), combined(endpoint_parts)
                if sql:
                    entry["raw_sql"] = pgbench(sql[0], seconds=s, clients=c, variables=sql[1])
                entry["ratio_vs_floor"] = round(entry["endpoint"]["per_second"] / entry["floor"]["per_second"], 3)
                if sql:
                    entry["ratio_vs_raw_sql"] = round(entry["endpoint"]["per_second"] / entry["raw_sql"]["per_second"],
                                                      4)
                print(name, json.dumps({k: v for k, v in entry.items()}), flush=True)
                runs[name] = entry
            return runs

        def _token_run(grant: str, sec: float) -> dict:
            if grant == "client_credentials":
                cid, key = agency_state["client_id"], agency_state["key"]
                extra = ["exchange.ekyc"]
            else:
                cid, key = client_state["client_id"], client_state["key"]
                extra = ["-", str(refresh_pool)]
            # enough unused assertions for the fastest thread (each wrk thread takes every t-th one;
            # a thread that wraps around replays a jti, which the provider rightly refuses)
            n = int(sec * 1500 * t) + 1000
            (WORK / "assertions.txt").write_text("\n".join(assertions(cid, key, n, token_url)) + "\n")
            result = wrk("token.lua", ["/oidc/token", str(WORK / "assertions.txt"), str(t), grant, *extra],
                         seconds=sec, connections=c, threads=t,
                         env={"POPID_WRK_POOL_OUT": str(WORK / "refresh-left.txt")})
            if grant == "refresh_token":
                left = [x for x in (WORK / "refresh-left.txt").read_text().splitlines() if x]
                if len(left) < c + 4:  # a chain broke (counted as errors): start new ones
                    left += [x["refresh_token"] for x in user_tokens(c + 8 - len(left))]
                refresh_pool.write_text("\n".join(left) + "\n")
            return result

        # warm every worker and thread
        wrk("get.lua", floor_args, seconds=3, connections=c, threads=t)
        wrk("get.lua", ["/api/v1/persons/", token, str(WORK / "ids.txt")], seconds=3, connections=c, threads=t)

        def flows(seconds: float) -> dict:
            return bench_oidc.run_load("flow", vus[:args.flow_vus], client_state, seconds, 2)

        for round_no in range(1, args.rounds + 1):
            rnd: dict[str, Any] = {"round": round_no, "endpoints": endpoint_runs()}
            if not args.only or "login" in args.only:
                login = {"load_average": load_average(), "flows": flows(s),
                         "argon2id": argon2_rate(argon2_params, s, os.cpu_count() or 1)}
                login["ratio_vs_argon2id"] = round(login["flows"]["per_second"] / login["argon2id"]["per_second"], 3)
                print("login", json.dumps(login), flush=True)
                rnd["login"] = login
            results["rounds"].append(rnd)
    finally:
        stop_server(server)

    if not args.only or "offline" in args.only:
        setup_django()
        results["offline_verification"] = offline_verification(wallet, args.seconds)
        print("offline", json.dumps(results["offline_verification"]), flush=True)
    results["load_average_before"] = load_before
    results["load_average_after"] = load_average()
    payload = {"persons_in_database": persons, "server": server_description(args),
               "connections": args.connections, "wrk_threads": args.wrk_threads, "seconds": args.seconds,
               "argon2id_parameters": argon2_params, **results}
    write_result(args.label, payload)
    table = markdown(payload)
    (common.RESULTS / f"{args.label}.md").write_text(table)
    print(table)


def server_description(args: argparse.Namespace) -> str:
    workers = args.workers or min(8, 2 * (os.cpu_count() or 1) + 1)
    threads = args.threads or 4
    if args.server == "granian":
        return f"popid serve (Granian WSGI, {workers} workers x {threads} threads, Redis cache, PostgreSQL)"
    kind = args.worker_class or "gthread"
    return f"popid serve (gunicorn {kind}, {workers} workers x {threads} threads, Redis cache, PostgreSQL)"


def offline_verification(objects: dict, seconds: float) -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from bench_wallet import interleaved
    from popid.wallet import services as wallet_services
    from popid.wallet import verifier
    from popid.wallet.verify import CachedTrust, build_cache, verify_presentation

    account, licence = objects["account"], objects["licence"]
    private = ec.generate_private_key(ec.SECP256R1())
    message = os.urandom(600)
    signature = private.sign(message, ec.ECDSA(hashes.SHA256()))
    public = private.public_key()
    held = wallet_services.add_to_wallet(account=account, config_id="giay_phep_lai_xe",
                                         document_ref=licence.number, base=ORIGIN)
    trust = CachedTrust(json.loads(json.dumps(build_cache(ORIGIN))))
    session = verifier.create_session(base=ORIGIN)
    payload = wallet_services.present(account=account, pk=held.pk, claims=["age_over_18", "full_name",
                                                                          "driving_classes"],
                                      nonce=session.nonce, audience=session.audience)

    def offline() -> None:
        result = verify_presentation(payload, trust=trust, audience=session.audience,
                                     nonce_check=lambda n: None, max_age=3600)
        assert result.accepted, result.reason

    rounds = []
    for _ in range(2):
        cpu = interleaved({"es256": lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())),
                           "offline": offline}, seconds / 2)
        rounds.append({"es256_per_cpu_s": round(cpu["es256"]["per_cpu_s"], 1),
                       "offline_per_cpu_s": round(cpu["offline"]["per_cpu_s"], 1),
                       "ratio": round(cpu["offline"]["per_cpu_s"] / cpu["es256"]["per_cpu_s"], 3),
                       "load_average": load_average()})
    return {"presentation_bytes": len(payload), "rounds": rounds}


TARGETS = {"ekyc": 0.5, "lookup": 0.3, "userinfo": 0.5, "client_credentials": 0.5, "refresh": 0.5,
           "submission": 0.2}
NAMES = {"ekyc": "eKYC verify", "lookup": "officer person lookup (full view)", "userinfo": "userinfo",
         "client_credentials": "client-credentials grant (private_key_jwt)",
         "refresh": "refresh-token grant (private_key_jwt)", "submission": "dossier submission, 16 KB attachment"}


def markdown(payload: dict) -> str:
    lines = ["| round | endpoint | floor req/s | endpoint req/s | p50 / p99 ms | errors | ratio vs floor "
             "| target | raw SQL tx/s (pgbench) | ratio vs raw SQL | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for rnd in payload["rounds"]:
        for name, e in rnd["endpoints"].items():
            ep = e["endpoint"]
            raw = e.get("raw_sql")
            raw_rate = f"{raw['per_second']:,.0f}" if raw else "—"
            raw_ratio = f"{e['ratio_vs_raw_sql']:.4f}" if raw else "—"
            lines.append(
                f"| {rnd['round']} | {NAMES[name]} | {e['floor']['per_second']:,.0f} | {ep['per_second']:,.1f} | "
                f"{ep['p50_ms']:.0f} / {ep['p99_ms']:.0f} | {ep['status_errors'] + ep['socket_errors']} | "
                f"**{e['ratio_vs_floor']:.2f}** | ≥ {TARGETS[name]} | "
                f"{raw_rate} | {raw_ratio} | {e['load_average'][0]:.1f} |")
        if "login" in rnd:
            lg = rnd["login"]
            lines.append(
                f"| {rnd['round']} | complete login flow (Python driver, {lg['flows']['vus']} VUs) | "
                f"argon2id {lg['argon2id']['per_second']:,.1f} hashes/s | {lg['flows']['per_second']:,.1f} flows/s | "
                f"{lg['flows']['p50_ms']:.0f} / {lg['flows']['p99_ms']:.0f} | {lg['flows']['errors']} | "
                f"**{lg['ratio_vs_argon2id']:.2f}** (vs argon2id) | ≥ 0.6 | — | — | {lg['load_average'][0]:.1f} |")
    for k, r in enumerate(payload.get("offline_verification", {}).get("rounds", []), 1):
        lines.append(f"| {k} | offline presentation verification (per CPU-s) | ES256 {r['es256_per_cpu_s']:,.0f}/CPU-s "
                     f"| {r['offline_per_cpu_s']:,.0f}/CPU-s | — | 0 | **{r['ratio']:.2f}** (vs ES256) | ≥ 0.4 | — | — "
                     f"| {r['load_average'][0]:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
