"""Fault (issue #12): the database restarting under load. ``popid serve`` (Granian, persistent
connections) serves API and console requests from 4 client threads while its PostgreSQL is
stopped (``pg_ctl stop -m fast``: sessions terminated, new connections refused) and started
again. During the outage every request fails clearly (503 + ``Retry-After``: problem JSON under
``/api/``, a plain page on the console; never a 500 or a traceback) and the server recovers by
itself once the database is back.

The database is a throwaway cluster of this test (``initdb`` in a temporary directory, its own
port), loaded with ``pg_dump`` of this test's database: the shared server on 5432 is not touched.
Needs PostgreSQL's server binaries (Debian ``postgresql-15``) and root (the cluster then runs as
``postgres``) or the ``postgres`` user."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from popid.core.auth import issue_staff_token
from tests.conftest import make_staff

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.environ.get("POPID_DATABASE_URL", "").startswith("postgres"),
                                 reason="restarts a PostgreSQL cluster: runs in the PostgreSQL pass")]


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(found[-1]).parent) if found else (str(Path(p).parent) if (p := shutil.which("initdb")) else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayCluster:
    def __init__(self, bindir: str) -> None:
        self.bin = Path(bindir)
        self.dir = Path(tempfile.mkdtemp(prefix="popid-pgfault-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, check=check)

    def init(self) -> None:
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()

    def start(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.dir / "log"),
                 "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop", check=False)

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root needs runuser to start the cluster as postgres")
    made = ThrowawayCluster(bindir)
    try:
        made.init()
    except subprocess.CalledProcessError as exc:
        made.remove()
        pytest.skip(f"cannot start a throwaway PostgreSQL cluster: {exc.stderr.strip()[:300]}")
    yield made
    made.remove()


def _copy_test_database(cluster: ThrowawayCluster) -> None:
    """This test's database (migrated, with the fixtures' committed rows) into the cluster."""
    db = connection.settings_dict
    source = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    subprocess.run([str(cluster.bin / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
                    "popid"], check=True, capture_output=True, timeout=60)
    dump = subprocess.run([str(cluster.bin / "pg_dump"), "--no-owner", "--no-privileges", "-d", source],
                          check=True, capture_output=True, timeout=300)
    subprocess.run([str(cluster.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.url("popid")],
                   input=dump.stdout, check=True, capture_output=True, timeout=300)


def _names_lowered(headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Header names are case-insensitive; Granian (hyper) sends them in lower case."""
    return {name.lower(): value for name, value in headers.items()}


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, _names_lowered(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, _names_lowered(exc.headers), exc.read().decode()
    except OSError as exc:  # the web server itself must not go away: recorded, then asserted on
        return -1, {}, repr(exc)


def test_the_database_restarting_under_load_gives_503s_then_recovers(cluster, family, tmp_path):
    officer = make_staff("cb.restart", role="officer", level="commune", unit_code="00070",
                         unit_name="Công an phường Hoàn Kiếm")
    token = issue_staff_token(user=officer, name="restart-test")
    browser = Client()
    browser.force_login(officer)
    session_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    _copy_test_database(cluster)

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POPID_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"PYTHONPATH": str(ROOT / "src"), "POPID_DATA_DIR": str(settings.DATA_DIR),
                "POPID_SECRET_KEY": settings.SECRET_KEY, "POPID_DATABASE_URL": cluster.url("popid"),
                "POPID_DB_CONN_MAX_AGE": "600", "POPID_BIND": f"127.0.0.1:{port}", "POPID_WEB_WORKERS": "2",
                "POPID_WEB_THREADS": "2", "POPID_ALLOWED_HOSTS": "127.0.0.1", "POPID_READYZ_REQUIRE_WORKER": "0",
                "POPID_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")})
    (tmp_path / "prometheus").mkdir()
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-c", "from popid.cli import main; main()", "serve"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    api = (f"{base}/api/v1/persons/{family['an'].id_number}", {"Authorization": f"Bearer {token}"}, "api")
    page = (f"{base}/", {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_cookie}"}, "page")
    ready = (f"{base}/readyz", {}, "readyz")
    results: list[tuple[float, str, int, dict[str, str], str]] = []
    stop = threading.Event()

    def client(targets) -> None:
        while not stop.is_set():
            for url, headers, kind in targets:
                status, response_headers, body = _get(url, headers)
                results.append((time.monotonic(), kind, status, response_headers, body))
            time.sleep(0.02)

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _get(*api[:2])[0] != 200:
            time.sleep(0.5)
        assert _get(*api[:2])[0] == 200, log_path.read_text()[-3000:]
        assert _get(*page[:2])[0] == 200
        threads = [threading.Thread(target=client, args=([api, page, ready] if i == 0 else [api, page],))
                   for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        stopped_at = time.monotonic()
        cluster.stop()  # fast shutdown: open sessions terminated, then connections refused
        time.sleep(4)
        started_at = time.monotonic()
        cluster.start()
        recovered_by = time.monotonic() + 60
        while time.monotonic() < recovered_by:
            recent = [r for r in results[-24:] if r[1] == "api"]
            if len(recent) >= 6 and all(r[2] == 200 for r in recent) and recent[0][0] > started_at:
                break
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads if "threads" in locals() else []:
            thread.join(timeout=30)
        alive = server.poll() is None
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    assert alive, "the web server died with its database"
    statuses = {r[2] for r in results}
    assert statuses <= {200, 503}, [(r[1], r[2], r[4][:200]) for r in results if r[2] not in {200, 503}][:5]
    outage = [r for r in results if stopped_at + 0.5 < r[0] < started_at]
    assert outage and all(r[2] == 503 for r in outage), "every request during the outage is a clear 503"
    for _at, kind, status, headers, body in results:
        if status != 503:
            continue
        assert "Traceback" not in body
        if kind == "api":
            problem = json.loads(body)
            assert headers["content-type"] == "application/problem+json"
            assert problem["status"] == 503 and problem["code"] == "database_unavailable"
            assert "OperationalError" not in body
            assert headers.get("retry-after") == "5"
        elif kind == "page":
            assert "text/html" in headers["content-type"] and "Hệ thống tạm thời gián đoạn" in body
            assert headers.get("retry-after") == "5"
        else:
            assert "database" in json.loads(body)["failing"]
    assert {r[1] for r in outage} == {"api", "page", "readyz"}
    after = [r for r in results if r[0] > started_at]
    last = [r for r in after if r[1] in {"api", "page"}][-8:]
    assert len(last) == 8 and all(r[2] == 200 for r in last), "requests succeed again after the restart"
    assert json.loads([r for r in after if r[1] == "api"][-1][4])["person"]["full_name"] == "Nguyễn Văn An"
    server_log = log_path.read_text()
    assert '"database unavailable' in server_log or "database unavailable" in server_log
