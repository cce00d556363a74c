"""Where a hot path's time goes: each endpoint of bench_http.py called in-process through Django's
test client (the same middleware, settings and database as the server) under cProfile, with the
number of SQL queries per request. Writes benchmarks/profiles/<endpoint>.txt (queries, the
statements, the top functions by cumulative and by own time): small text files kept in git.

Run after bench_http.py has prepared its database (it reuses its state files):
    python benchmarks/profile_hot_paths.py [--requests 200] [--only ekyc lookup]

``--prepared`` instead times each endpoint without the profiler, one thread, in alternating blocks
with PostgreSQL prepared statements on (psycopg's prepare_threshold 5) and off (Django's
default), and prints the per-request medians of the blocks and their ratio.

``--split`` times each endpoint without the profiler and splits every request's wall time into the
time spent inside psycopg's I/O loop (``psycopg.Connection.wait``: sending each statement, the
server executing it, the answer coming back, commits included) and the rest (Python: middleware,
view, serialisation), with the number of round trips; then, from the floor's own split, the ratio
each endpoint could reach against the floor if all of its Python cost no more than the floor's
(``db-bound ceiling``). Writes benchmarks/results/split.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_http  # noqa: E402 - sets the benchmark's environment
from common import setup_django  # noqa: E402

PROFILES = HERE / "profiles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--prepared", action="store_true", help="time prepared statements on against off")
    parser.add_argument("--blocks", type=int, default=10, help="with --prepared: blocks per setting")
    parser.add_argument("--split", action="store_true", help="database time against Python time per request")
    args = parser.parse_args()
    os.environ["POPID_MESSAGING_TASK_BACKEND"] = "immediate"
    os.environ["POPID_LOG_LEVEL"] = "WARNING"
    setup_django()
    from django.db import connection
    from django.test import Client

    import bench_ekyc

    work = bench_http.WORK
    bench_ekyc.STATE_FILE = work / "agency.json"
    ekyc_bodies = (work / "ekyc.jsonl").read_text().splitlines()
    ids = (work / "ids.txt").read_text().split()
    access_tokens = (work / "access_tokens.txt").read_text().split()
    sessions = [line.split() for line in (work / "sessions.txt").read_text().splitlines() if line]
    submissions = (work / "submissions.jsonl").read_text().splitlines()
    staff_token = bench_http.popid_cmd("staff", "token", "bench.api", "--name", "profile", capture=True).strip()
    client = Client(SERVER_NAME="127.0.0.1")

    from popid.exchange.models import AgencyToken
    from popid.identity.oidc.models import digest

    agency_state = json.loads((work / "agency.json").read_text())
    raw_agency_token = secrets.token_urlsafe(32)
    from datetime import timedelta

    from django.utils import timezone

    from popid.exchange.models import Subsystem

    subsystem = Subsystem.objects.get(client__client_id=agency_state["client_id"])
    AgencyToken.objects.create(subsystem=subsystem, token_hash=digest(raw_agency_token), scope="exchange.ekyc",
                               expires_at=timezone.now() + timedelta(minutes=30))

    def ekyc(k: int):
        return client.post("/api/v1/exchange/ekyc/verify", data=ekyc_bodies[k % len(ekyc_bodies)],
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw_agency_token}")

    def lookup(k: int):
        return client.get(f"/api/v1/persons/{ids[k % len(ids)]}", HTTP_AUTHORIZATION=f"Bearer {staff_token}")

    def userinfo(k: int):
        return client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_tokens[k % len(access_tokens)]}")

    def floor(k: int):
        return client.get("/healthz/db")

    def submission(k: int):
        session, csrf = sessions[k % len(sessions)]
        client.cookies["sessionid"], client.cookies["csrftoken"] = session, csrf
        try:
            return client.post("/api/v1/services/dossiers", data=submissions[k % len(submissions)],
                               content_type="application/json", HTTP_X_CSRFTOKEN=csrf,
                               HTTP_IDEMPOTENCY_KEY=secrets.token_hex(12))
        finally:
            client.cookies.clear()

    token_client = Client(HTTP_HOST=f"{bench_http.HOST}:{bench_http.PORT}")
    signed = iter(bench_http.assertions(agency_state["client_id"], agency_state["key"], 30 * args.requests + 400,
                                        f"{bench_http.ORIGIN}/oidc/token"))

    def client_credentials(k: int):
        return token_client.post("/oidc/token", data={
            "grant_type": "client_credentials", "scope": "exchange.ekyc", "client_assertion": next(signed),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

    rp_state = json.loads((work / "oidc-client.json").read_text())
    rp_signed = iter(bench_http.assertions(rp_state["client_id"], rp_state["key"], 30 * args.requests + 400,
                                           f"{bench_http.ORIGIN}/oidc/token"))
    unused = [t for name in ("refresh.txt", "refresh-left.txt") if (work / name).exists()
              for t in (work / name).read_text().split()]
    chain: dict[str, str] = {}

    def refresh(k: int):
        """Rotation: each answer's new refresh token is the next request's (a used one would revoke
        its family), starting from a token bench_http left unused."""
        while True:
            token = chain.get("next") or unused.pop()
            response = token_client.post("/oidc/token", data={
                "grant_type": "refresh_token", "refresh_token": token, "client_assertion": next(rp_signed),
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
            if response.status_code == 200:
                chain["next"] = response.json()["refresh_token"]
                return response
            chain.pop("next", None)  # spent or expired: take another from the pool

    import bench_oidc

    bench_oidc.ORIGIN, bench_oidc.TOKEN_URL = bench_http.ORIGIN, f"{bench_http.ORIGIN}/oidc/token"
    rp = bench_oidc._load_client(json.loads((work / "oidc-client.json").read_text()))
    devices = json.loads((work / "devices.json").read_text())
    accounts = {a["id_number"]: a for a in bench_oidc.ensure_accounts(len(devices))}
    browsers = [(InProcessBrowser(device), accounts[number]) for number, device in devices.items()
                if number in accounts]

    class Answer:  # the flow returns tokens, not a response: wrap them for the status check
        status_code = 200

    def login_flow(k: int):
        browser, account = browsers[k % len(browsers)]
        bench_oidc.login_flow(browser, rp, account)  # raises on any unexpected answer
        return Answer()

    def argon2id(k: int):
        hasher.verify(encoded, bench_oidc.PASSWORD)
        return Answer()

    from argon2 import PasswordHasher, Type
    from django.contrib.auth.hashers import get_hasher

    project = get_hasher("argon2")
    hasher = PasswordHasher(time_cost=project.time_cost, memory_cost=project.memory_cost,
                            parallelism=project.parallelism, type=Type.ID)
    encoded = hasher.hash(bench_oidc.PASSWORD)

    endpoints = {"floor": (floor, 200), "ekyc": (ekyc, 200), "lookup": (lookup, 200), "userinfo": (userinfo, 200),
                 "client_credentials": (client_credentials, 200), "refresh": (refresh, 200),
                 "submission": (submission, 201),
                 "login_flow": (login_flow, 200), "argon2id": (argon2id, 200)}
    PROFILES.mkdir(exist_ok=True)
    splits: dict[str, dict] = {}
    for name, (call, status) in endpoints.items():
        if args.only and name not in args.only:
            continue
        for k in range(5):  # warm
            response = call(k)
            assert response.status_code == status, (name, response.status_code, response.content[:300])
        if args.prepared:
            _time_prepared(name, call, args.requests, args.blocks)
            continue
        if args.split:
            splits[name] = _time_split(name, call, args.requests, args.blocks)
            continue
        statements: list[str] = []

        def capture(execute, sql, params, many, context, statements=statements):  # type: ignore[no-untyped-def]
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            call(7)
        profiler = cProfile.Profile()
        profiler.enable()
        for k in range(args.requests):
            call(k)
        profiler.disable()
        out = io.StringIO()
        out.write(f"# {name}: {len(statements)} SQL queries per request, "
                  f"{args.requests} requests profiled in-process (Django test client)\n")
        for sql in statements:
            out.write(f"#   {sql[:200]}\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("cumulative").print_stats(90)
        stats.sort_stats("tottime").print_stats(25)
        (PROFILES / f"{name}.txt").write_text(out.getvalue())
        total = stats.total_tt / args.requests * 1000
        print(f"{name}: {len(statements)} queries, {total:.2f} ms per request under cProfile "
              "(wall clock, includes waiting for PostgreSQL)")
    if splits:
        _report_split(splits)


class InProcessBrowser:
    """bench_oidc.Browser's interface over Django's test client: the login flow's requests run in
    this process, through the same middleware and views, with no HTTP client taking CPU."""

    def __init__(self, device: str) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST=f"{bench_http.HOST}:{bench_http.PORT}")
        self.client.cookies["popid_device"] = device

    def fresh(self) -> None:
        for name in [n for n in self.client.cookies if n != "popid_device"]:
            del self.client.cookies[name]

    def request(self, method: str, url: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        response = (self.client.get(path, **extra) if method == "GET"
                    else self.client.post(path, body or {}, **extra))
        return response.status_code, {"location": response.get("Location", "")}, response.content.decode()


class _DatabaseClock:
    """Wall time and calls inside ``psycopg.Connection.wait``, the loop every statement, fetch,
    pipeline sync and commit of a psycopg 3 connection goes through."""

    def __init__(self, trace: bool = False) -> None:
        import psycopg

        self.seconds, self.waits = 0.0, 0
        self.origins: list[str] = []  # with trace: where each wait came from (the innermost PopID frame)
        self._cls, self._original = psycopg.Connection, psycopg.Connection.wait
        clock = self

        def timed_wait(connection, gen, *args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return clock._original(connection, gen, *args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.waits += 1
                if trace:
                    clock.origins.append(_origin())

        self._timed = timed_wait

    def __enter__(self) -> _DatabaseClock:
        self._cls.wait = self._timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self._cls.wait = self._original  # type: ignore[method-assign]


def _origin() -> str:
    import traceback

    stack = traceback.extract_stack()[:-2]
    frames = [f for f in stack if "/popid/" in f.filename and "/benchmarks/" not in f.filename
              and not f.filename.endswith("ops/health.py")]
    psycopg_frames = [f for f in stack if "/psycopg/" in f.filename]
    where = f"{frames[-1].filename.split('/popid/')[-1]}:{frames[-1].lineno} {frames[-1].name}" if frames else "?"
    return f"{where} ({psycopg_frames[0].name if psycopg_frames else '?'})"


def _time_split(name: str, call, requests: int, blocks: int) -> dict:  # type: ignore[no-untyped-def]
    """Median over ``blocks`` blocks of ``requests`` calls: wall ms, database ms and round trips per
    request; first, where the round trips of one request come from."""
    with _DatabaseClock(trace=True) as traced:
        call(99)
    for origin in traced.origins:
        print(f"  {name} wait: {origin}")
    walls, dbs, waits = [], [], []
    k = 100
    for _ in range(blocks):
        with _DatabaseClock() as clock:
            started = time.perf_counter()
            for _ in range(requests):
                call(k)
                k += 1
            wall = time.perf_counter() - started
        walls.append(wall / requests * 1000)
        dbs.append(clock.seconds / requests * 1000)
        waits.append(clock.waits / requests)
    out = {"wall_ms": statistics.median(walls), "db_ms": statistics.median(dbs),
           "round_trips": statistics.median(waits)}
    out["python_ms"] = out["wall_ms"] - out["db_ms"]
    print(f"{name}: {out['wall_ms']:.2f} ms per request = database {out['db_ms']:.2f} ms "
          f"({out['round_trips']:.1f} waits) + Python {out['python_ms']:.2f} ms", flush=True)
    return out


def _report_split(splits: dict[str, dict]) -> None:
    floor = splits.get("floor")
    lines = ["| endpoint | ms/request | database ms (waits) | Python ms | ratio vs floor | db-bound ceiling |",
             "|---|---|---|---|---|---|"]
    for name, s in splits.items():
        ratio = ceiling = "—"
        if floor and name not in ("floor", "argon2id", "login_flow"):
            ratio = f"{floor['wall_ms'] / s['wall_ms']:.2f}"
            ceiling = f"{floor['wall_ms'] / (s['db_ms'] + floor['python_ms']):.2f}"
        lines.append(f"| {name} | {s['wall_ms']:.2f} | {s['db_ms']:.2f} ({s['round_trips']:.1f}) "
                     f"| {s['python_ms']:.2f} | {ratio} | {ceiling} |")
    if "login_flow" in splits and "argon2id" in splits:
        flow, hash_ = splits["login_flow"], splits["argon2id"]
        lines.append(f"\nlogin flow vs argon2id: {hash_['wall_ms'] / flow['wall_ms']:.2f}; "
                     f"if the flow were its hash and its database time only: "
                     f"{hash_['wall_ms'] / (hash_['wall_ms'] + flow['db_ms']):.2f}")
    print("\n".join(lines))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "split.json").write_text(json.dumps(splits, indent=1) + "\n")


def _time_prepared(name: str, call, requests: int, blocks: int) -> None:  # type: ignore[no-untyped-def]
    """Per-request wall time with prepared statements on and off, in alternating blocks so that
    the machine's drift affects both settings alike."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    per_setting: dict[str, list[float]] = {"on": [], "off": []}
    k = 0
    for block in range(2 * blocks):
        setting = "on" if block % 2 == 0 else "off"
        raw.prepare_threshold = 5 if setting == "on" else None
        for _ in range(20):  # let the statements of this setting be prepared (or not) first
            call(k)
            k += 1
        started = time.perf_counter()
        for _ in range(requests):
            call(k)
            k += 1
        per_setting[setting].append((time.perf_counter() - started) / requests * 1000)
    on, off = statistics.median(per_setting["on"]), statistics.median(per_setting["off"])
    print(f"{name}: prepared {on:.2f} ms, unprepared {off:.2f} ms per request (medians of {blocks} blocks "
          f"of {requests}); unprepared/prepared = {off / on:.2f}")


if __name__ == "__main__":
    main()
