"""``popid.deploy.granian``: the packaged server's command line from the environment, and the
settings it refuses before any worker starts (issue #18: Granian chosen by measurement)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from popid.deploy import granian


def _value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_the_documented_environment_becomes_granians_command_line():
    argv = granian.command({"POPID_BIND": "127.0.0.1:8000", "POPID_WEB_WORKERS": "5", "POPID_WEB_THREADS": "4",
                            "POPID_LOG_LEVEL": "INFO"})
    assert argv[0].endswith("/granian") and argv[-1] == "popid.wsgi:application"
    assert _value(argv, "--interface") == "wsgi"
    assert (_value(argv, "--host"), _value(argv, "--port")) == ("127.0.0.1", "8000")
    assert (_value(argv, "--workers"), _value(argv, "--blocking-threads")) == ("5", "4")
    assert _value(argv, "--log-level") == "info" and "--no-access-log" in argv  # paths hold ID numbers
    assert "--respawn-failed-workers" in argv


def test_a_unix_socket_an_ipv6_address_and_extra_arguments():
    assert _value(granian.command({"POPID_BIND": "unix:/run/popid/web.sock"}), "--uds") == "/run/popid/web.sock"
    assert _value(granian.command({"POPID_BIND": "[::1]:8000"}), "--host") == "::1"
    argv = granian.command({}, ["--workers", "2"])
    assert argv[-3:] == ["--workers", "2", "popid.wsgi:application"]  # last one wins


@pytest.mark.parametrize(("name", "value", "message"), [
    ("POPID_BIND", "127.0.0.1:8000,127.0.0.1:8001", "one address"),
    ("POPID_BIND", "localhost", "not host:port"),
    ("POPID_BIND", "127.0.0.1:http", "not host:port"),
    ("POPID_WEB_WORKERS", "many", "not a whole number"),
    ("POPID_WEB_WORKERS", "0", "outside"),
    ("POPID_WEB_THREADS", "-2", "outside"),
    ("POPID_WEB_MAX_RSS", "10", "outside"),
])
def test_bad_settings_are_refused_with_the_setting_named(name, value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        granian.command({name: value})
    assert name in str(caught.value)


def test_prepare_starts_a_fresh_metrics_directory(tmp_path, settings):
    stale = tmp_path / "prometheus" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    environ = {"POPID_DATA_DIR": str(tmp_path), "POPID_WEB_WORKERS": "1"}
    args = granian.prepare(environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "prometheus")
    assert (tmp_path / "prometheus").is_dir() and not stale.exists()
    # Granian's own lines go through Django's logging configuration (JSON, personal-data filter)
    assert args == ["--log-config", str(tmp_path / "granian-logging.json")]
    written = json.loads((tmp_path / "granian-logging.json").read_text())
    assert written == json.loads(json.dumps(settings.LOGGING))
    assert "personal_data" in written["handlers"]["console"]["filters"]


def test_prepare_refuses_several_workers_on_a_process_local_cache(tmp_path, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(ImproperlyConfigured, match="process-local cache"):
        granian.prepare({"POPID_DATA_DIR": str(tmp_path), "POPID_WEB_WORKERS": "3"})
    granian.prepare({"POPID_DATA_DIR": str(tmp_path), "POPID_WEB_WORKERS": "1"})  # one process: fine
