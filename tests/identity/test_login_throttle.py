"""Console login throttling: guessing slows down, the owner is never locked out."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db
PASSWORD = "Mat-khau-thu-nghiem-1"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(password: str, ip: str, username: str = "cb.hoankiem"):
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": username, "password": password})


def test_failures_from_one_address_delay_that_address_only(officer_hoan_kiem):
    for _ in range(4):
        assert attempt("sai-mat-khau", "203.0.113.9").status_code == 200
    blocked = attempt(PASSWORD, "203.0.113.9")
    assert blocked.status_code == 200
    assert "thử lại sau" in blocked.content.decode()
    # the officer at their own desk is not locked out by the attacker
    assert attempt(PASSWORD, "198.51.100.7").status_code == 302


def test_success_resets_the_counter(officer_hoan_kiem):
    for _ in range(3):
        attempt("sai-mat-khau", "198.51.100.7")
    assert attempt(PASSWORD, "198.51.100.7").status_code == 302
    for _ in range(3):
        attempt("sai-mat-khau", "198.51.100.7")
    assert attempt(PASSWORD, "198.51.100.7").status_code == 302


def test_password_spraying_from_one_address_is_capped(officer_hoan_kiem):
    from popid.core import throttle

    for i in range(throttle.IP_FAILURES_PER_WINDOW):
        throttle.record_failure(scope="console-login", account=f"user{i}", ip="203.0.113.50")
    response = attempt(PASSWORD, "203.0.113.50")
    assert response.status_code == 200 and "thử lại sau" in response.content.decode()
