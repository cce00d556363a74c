"""Attacks on the detection and payment paths the other tests do not cover: a detection signed
with a key the subsystem never registered, a token tampered with, a replayed detection with
altered content, stale, cross-endpoint and replayed payment notices, a replayed refund notice.
Each is refused (or answered with the original) and changes nothing."""

from __future__ import annotations

import json
import time

import pytest
from joserfc.jwk import ECKey

from popid.documents.models import DrivingLicence
from popid.services.models import PaymentNotice, Refund
from popid.services.payments import ledger
from popid.services.payments.sandbox import SIGNATURE_HEADER, SandboxGateway, notice_for, sign
from popid.traffic import services
from popid.traffic.models import Decision, DecisionState, Detection
from tests.exchange.test_exchange_api import client_assertion, token_request
from tests.traffic.conftest import detection_body, make_camera_agency, post_detection

TRAFFIC_CALLBACK = "/api/v1/traffic/payments/callback"
SERVICES_CALLBACK = "/api/v1/services/payments/callback"


def test_detection_signed_with_an_unregistered_key_gets_no_token(client, vehicles):
    subsystem, _key = make_camera_agency()
    intruder = ECKey.generate_key("P-256", parameters={"kid": "csgt-1", "alg": "ES256"}, private=True)
    response = token_request(client, subsystem.client.client_id, client_assertion(subsystem.client.client_id,
                                                                                  intruder))
    assert response.status_code in {400, 401} and "access_token" not in response.json()
    assert not Detection.objects.exists()


def test_tampered_token_is_refused(client, vehicles, camera_token):
    head, payload, signature = camera_token.split(".") if camera_token.count(".") == 2 else (camera_token, "", "")
    tampered = f"{head}.{payload}.{signature[:-2]}AA" if payload else camera_token[:-2] + "AA"
    assert post_detection(client, tampered, detection_body()).status_code == 401
    assert not Detection.objects.exists()


def test_replayed_detection_with_altered_content_keeps_the_original(client, vehicles, camera_token):
    original = detection_body()
    first = post_detection(client, camera_token, original)
    assert first.status_code == 201
    altered = post_detection(client, camera_token, {**original, "plate": "29B1-12345", "violation_code": "M07-01A",
                                                    "latitude": "10.77", "longitude": "106.70"})
    assert altered.status_code == 200 and altered.json()["id"] == first.json()["id"]
    stored = Detection.objects.get()
    assert stored.violation_code == "M07-07C" and str(stored.latitude) == "21.02880"


@pytest.fixture
def decided(vehicles, officer_hoan_kiem):
    from popid.core.access import Actor
    from tests.traffic.conftest import ingest

    return services.confirm_detection(actor=Actor.for_user(officer_hoan_kiem), pk=ingest().pk, amount=5_000_000,
                                      reason="Ảnh rõ")


def _open(decision: Decision):
    payment, _url = services.start_fine_payment(number=decision.number, plate=decision.plate_key,
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    return payment


def _post(client, url: str, body: bytes, signature: str):
    return client.post(url, body, content_type="application/json", headers={SIGNATURE_HEADER: signature})


def test_stale_notice_is_refused(client, decided):
    payment = _open(decided)
    SandboxGateway.decide(payment.order_id, paid=True)
    old = int(time.time()) - 600
    stale = notice_for(SandboxGateway.decide(payment.order_id, paid=True), timestamp=old)
    response = _post(client, TRAFFIC_CALLBACK, stale.body, stale.signature)
    assert response.status_code == 400 and response.json()["code"] == "payment_notice_stale"
    decided.refresh_from_db()
    assert decided.state == DecisionState.UNPAID and not PaymentNotice.objects.exists()


def test_fine_notice_on_the_services_callback_is_applied_once_by_the_shared_ledger(client, decided, vehicles):
    payment = _open(decided)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    assert _post(client, SERVICES_CALLBACK, notice.body, notice.signature).status_code == 200
    replay = _post(client, TRAFFIC_CALLBACK, notice.body, notice.signature)
    assert replay.status_code == 409 and replay.json()["code"] == "payment_notice_replayed"
    decided.refresh_from_db()
    assert decided.state == DecisionState.PAID
    assert DrivingLicence.objects.get(number=vehicles["licence"].number).points == 8


def test_notice_for_another_amount_or_unknown_order_is_refused(client, decided):
    payment = _open(decided)
    base = {"order_id": payment.order_id, "amount": payment.amount, "currency": "VND", "status": "paid",
            "reference": "R", "timestamp": int(time.time()), "nonce": "a" * 32}
    for changes, code in [({"amount": payment.amount - 1}, "payment_amount_mismatch"),
                          ({"currency": "USD"}, "payment_amount_mismatch"),
                          ({"order_id": "TFNOSUCHORDER"}, "payment_order_not_found"),
                          ({"status": "refunded"}, "payment_notice_malformed")]:
        body = json.dumps({**base, **changes}).encode()
        response = _post(client, TRAFFIC_CALLBACK, body, sign(body))
        assert response.json()["code"] == code, changes
    decided.refresh_from_db()
    assert decided.state == DecisionState.UNPAID and not PaymentNotice.objects.exists()


def test_replayed_refund_notice_is_refused(client, decided):
    first = _open(decided)
    paid = notice_for(SandboxGateway.decide(first.order_id, paid=True))
    services.process_fine_notice(paid.body, paid.signature)
    from popid.services.models import Payment
    from popid.traffic.models import FinePayment

    second = Payment.objects.create(order_id="TFSECOND00001", purpose="traffic_fine", amount=first.amount,
                                    gateway="sandbox")
    FinePayment.objects.create(payment=second, decision=decided)
    from popid.services.models import SandboxCharge

    SandboxCharge.objects.create(order_id=second.order_id, amount=second.amount, description="x", return_url="x",
                                 callback_url="x")
    duplicate = notice_for(SandboxGateway.decide(second.order_id, paid=True))
    services.process_fine_notice(duplicate.body, duplicate.signature)
    refund = Refund.objects.get()
    answer = SandboxGateway().refund(order_id=second.order_id, refund_id=refund.refund_id, amount=refund.amount)
    services.process_fine_notice(answer.body, answer.signature)  # a later copy: applied, changes nothing
    replay = _post(client, TRAFFIC_CALLBACK, answer.body, answer.signature)
    assert replay.status_code == 409 and replay.json()["code"] == "payment_notice_replayed"
    refund.refresh_from_db()
    assert refund.state == "refunded" and Refund.objects.count() == 1
    assert ledger.send_refund(refund).state == "refunded"
