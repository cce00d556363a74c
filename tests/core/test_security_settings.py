"""Issue #10 finding 6: HSTS and the trusted-proxy switch.

The settings module is loaded in a subprocess with the environment a deployment would set (it
reads the environment once, at import); the behaviour of a running server is checked with the
test client under ``override_settings``. Client-IP extraction is one helper (core.net.client_ip)
that the throttles, the login records and the OIDC logs share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from popid.core import net, throttle

SRC = str(Path(__file__).resolve().parents[2] / "src")
PRINT_SETTINGS = (
    "import json, popid.settings as s; print(json.dumps({"
    "'hsts': s.SECURE_HSTS_SECONDS, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'preload': s.SECURE_HSTS_PRELOAD,"
    "'proxy_ssl': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), 'hops': s.POPID_TRUSTED_PROXY_HOPS,"
    "'forwarded_host': s.USE_X_FORWARDED_HOST}))"
)


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POPID_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(POPID_DATA_DIR=str(tmp_path), PYTHONPATH=SRC + os.pathsep + clean.get("PYTHONPATH", ""), **env)
    return subprocess.run([sys.executable, "-c", PRINT_SETTINGS], env=clean, capture_output=True, text=True,
                          timeout=120, check=False)


def settings_with(tmp_path, **env: str) -> dict:
    done = load_settings(tmp_path, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("env", "expected"), [
    ({}, {"hsts": 31536000, "subdomains": True, "preload": False, "proxy_ssl": None, "hops": 0,
          "forwarded_host": False}),
    ({"POPID_DEBUG": "1"}, {"hsts": 0, "subdomains": False, "preload": False}),
    ({"POPID_HSTS_SECONDS": "600", "POPID_HSTS_INCLUDE_SUBDOMAINS": "0"}, {"hsts": 600, "subdomains": False}),
    ({"POPID_HSTS_PRELOAD": "1"}, {"hsts": 31536000, "subdomains": True, "preload": True}),
    ({"POPID_HSTS_SECONDS": "63072000", "POPID_HSTS_PRELOAD": "yes"}, {"hsts": 63072000, "preload": True}),
    ({"POPID_TRUSTED_PROXY": "1"}, {"proxy_ssl": ["HTTP_X_FORWARDED_PROTO", "https"], "hops": 1,
                                    "forwarded_host": False}),
    ({"POPID_TRUSTED_PROXY": "on"}, {"proxy_ssl": ["HTTP_X_FORWARDED_PROTO", "https"], "hops": 1}),
    ({"POPID_TRUSTED_PROXY": "2", "POPID_USE_X_FORWARDED_HOST": "1"}, {"hops": 2, "forwarded_host": True}),
    ({"POPID_TRUSTED_PROXY": "0"}, {"proxy_ssl": None, "hops": 0}),
])
def test_settings_from_environment(tmp_path, env, expected):
    loaded = settings_with(tmp_path, **env)
    assert {k: loaded[k] for k in expected} == expected


@pytest.mark.parametrize(("env", "message"), [
    ({"POPID_HSTS_PRELOAD": "1", "POPID_HSTS_SECONDS": "600"}, "POPID_HSTS_PRELOAD=1 needs"),
    ({"POPID_HSTS_PRELOAD": "1", "POPID_HSTS_INCLUDE_SUBDOMAINS": "0"}, "POPID_HSTS_PRELOAD=1 needs"),
    ({"POPID_HSTS_SECONDS": "-5"}, "POPID_HSTS_SECONDS='-5'"),
    ({"POPID_HSTS_SECONDS": "1y"}, "POPID_HSTS_SECONDS='1y'"),
    ({"POPID_HSTS_PRELOAD": "ja"}, "POPID_HSTS_PRELOAD='ja'"),
    ({"POPID_TRUSTED_PROXY": "maybe"}, "POPID_TRUSTED_PROXY='maybe'"),
    ({"POPID_USE_X_FORWARDED_HOST": "1"}, "POPID_USE_X_FORWARDED_HOST=1 needs POPID_TRUSTED_PROXY"),
])
def test_bad_security_settings_stop_the_server_with_a_clear_error(tmp_path, env, message):
    done = load_settings(tmp_path, **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr, done.stderr[-1000:]


# --- a running server --------------------------------------------------------------------------
@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
def test_hsts_is_sent_on_https_only(client, db):
    secure = client.get("/tai-khoan/dang-nhap/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    plain = client.get("/tai-khoan/dang-nhap/")
    assert "Strict-Transport-Security" not in plain


@override_settings(SECURE_HSTS_SECONDS=600, SECURE_HSTS_INCLUDE_SUBDOMAINS=False, SECURE_HSTS_PRELOAD=False)
def test_forwarded_proto_is_ignored_without_the_trusted_proxy(client, db):
    response = client.get("/tai-khoan/dang-nhap/", headers={"X-Forwarded-Proto": "https"})
    assert response.wsgi_request.is_secure() is False
    assert "Strict-Transport-Security" not in response


@override_settings(SECURE_HSTS_SECONDS=600, SECURE_HSTS_INCLUDE_SUBDOMAINS=False, SECURE_HSTS_PRELOAD=False,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), POPID_TRUSTED_PROXY_HOPS=1)
def test_forwarded_proto_from_the_trusted_proxy_makes_the_request_secure(client, db):
    response = client.get("/tai-khoan/dang-nhap/", headers={"X-Forwarded-Proto": "https"})
    assert response.wsgi_request.is_secure() is True
    assert response["Strict-Transport-Security"] == "max-age=600"
    plain = client.get("/tai-khoan/dang-nhap/", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain


# --- the client IP -----------------------------------------------------------------------------
def request_from(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_client_ip_ignores_forwarded_for_without_the_switch():
    with override_settings(POPID_TRUSTED_PROXY_HOPS=0):
        spoofed = request_from("203.0.113.5", "198.51.100.1")
        assert net.client_ip(spoofed) == "203.0.113.5"
        assert throttle.client_ip(spoofed) == "203.0.113.5"  # the throttles use the same helper
        assert net.client_ip(request_from("")) == "unknown"


@pytest.mark.parametrize(("hops", "remote", "forwarded", "expected"), [
    (1, "10.0.0.2", "203.0.113.9", "203.0.113.9"),
    (1, "10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client's own claim on the left: ignored
    (2, "10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
    (1, "10.0.0.2", None, "10.0.0.2"),  # not through the proxy (a health check): the socket peer
    (2, "10.0.0.3", "198.51.100.7", "10.0.0.3"),  # fewer entries than proxies: not trusted
    (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    (1, "10.0.0.2", "2001:DB8::1", "2001:db8::1"),
])
def test_client_ip_behind_trusted_proxies(hops, remote, forwarded, expected):
    with override_settings(POPID_TRUSTED_PROXY_HOPS=hops):
        request = request_from(remote, forwarded)
        assert net.client_ip(request) == expected
        assert throttle.client_ip(request) == expected


@override_settings(POPID_TRUSTED_PROXY_HOPS=1)
def test_login_record_keeps_the_forwarded_client_address(family):
    from importlib import import_module

    from django.conf import settings

    from popid.identity.auth import login_citizen
    from popid.identity.models import CitizenSession
    from tests.identity.test_oidc_flow import make_account

    account = make_account(family["an"])
    request = request_from("10.0.0.2", "6.6.6.6, 203.0.113.77")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login_citizen(request, account=account, amr=["pwd"])
    assert CitizenSession.objects.get(account=account).ip == "203.0.113.77"
