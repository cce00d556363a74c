"""Refunds through the gateway: a fee paid for a submission that never became a dossier, or paid
twice, goes back in full, once, with a signed answer checked like any notice and a record the
citizen sees; a refund of an unpaid payment or a forged refund notice changes nothing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from popid.services import submissions
from popid.services.errors import NoticeForged, PaymentOrderNotFound, RefundNotAllowed
from popid.services.models import Dossier, Payment, Refund, SandboxCharge, Submission
from popid.services.payments import ledger
from popid.services.payments.sandbox import SandboxGateway, notice_for, sign
from tests.services.test_services_payments import citizen_login, make_account, post_notice, started


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the generated HMAC secret of this test only


@pytest.fixture
def an_account(family):
    return make_account(family["an"])


@pytest.fixture
def an_client(client, an_account):
    citizen_login(client, an_account)
    return client


def _paid_but_not_submitted(an_account, monkeypatch) -> tuple[Submission, Payment]:
    submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)

    def broken(submission):
        raise RuntimeError("procedure withdrawn after payment")

    monkeypatch.setattr(submissions, "_submit", broken)
    notice = notice_for(charge)
    submissions.process_notice(notice.body, notice.signature)
    submission.refresh_from_db()
    payment.refresh_from_db()
    assert submission.state == "paid" and payment.state == "paid" and submission.dossier is None
    return submission, payment


def test_paid_submission_that_never_becomes_a_dossier_is_refunded(an_account, an_client, monkeypatch):
    submission, payment = _paid_but_not_submitted(an_account, monkeypatch)
    report = submissions.reconcile()  # paid just now: keep trying, no refund yet
    assert report.still_pending == 1 and report.refunded == 0 and not Refund.objects.exists()
    later = timezone.now() + submissions.REFUND_AFTER + timedelta(minutes=1)
    report = submissions.reconcile(now=later)
    assert report.refunded == 1
    refund = Refund.objects.get()
    submission.refresh_from_db()
    assert refund.payment == payment and refund.state == "refunded" and refund.amount == payment.amount
    assert submission.state == "abandoned" and not Dossier.objects.exists()
    charge = SandboxCharge.objects.get(order_id=payment.order_id)
    assert charge.refund_id == refund.refund_id and charge.refund_reference == refund.gateway_reference
    # the citizen sees it
    page = an_client.get("/dich-vu-cong/ho-so/")
    assert page.status_code == 200 and 'id="refunds"' in page.content.decode()
    assert payment.order_id in page.content.decode()
    # idempotent: again changes nothing, the bank is not asked to pay twice
    assert submissions.reconcile(now=later).refunded == 0
    assert ledger.refund_payment(payment, reason="x", requested_by="test").pk == refund.pk
    assert Refund.objects.count() == 1


def test_fee_paid_twice_is_refunded_once(an_account):
    submission, first = started(an_account)
    second = Payment.objects.create(order_id="DVCSECOND0001", purpose="dossier_fee", submission=submission,
                                    amount=first.amount, gateway="sandbox")
    SandboxCharge.objects.create(order_id=second.order_id, amount=second.amount, description="x", return_url="x",
                                 callback_url="x")
    for order in (first, second):
        notice = notice_for(SandboxGateway.decide(order.order_id, paid=True))
        submissions.process_notice(notice.body, notice.signature)
    assert Dossier.objects.count() == 1
    refund = Refund.objects.get()
    assert refund.payment == second and refund.state == "refunded"
    assert Payment.objects.filter(state="paid").count() == 2  # money taken is recorded, then given back


def test_refund_of_an_unpaid_payment_is_refused(an_account):
    _submission, payment = started(an_account)
    with pytest.raises(RefundNotAllowed):
        ledger.refund_payment(payment, reason="x", requested_by="test")
    with pytest.raises(RefundNotAllowed):  # the bank refuses too
        SandboxGateway().refund(order_id=payment.order_id, refund_id="RF1", amount=payment.amount)
    assert not Refund.objects.exists()


def test_sandbox_refund_is_idempotent_and_full_only(an_account, monkeypatch):
    _submission, payment = _paid_but_not_submitted(an_account, monkeypatch)
    gateway = SandboxGateway()
    with pytest.raises(RefundNotAllowed):
        gateway.refund(order_id=payment.order_id, refund_id="RFPART", amount=payment.amount - 1)
    first = json.loads(gateway.refund(order_id=payment.order_id, refund_id="RFA", amount=payment.amount).body)
    again = json.loads(gateway.refund(order_id=payment.order_id, refund_id="RFA", amount=payment.amount).body)
    assert first["reference"] == again["reference"] and first["status"] == "refunded"
    with pytest.raises(RefundNotAllowed):
        gateway.refund(order_id=payment.order_id, refund_id="RFB", amount=payment.amount)


def test_forged_or_unknown_refund_notice_changes_nothing(an_account, an_client, monkeypatch):
    _submission, payment = _paid_but_not_submitted(an_account, monkeypatch)
    body = json.dumps({"order_id": payment.order_id, "amount": payment.amount, "currency": "VND",
                       "status": "refunded", "refund_id": "RFFORGED", "reference": "X", "timestamp": int(time.time()),
                       "nonce": "r" * 32}).encode()
    with pytest.raises(NoticeForged):
        submissions.process_notice(body, "0" * 64)
    with pytest.raises(PaymentOrderNotFound):  # signed, but no refund was asked for
        submissions.process_notice(body, sign(body))
    assert post_notice(an_client, body, "0" * 64).status_code == 401
    assert not Refund.objects.exists()
