"""Identity under load: complete OIDC logins per second, and the token and userinfo endpoints,
each against a baseline measured in the same run on the same machine.

Logins: virtual users (VUs) run authorize -> login page -> password POST (known device, so no
OTP) -> authorize again (consent remembered) -> code -> token (private_key_jwt ES256 with a
fresh 60 s assertion, PKCE S256) -> userinfo, each flow starting with a fresh cookie jar that
keeps only the signed device cookie. Before timing, every VU logs in once through the new-device
OTP (read from the SMS outbox) and grants consent, and keeps that device cookie.
Baseline: bare argon2id verifications per second with the parameters of Django's
password hasher (argon2id, core/hashers.py), in as many processes as gunicorn has workers, for the same duration.

Token endpoint: chains of refresh_token grants per VU (each rotates; private_key_jwt each time).
Userinfo: GET with a valid access token. Baseline for both: GET /oidc/jwks through the same
gunicorn (same middleware, same client, no database), i.e. the HTTP + Django floor.

Accounts: BENCH_ACCOUNTS level-1 citizen accounts for persons sampled from the registry, user
first_name "bench-oidc" (reused on reruns); one private_key_jwt client "PopID benchmark RP"
whose key and client_id are kept in POPID_DATA_DIR/bench-oidc.json.

Run: .venv/bin/python benchmarks/bench_oidc.py [--vus 4 16] [--seconds 15]
(needs a populated benchmark database: run bench_bulk_load.py first).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing as mp
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from base64 import urlsafe_b64encode
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    BENCH_DATA_DIR,
    ROOT,
    latency_summary,
    person_count,
    popid_env,
    setup_django,
    write_result,
)

PORT = 8766
HOST = "127.0.0.1"
ORIGIN = f"http://{HOST}:{PORT}"
TOKEN_URL = f"{ORIGIN}/oidc/token"
REDIRECT_URI = "https://rp.bench.example/callback"
SCOPES = "openid profile popid.id_number address phone"
PASSWORD = "Mat-khau-benchmark-2026"
MARK = "bench-oidc"
BENCH_ACCOUNTS = 32
STATE_FILE = BENCH_DATA_DIR / "bench-oidc.json"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OTP_RE = re.compile(r"\b(\d{6})\b")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# --- setup (main process, Django ORM on the benchmark database) -------------------------------
def ensure_accounts(n: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from popid.identity.models import CitizenAccount

    User = get_user_model()
    accounts = list(CitizenAccount.objects.select_related("user").filter(user__first_name=MARK).order_by("pk"))
    missing = n - len(accounts)
    if missing > 0:
        with connection.cursor() as cur:
            cur.execute("SELECT p.id FROM registry_person p TABLESAMPLE SYSTEM (1) WHERE p.status = 'alive' "
                        "AND NOT EXISTS (SELECT 1 FROM identity_citizenaccount a WHERE a.person_id = p.id) "
                        "LIMIT %s", [missing])
            person_ids = [r[0] for r in cur.fetchall()]
        from popid.registry.models import Person

        for person in Person.objects.filter(pk__in=person_ids):
            user = User.objects.create_user(username=person.id_number, password=PASSWORD, first_name=MARK)
            accounts.append(CitizenAccount.objects.create(
                user=user, person=person, level=1, phone=f"09{person.id_number[-8:]}",
                phone_verified_at=timezone.now()))
    return [{"id_number": a.user.username, "phone": a.phone} for a in accounts[:n]]


def ensure_client() -> dict:
    from joserfc.jwk import ECKey

    from popid.identity.oidc.models import RelyingParty
    from popid.identity.oidc.services import register_client

    try:
        state = json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        state = {}
    if not state.get("client_id") or not RelyingParty.objects.filter(client_id=state["client_id"],
                                                                     is_active=True).exists():
        key = ECKey.generate_key("P-256", private=True, parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)
        client, _secret = register_client(
            name="PopID benchmark RP", redirect_uris=[REDIRECT_URI], token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [key.as_dict(private=False)]}, created_by="benchmark")
        state = {"client_id": client.client_id, "key": key.as_dict(private=True)}
        STATE_FILE.write_text(json.dumps(state))
    return state


# --- a minimal browser + relying party over http.client ---------------------------------------
class Browser:
    """One keep-alive connection and a cookie jar; ``fresh()`` forgets all but the device cookie."""

    def __init__(self, device: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
        self.cookies: dict[str, str] = {}
        if device:
            self.cookies["popid_device"] = device

    def fresh(self) -> None:
        self.cookies = {k: v for k, v in self.cookies.items() if k == "popid_device"}

    def request(self, method: str, url: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
            raise
        for header in response.msg.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, {"location": response.getheader("Location", "")}, text


class FlowError(Exception):
    pass


def _expect(status: int, wanted: int, what: str, text: str = "") -> None:
    if status != wanted:
        raise FlowError(f"{what}: HTTP {status} {text[:200]!r}")


def _assertion(client_id: str, key) -> str:
    from joserfc import jwt

    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(16)}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def _client_auth(client: dict) -> dict:
    return {"client_id": client["client_id"], "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(client["client_id"], client["jwk"])}


def _authorize_url(client_id: str, verifier: str) -> str:
    challenge = urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return f"{ORIGIN}/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPES,
        "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256"})


def _absolute(location: str) -> str:
    return location if location.startswith("http") else ORIGIN + location


def login_flow(browser: Browser, client: dict, account: dict, *, otp_for: str | None = None) -> dict:
    """One complete login. With ``otp_for`` (the phone) the new-device OTP and consent are passed."""
    browser.fresh()
    verifier = secrets.token_urlsafe(48)
    status, h, text = browser.request("GET", _authorize_url(client["client_id"], verifier))
    _expect(status, 302, "authorize (no session)", text)
    login_url = _absolute(h["location"])
    status, h, text = browser.request("GET", login_url)
    _expect(status, 200, "login page", text)
    csrf = CSRF_RE.search(text)
    if not csrf:
        raise FlowError("no CSRF token on the login page")
    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    outbox_mark = _outbox_size() if otp_for else 0
    status, h, text = browser.request("POST", login_url, {
        "csrfmiddlewaretoken": csrf.group(1), "id_number": account["id_number"], "password": PASSWORD,
        "next": next_url})
    _expect(status, 302, "login POST", text)
    if otp_for:
        otp_url = _absolute(h["location"])
        if "/xac-thuc-otp/" not in otp_url:
            raise FlowError(f"expected the OTP step, got {otp_url}")
        status, h, text = browser.request("GET", otp_url)
        _expect(status, 200, "OTP page", text)
        code = _read_otp(otp_for, outbox_mark)
        status, h, text = browser.request("POST", otp_url, {
            "csrfmiddlewaretoken": CSRF_RE.search(text).group(1), "code": code})
        _expect(status, 302, "OTP POST", text)
    authorize = _absolute(h["location"])
    if "/oidc/authorize" not in authorize:
        raise FlowError(f"login did not return to authorize: {authorize} (new device?)")
    status, h, text = browser.request("GET", authorize)
    if status == 200 and otp_for:  # consent page, first time only
        status, h, text = browser.request("POST", authorize, {
            "csrfmiddlewaretoken": unescape(CSRF_RE.search(text).group(1)), "decision": "allow"})
    _expect(status, 302, "authorize (consent remembered)", text)
    query = parse_qs(urlsplit(h["location"]).query)
    if "code" not in query:
        raise FlowError(f"no code: {h['location'][:200]}")
    status, h, text = browser.request("POST", TOKEN_URL, {
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier, **_client_auth(client)})
    _expect(status, 200, "token", text)
    tokens = json.loads(text)
    status, h, text = browser.request("GET", f"{ORIGIN}/oidc/userinfo",
                                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    _expect(status, 200, "userinfo", text)
    return tokens


def _outbox_size() -> int:
    path = BENCH_DATA_DIR / "outbox" / "messages.jsonl"
    return path.stat().st_size if path.exists() else 0


def _read_otp(phone: str, since: int) -> str:
    path = BENCH_DATA_DIR / "outbox" / "messages.jsonl"
    for _ in range(50):
        with path.open("rb") as fh:
            fh.seek(since)
            lines = fh.read().decode("utf-8").splitlines()
        for line in reversed(lines):
            if line.strip():
                message = json.loads(line)
                if message.get("to") == phone and (m := OTP_RE.search(message.get("text") or
                                                                     message.get("body") or "")):
                    return m.group(1)
        time.sleep(0.1)
    raise FlowError(f"no OTP in the outbox for {phone}")


# --- load generation --------------------------------------------------------------------------
def _load_client(client_state: dict) -> dict:
    from joserfc.jwk import ECKey

    return {"client_id": client_state["client_id"], "jwk": ECKey.import_key(client_state["key"])}


def _vu_worker(kind: str, vus: list[dict], client_state: dict, seconds: float, out: mp.Queue) -> None:
    """One process running len(vus) threads; each thread is one virtual user."""
    client = _load_client(client_state)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_barrier = threading.Barrier(len(vus))

    def run(vu: dict) -> None:
        browser = Browser(vu.get("device"))
        local: list[float] = []
        local_errors: list[str] = []
        state: dict = {}
        try:  # per-kind preparation, not timed
            if kind == "refresh":
                state["refresh"] = login_flow(browser, client, vu)["refresh_token"]
            elif kind == "userinfo":
                state["access"] = login_flow(browser, client, vu)["access_token"]
        except Exception as exc:
            local_errors.append(f"prepare: {exc}")
        start_barrier.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                if kind == "flow":
                    login_flow(browser, client, vu)
                elif kind == "refresh":
                    status, _h, text = browser.request("POST", TOKEN_URL, {
                        "grant_type": "refresh_token", "refresh_token": state["refresh"], **_client_auth(client)})
                    _expect(status, 200, "refresh", text)
                    state["refresh"] = json.loads(text)["refresh_token"]
                elif kind == "userinfo":
                    status, _h, text = browser.request("GET", f"{ORIGIN}/oidc/userinfo",
                                                       headers={"Authorization": f"Bearer {state['access']}"})
                    _expect(status, 200, "userinfo", text)
                else:  # jwks
                    status, _h, text = browser.request("GET", f"{ORIGIN}/oidc/jwks")
                    _expect(status, 200, "jwks", text)
            except Exception as exc:
                local_errors.append(str(exc)[:300])
                if kind == "refresh":  # the chain is broken (family revoked): start a new one
                    with contextlib.suppress(Exception):
                        state["refresh"] = login_flow(browser, client, vu)["refresh_token"]
                continue
            local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)
            errors.extend(local_errors)

    threads = [threading.Thread(target=run, args=(vu,)) for vu in vus]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors))


def run_load(kind: str, vus: list[dict], client_state: dict, seconds: float, processes: int) -> dict:
    queue: mp.Queue = mp.Queue()
    groups = [vus[i::processes] for i in range(processes)]
    procs = [mp.Process(target=_vu_worker, args=(kind, g, client_state, seconds, queue)) for g in groups if g]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for lat, _ in results for x in lat]
    errors = [e for _, errs in results for e in errs]
    return {"vus": len(vus), "completed": len(latencies), "errors": len(errors),
            "error_samples": sorted(set(errors))[:5], "seconds": seconds,
            "per_second": round(len(latencies) / seconds, 2), **latency_summary(latencies)}


def _argon2_worker(params: dict, seconds: float, out: mp.Queue) -> None:
    from argon2 import PasswordHasher, Type

    ph = PasswordHasher(time_cost=params["time_cost"], memory_cost=params["memory_cost"],
                        parallelism=params["parallelism"], type=Type.ID)
    encoded = ph.hash(PASSWORD)
    count = 0
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        ph.verify(encoded, PASSWORD)
        latencies.append(time.perf_counter() - t0)
        count += 1
    out.put(latencies)


def argon2_baseline(params: dict, seconds: float, processes: int) -> dict:
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_argon2_worker, args=(params, seconds, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r]
    return {"processes": processes, "hashes": len(latencies), "seconds": seconds,
            "per_second": round(len(latencies) / seconds, 2), **latency_summary(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vus", type=int, nargs="+", default=[4, 16], help="virtual users per login run")
    parser.add_argument("--endpoint-vus", type=int, default=16, help="VUs for the token/userinfo/jwks runs")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the VUs")
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--server-threads", type=int, default=8)
    args = parser.parse_args()
    persons = person_count()
    if persons == 0:
        sys.exit("benchmark database is empty: run benchmarks/bench_bulk_load.py first")
    max_vus = max([*args.vus, args.endpoint_vus])
    if max_vus > BENCH_ACCOUNTS:
        sys.exit(f"at most {BENCH_ACCOUNTS} virtual users")
    setup_django()
    from django.contrib.auth.hashers import get_hasher
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)  # additive: a database seeded before identity

    hasher = get_hasher("default")  # the project's argon2id hasher (core/hashers.py)
    params = {"time_cost": hasher.time_cost, "memory_cost": hasher.memory_cost, "parallelism": hasher.parallelism}
    accounts = ensure_accounts(BENCH_ACCOUNTS)
    client_state = ensure_client()
    from django.db import connections

    connections.close_all()

    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "popid.wsgi:application", "-k", "gthread",
         "-w", str(args.server_workers), "--threads", str(args.server_threads), "-b", f"{HOST}:{PORT}",
         "--log-level", "warning"],
        env={**popid_env(), "POPID_LOG_LEVEL": "WARNING", "POPID_SECURE_COOKIES": "0"},
    )
    results: dict = {}
    try:
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
                conn.request("GET", "/oidc/jwks")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        client = _load_client(client_state)
        t0 = time.perf_counter()
        vus = []
        for account in accounts[:max_vus]:  # new device: password + OTP, consent; keep the device cookie
            browser = Browser()
            login_flow(browser, client, account, otp_for=account["phone"])
            vus.append({**account, "device": browser.cookies["popid_device"]})
        results["warmup_seconds"] = round(time.perf_counter() - t0, 1)
        run_load("flow", vus[:max(args.vus)], client_state, 3, args.processes)  # warm the workers
        results["logins"] = [run_load("flow", vus[:n], client_state, args.seconds, min(args.processes, n))
                             for n in args.vus]
        ev = vus[:args.endpoint_vus]
        procs = min(args.processes, len(ev))
        results["token_refresh"] = run_load("refresh", ev, client_state, args.seconds, procs)
        results["userinfo"] = run_load("userinfo", ev, client_state, args.seconds, procs)
        results["jwks_baseline"] = run_load("jwks", ev, client_state, args.seconds, procs)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    results["argon2id_baseline"] = argon2_baseline(params, args.seconds, args.server_workers)
    hashes = results["argon2id_baseline"]["per_second"]
    jwks = results["jwks_baseline"]["per_second"]
    write_result("oidc", {
        "persons_in_database": persons, "server": f"gunicorn gthread {args.server_workers} workers x "
        f"{args.server_threads} threads", "client_processes": args.processes, "argon2id_parameters": params,
        "scopes": SCOPES, **results,
        "ratio_flows_vs_argon2id": {str(r["vus"]): round(r["per_second"] / hashes, 3) for r in results["logins"]},
        "ratio_token_refresh_vs_jwks": round(results["token_refresh"]["per_second"] / jwks, 3),
        "ratio_userinfo_vs_jwks": round(results["userinfo"]["per_second"] / jwks, 3),
    })


if __name__ == "__main__":
    main()
