"""The production server from the repository (issue #12): ``popid check --deploy`` is clean with
the documented production environment, and ``popid serve`` (Granian, or gunicorn with the
packaged configuration; several processes) answers /healthz and aggregates their metrics."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Subprocesses on their own SQLite file: independent of the suite's database, so run once (SQLite pass).
pytestmark = pytest.mark.skipif(os.environ.get("POPID_DATABASE_URL", "").startswith("postgres"),
                                reason="engine-independent: runs in the SQLite pass")


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("POPID_") and k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "PROMETHEUS_MULTIPROC_DIR"}}
    for line in (ROOT / "deploy" / "popid.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env.update({"PYTHONPATH": str(ROOT / "src"), "POPID_DATA_DIR": str(tmp_path),
                "POPID_DATABASE_URL": f"sqlite:///{tmp_path / 'popid.sqlite3'}",
                "POPID_SECRET_KEY": "k" * 10 + "-production-secret-key-with-enough-entropy-0123456789",
                "POPID_METRICS_TOKEN": "metrics-token-0123456789abcdef"})
    env.pop("POPID_REDIS_URL", None)  # the check does not connect; the serve test has no Redis need
    return env


def popid(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from popid.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=180, **kwargs)


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = popid("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # and it is not clean by accident: without the metrics token it warns
    env = production_env(tmp_path)
    env.pop("POPID_METRICS_TOKEN")
    warned = popid("check", "--deploy", env=env)
    assert "popid.W001" in warned.stdout + warned.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_popid_serve_runs_several_processes_with_aggregated_metrics(tmp_path, server_name):
    env = production_env(tmp_path)
    port = _free_port()
    env.update({"POPID_BIND": f"127.0.0.1:{port}", "POPID_WEB_WORKERS": "2", "POPID_WEB_THREADS": "2",
                "POPID_SSL_REDIRECT": "0", "POPID_ALLOWED_HOSTS": "127.0.0.1"})
    if server_name == "gunicorn":
        env["POPID_WEB_SERVER"] = "gunicorn"  # Granian is the default
    assert popid("migrate", "--noinput", env=env).returncode == 0
    server = subprocess.Popen([sys.executable, "-c", "from popid.cli import main; main()", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, status = time.monotonic() + 90, 0
        while time.monotonic() < deadline and status != 200:
            try:
                status, _body = _get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                time.sleep(0.3)
        assert status == 200
        for _ in range(20):
            assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 403  # token configured: loopback is not enough
        status, body = _get(f"http://127.0.0.1:{port}/metrics", env["POPID_METRICS_TOKEN"])
        assert status == 200
        served = re.search(r'popid_http_requests_total\{method="GET",status="2xx",view="healthz"\} (\d+)', body)
        assert served and int(float(served.group(1))) >= 21  # every process's count, not one worker's
        assert (tmp_path / "prometheus").is_dir() and any((tmp_path / "prometheus").iterdir())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    if server_name == "granian":  # its own lines are JSON like the application's (POPID_LOG_FORMAT=json)
        records = [json.loads(line) for line in server.stderr.read().splitlines() if line.startswith("{")]
        assert any(r["logger"].startswith("_granian") and "Listening at" in r["message"] for r in records)


def test_popid_serve_refuses_an_unknown_server_or_a_bad_setting_before_starting(tmp_path):
    env = production_env(tmp_path)
    env["POPID_WEB_SERVER"] = "apache"
    result = popid("serve", env=env)
    assert result.returncode != 0 and "POPID_WEB_SERVER" in result.stderr
    env = production_env(tmp_path)
    env["POPID_WEB_WORKERS"] = "many"
    result = popid("serve", env=env)
    assert result.returncode != 0 and "POPID_WEB_WORKERS='many' is not a whole number" in result.stderr
