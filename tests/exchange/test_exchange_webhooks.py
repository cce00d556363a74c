"""Event subscriptions and signed webhooks against a REAL local HTTP receiver (threaded
http.server): JWS verification with the published JWKS, only granted fields, retries with
exponential back-off, timeouts, dead letters and replay (issue #5)."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.exchange import webhooks
from popid.exchange.models import Delivery, DeliveryStatus, Grant, Subscription
from popid.registry import services as registry
from tests.exchange.test_exchange_api import CONTEXT, call, get_token
from tests.exchange.test_exchange_services import ADMIN, _clear_cache, make_bank, rc  # noqa: F401

HOAN_KIEM = "00070"


class Receiver:
    """A real HTTP endpoint on 127.0.0.1: ``mode`` is ok (204), error (503), slow (sleeps past
    the worker's timeout) or bad (400)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.bodies.append(body)
                receiver.headers.append(dict(self.headers))
                if receiver.mode == "slow":
                    time.sleep(1.5)
                code = {"ok": 204, "error": 503, "slow": 200, "bad": 400}[receiver.mode]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/popid"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = True  # the test receiver listens on 127.0.0.1


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def bank(db):
    return make_bank()


def subscribe(subsystem, url, events=("death", "residence_change")):
    return webhooks.subscribe(subsystem=subsystem, rc=rc(purpose="Cập nhật hồ sơ khách hàng"), url=url,
                              event_types=list(events))


def die(person, actor):
    registry.record_death(actor=actor, id_number=person.id_number, died_on=date(2026, 11, 1), reason="Khai tử")


def test_subscription_over_api_and_event_type_not_granted(client, bank, receiver):
    _agency, subsystem, key = bank
    token = get_token(client, subsystem, key)
    ok = call(client, token, "/subscriptions", {"context": CONTEXT, "url": receiver.url, "event_types": ["death"]})
    assert ok.status_code == 201 and ok.json()["event_types"] == ["death"]
    refused = call(client, token, "/subscriptions", {"context": CONTEXT, "url": receiver.url,
                                                     "event_types": ["death", "birth"]})
    assert refused.status_code == 403 and refused.json()["code"] == "event_not_granted"
    assert refused.json()["event_types"] == ["birth"]
    insecure = call(client, token, "/subscriptions", {"context": CONTEXT, "url": "http://evil.example/h",
                                                      "event_types": ["death"]})
    assert insecure.status_code == 422
    assert Subscription.objects.count() == 1


def test_signed_delivery_with_only_granted_fields(client, bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    subscribe(subsystem, receiver.url)
    die(family["grandma"], admin_actor)
    counts = webhooks.run_once(timeout=5)
    assert counts["dispatched"] == 1 and counts[DeliveryStatus.DELIVERED] == 1
    assert len(receiver.bodies) == 1 and receiver.headers[0]["Content-Type"] == "application/jwt"
    published = client.get("/api/v1/exchange/jwks").json()
    token = jwt.decode(receiver.bodies[0].decode(), KeySet.import_key_set(published), algorithms=["ES256"])
    assert token.header["typ"] == "popid-event+jwt"
    claims = token.claims
    assert claims["aud"] == subsystem.client.client_id and claims["event"]["type"] == "death"
    person = claims["person"]
    assert set(person) == {"id_number", "full_name", "birth_date", "life_status"}  # the events grant, nothing else
    assert person["life_status"] == {"status": "deceased", "died_on": "2026-11-01"}
    record = AccessRecord.objects.get(channel="exchange", person_id_number=family["grandma"].id_number)
    assert record.fields == ["birth_date", "full_name", "life_status"] and record.purpose == "Cập nhật hồ sơ khách hàng"
    # nothing left to send; the same event is not dispatched twice
    assert webhooks.run_once(timeout=5) == {"dispatched": 0}


def test_tampered_body_does_not_verify(client, bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    subscribe(subsystem, receiver.url)
    die(family["grandma"], admin_actor)
    webhooks.run_once(timeout=5)
    header, _payload, signature = receiver.bodies[0].decode().split(".")
    forged_claims = json.dumps({"person": {"id_number": family["an"].id_number}}).encode()
    forged = ".".join([header, base64.urlsafe_b64encode(forged_claims).rstrip(b"=").decode(), signature])
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, KeySet.import_key_set(client.get("/api/v1/exchange/jwks").json()), algorithms=["ES256"])


def test_sensitive_event_fields_only_with_consent(bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    Grant.objects.filter(subsystem=subsystem, service="events").update(fields=["full_name", "phone"])
    subscribe(subsystem, receiver.url)
    registry.change_current_residence(actor=admin_actor, id_number=family["an"].id_number,
                                      commune_code="00073", address="5 Phố Huế", valid_from=date(2026, 11, 2),
                                      reason="Chuyển chỗ ở")
    webhooks.run_once(timeout=5)
    claims = jwt.decode(receiver.bodies[0].decode(), KeySet.import_key_set(webhooks.keys.public_jwks("exchange")),
                        algorithms=["ES256"]).claims
    assert "phone" not in claims["person"] and claims["person"]["full_name"] == "Nguyễn Văn An"


def test_error_responses_are_retried_with_exponential_backoff_then_dead_letter_and_replay(
        client, bank, family, admin_actor, receiver, officer_hoan_kiem):
    _agency, subsystem, _key = bank
    subscribe(subsystem, receiver.url)
    die(family["grandma"], admin_actor)
    receiver.mode = "error"
    webhooks.dispatch()
    delivery = Delivery.objects.get()
    now = timezone.now()
    delays = []
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver_due(now=now, timeout=5)
        delivery.refresh_from_db()
        delays.append(round((delivery.next_attempt_at - now).total_seconds()))
        assert webhooks.deliver_due(now=now, timeout=5) == {}  # not due again before the back-off
        now = delivery.next_attempt_at
    assert delays[:4] == [30, 60, 120, 240]
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.last_status_code == 503 and delivery.last_error == "HTTP 503"
    assert len(receiver.bodies) == webhooks.MAX_ATTEMPTS
    assert not AccessRecord.objects.filter(channel="exchange").exists()  # nothing released yet
    # the dead-letter view of the console shows it to administrators only
    from tests.conftest import make_staff

    admin = make_staff("qt.he-thong", role="admin", level="nation", unit_name="Bộ Công an")
    client.force_login(officer_hoan_kiem)
    assert client.get("/chia-se/quan-tri/thu-loi/").status_code == 403
    client.force_login(admin)
    page = client.get("/chia-se/quan-tri/thu-loi/")
    assert page.status_code == 200 and f"#{delivery.outbox_event_id}".encode() in page.content
    # only an administrator may send it again: anyone else is refused and nothing changes
    supervisor = Actor(label="giamsat.toanquoc", role="supervisor", level="nation", unit_code="")
    with pytest.raises(PermissionDenied):
        webhooks.replay(actor=supervisor, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == webhooks.MAX_ATTEMPTS
    # replay after the receiver is fixed
    receiver.mode = "ok"
    assert client.post(f"/chia-se/quan-tri/thu-loi/{delivery.pk}/gui-lai/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert webhooks.deliver_due(timeout=5) == {DeliveryStatus.DELIVERED: 1}
    assert AccessRecord.objects.filter(channel="exchange").count() == 1


def test_receiver_timeout_is_a_failed_attempt(bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    subscribe(subsystem, receiver.url)
    die(family["grandma"], admin_actor)
    receiver.mode = "slow"
    started = time.monotonic()
    counts = webhooks.run_once(timeout=0.3)
    assert time.monotonic() - started < 1.4  # the worker did not wait for the slow receiver
    delivery = Delivery.objects.get()
    assert counts[DeliveryStatus.PENDING] == 1 and delivery.attempts == 1
    assert delivery.last_error.startswith("timeout") and delivery.last_status_code is None
    assert not AccessRecord.objects.filter(channel="exchange").exists()


def test_unreachable_receiver_is_a_failed_attempt(bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    url = receiver.url
    receiver.close()
    subscribe(subsystem, url)
    die(family["grandma"], admin_actor)
    webhooks.run_once(timeout=1)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error.startswith("connection failed")


def test_revoked_events_grant_stops_delivery_without_release(bank, family, admin_actor, receiver):
    _agency, subsystem, _key = bank
    subscribe(subsystem, receiver.url)
    die(family["grandma"], admin_actor)
    Grant.objects.filter(subsystem=subsystem, service="events").update(revoked_at=timezone.now())
    webhooks.run_once(timeout=5)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD and delivery.last_error.startswith("service_not_granted")
    assert receiver.bodies == [] and not AccessRecord.objects.filter(channel="exchange").exists()


def test_past_events_are_not_sent_to_new_subscriptions(bank, family, receiver):
    subscribe(bank[1], receiver.url)
    assert webhooks.run_once(timeout=5)["dispatched"] == 0  # the fixture's residence events predate it


def test_worker_command_once(bank, family, admin_actor, receiver, capsys):
    subscribe(bank[1], receiver.url)
    die(family["grandma"], admin_actor)
    call_command("exchange", "deliver", "--once", "--timeout", "5")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"dispatched": 1, "delivered": 1}


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/h", "https://127.0.0.1/h", "https://10.1.2.3/h",
                                 "https://[::1]/h", "https://169.254.169.254/latest", "ftp://bank.example/h"])
def test_internal_or_plain_http_receivers_are_refused_in_production(bank, settings, url):
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = False
    with pytest.raises(ValidationFailed):
        subscribe(bank[1], url)
    assert not Subscription.objects.exists()


def test_destination_rechecked_before_sending(bank, family, admin_actor, receiver, settings):
    subscribe(bank[1], receiver.url)
    die(family["grandma"], admin_actor)
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = False  # e.g. the name now resolves to an internal address
    webhooks.run_once(timeout=5)
    delivery = Delivery.objects.get()
    assert receiver.bodies == [] and delivery.last_error == "destination refused: internal address"


def test_backoff_is_capped():
    assert webhooks.backoff(1) == 30 and webhooks.backoff(2) == 60 and webhooks.backoff(30) == webhooks.MAX_DELAY
    assert timedelta(seconds=webhooks.MAX_DELAY) == timedelta(hours=6)


def test_merge_is_delivered_with_the_cancelled_number(client, bank, family, admin_actor, receiver):
    """``person.merged`` reaches agencies granted the ``merge`` event: the survivor is the
    delivery's person, the cancelled duplicate number rides in the event."""
    _agency, subsystem, _key = bank
    Grant.objects.filter(subsystem=subsystem, service="events").update(event_types=["death", "merge"])
    subscribe(subsystem, receiver.url, events=("merge",))
    an = family["an"]
    twin = registry.register_birth(
        actor=admin_actor, full_name="Nguyen Van An", birth_date=an.birth_date, sex="M", birth_place="Hà Nội",
        birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định", ethnicity_code="01",
        father_name="Nguyễn Văn Bình")
    an.refresh_from_db()
    twin.refresh_from_db()
    registry.merge_persons(actor=admin_actor, survivor_id_number=an.id_number, duplicate_id_number=twin.id_number,
                           survivor_version=an.version, duplicate_version=twin.version, reason="Hồ sơ trùng")
    counts = webhooks.run_once(timeout=5)
    assert counts[DeliveryStatus.DELIVERED] == 1 and len(receiver.bodies) == 1
    published = client.get("/api/v1/exchange/jwks").json()
    claims = jwt.decode(receiver.bodies[0].decode(), KeySet.import_key_set(published), algorithms=["ES256"]).claims
    assert claims["event"]["type"] == "merge" and claims["event"]["merged_id_number"] == twin.id_number
    assert claims["person"]["id_number"] == an.id_number
