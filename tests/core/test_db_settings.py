"""PostgreSQL prepared statements from the environment (POPID_DB_PREPARE_THRESHOLD, issue #18):
the settings module loaded in a subprocess as a deployment would load it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.core.test_security_settings import SRC

PRINT = ("import json, popid.settings as s; d = s.DATABASES['default']; print(json.dumps("
         "[s.DB_PREPARE_THRESHOLD, d['ENGINE'].rsplit('.', 1)[-1], "
         "d.get('OPTIONS', {}).get('prepare_threshold', 'absent')]))")


def _load(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POPID_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(POPID_DATA_DIR=str(tmp_path), PYTHONPATH=SRC + os.pathsep + clean.get("PYTHONPATH", ""), **env)
    return subprocess.run([sys.executable, "-c", PRINT], env=clean, capture_output=True, text=True, timeout=120,
                          check=False)


PG = "postgres://popid@127.0.0.1:5432/popid"


@pytest.mark.parametrize(("env", "expected"), [
    ({"POPID_DATABASE_URL": PG}, [5, "postgresql", 5]),
    ({"POPID_DATABASE_URL": PG, "POPID_DB_PREPARE_THRESHOLD": "off"}, [None, "postgresql", None]),
    ({"POPID_DATABASE_URL": PG, "POPID_DB_PREPARE_THRESHOLD": "12"}, [12, "postgresql", 12]),
    ({}, [5, "sqlite3", "absent"]),  # SQLite has no such option
])
def test_prepared_statements_setting(tmp_path, env, expected):
    done = _load(tmp_path, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected


def test_a_bad_prepare_threshold_stops_the_server_with_a_clear_error(tmp_path):
    done = _load(tmp_path, POPID_DATABASE_URL=PG, POPID_DB_PREPARE_THRESHOLD="sometimes")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "POPID_DB_PREPARE_THRESHOLD" in done.stderr
