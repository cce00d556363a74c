"""Redis as the shared cache, and Redis down (issue #12 faults): the web tier serves on, rate
limits and lockouts start afresh, /readyz names the cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.test import Client

from popid.core import tasks
from tests.conftest import bearer, redis_test_url

RESILIENT = "popid.core.redis_cache.ResilientRedisCache"


def _redis_caches(location: str) -> dict:
    return {"default": {"BACKEND": RESILIENT, "LOCATION": location, "KEY_PREFIX": "popid-ops-test",
                        "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}}}


@pytest.fixture
def redis_up(settings):
    settings.CACHES = _redis_caches(redis_test_url(7))
    cache.set("probe", 1, 5)
    if cache.get("probe") != 1:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture
def redis_down(settings):
    settings.CACHES = _redis_caches("redis://127.0.0.1:1/0")  # nothing listens on port 1
    yield caches["default"]


def test_redis_cache_shares_counters(redis_up):
    assert redis_up.add("hits", 0, 60) and redis_up.incr("hits") == 1 and redis_up.incr("hits", 5) == 6
    assert redis_up.get_many(["hits", "none"]) == {"hits": 6}
    assert redis_up.delete("hits") and redis_up.get("hits", "gone") == "gone"


def test_counting_in_a_window_is_one_pipelined_round_trip_with_an_expiry(redis_up):
    assert [redis_up.count_in_window("minute", 60) for _ in range(3)] == [1, 2, 3]
    assert redis_up.incr("minute") == 4  # the same counter the other cache calls see
    client = redis_up._cache.get_client(write=True)
    assert 0 < client.ttl(redis_up.make_and_validate_key("minute")) <= 60  # set by the first event only
    redis_up.delete("minute")
    assert redis_up.count_in_window("minute", 60) == 1  # a new window


def test_redis_down_a_window_counts_afresh(redis_down):
    assert redis_down.count_in_window("minute", 60) == 1


def test_redis_down_reads_miss_writes_drop_and_incr_reports_a_missing_key(redis_down):
    assert redis_down.get("x", "default") == "default" and redis_down.get_many(["x"]) == {}
    redis_down.set("x", 1)
    assert redis_down.add("x", 1) is False and redis_down.has_key("x") is False
    with pytest.raises(ValueError):
        redis_down.incr("x")


def test_redis_down_the_web_tier_serves_and_readyz_names_the_cache(redis_down, family, officer_hoan_kiem,
                                                                     client):
    tasks.beat("worker-1")
    api = Client(headers=bearer(officer_hoan_kiem))
    assert api.get(f"/api/v1/persons/{family['an'].id_number}").status_code == 200
    console = Client()
    console.force_login(officer_hoan_kiem)
    assert console.get(f"/persons/{family['an'].id_number}/").status_code == 200
    refused = client.post("/login/", {"username": "cb.hoankiem", "password": "wrong-password-1"})
    assert refused.status_code == 200  # the form's error, not a 500
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["failing"] == ["cache"]
    assert client.get("/healthz").status_code == 200


def test_agency_rate_limit_counts_on_redis_and_refuses_past_the_limit(redis_up, db):
    from popid.exchange import throttle
    from popid.exchange.errors import Throttled
    from tests.exchange.test_exchange_services import make_bank

    agency, _subsystem, _key = make_bank(rate=2)
    now = 1_800_000_010.0  # a fixed minute
    throttle.check_rate(agency, now=now)
    throttle.check_rate(agency, now=now + 1)
    with pytest.raises(Throttled) as refused:
        throttle.check_rate(agency, now=now + 2)
    assert refused.value.retry_after >= 1
    throttle.check_rate(agency, now=now + 60)  # the next minute starts afresh
