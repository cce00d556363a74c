"""Officer review and decision (jurisdiction, amount inside the range, PDF with a signed QR), the
owner's notice (portal + SMS), payment by decision number and plate through the sandbox gateway
with signed callbacks, and the licence points deducted once."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from popid.core.access import Actor
from popid.core.messaging import read_outbox
from popid.core.models import AccessRecord
from popid.documents.models import DrivingLicence
from popid.services.models import Payment, Refund, SandboxCharge
from popid.services.payments.sandbox import SIGNATURE_HEADER, SandboxGateway, notice_for, sign
from popid.traffic import decision_pdf, services
from popid.traffic.models import Decision, DecisionState, Detection, DetectionState, FineNotice, FinePayment
from tests.conftest import HCM_COMMUNE
from tests.services.test_services_payments import citizen_login, make_account
from tests.traffic.conftest import ingest

CALLBACK = "/api/v1/traffic/payments/callback"


@pytest.fixture
def officer(officer_hoan_kiem) -> Actor:
    return Actor.for_user(officer_hoan_kiem)


@pytest.fixture
def decided(vehicles, officer, django_capture_on_commit_callbacks) -> Decision:
    make_account(vehicles["moto"].owner)
    detection = ingest()
    with django_capture_on_commit_callbacks(execute=True):  # the SMS leaves after the commit
        return services.confirm_detection(actor=officer, pk=detection.pk, amount=5_000_000, reason="Ảnh rõ, đèn đỏ")


def test_officer_confirms_and_the_owner_is_notified(decided, vehicles):
    assert decided.amount == 5_000_000 and decided.points == 4 and decided.owner == vehicles["moto"].owner
    assert decided.due_on == timezone.localdate() + timedelta(days=10)
    assert decided.legal_ref == "điểm c khoản 7 Điều 7 Nghị định 168/2024/NĐ-CP"
    assert Detection.objects.get().state == DetectionState.CONFIRMED
    assert FineNotice.objects.filter(decision=decided).count() == 1
    sms = read_outbox("0912345678")
    assert len(sms) == 1 and decided.number in sms[0]["text"]
    assert AccessRecord.objects.filter(person_id_number=decided.owner.id_number, channel="console").exists()


@pytest.mark.parametrize("amount", [3_999_999, 6_000_001, 0])
def test_amount_outside_the_range_is_refused_and_changes_nothing(vehicles, officer, amount):
    detection = ingest()
    with pytest.raises(services.AmountOutOfRange):
        services.confirm_detection(actor=officer, pk=detection.pk, amount=amount, reason="x")
    detection.refresh_from_db()
    assert detection.state == DetectionState.PENDING and not Decision.objects.exists()


def test_officer_outside_the_unit_cannot_decide_or_see(vehicles, officer_hcm, client):
    detection = ingest()
    with pytest.raises(services.DetectionNotFound):
        services.confirm_detection(actor=Actor.for_user(officer_hcm), pk=detection.pk, amount=5_000_000, reason="x")
    client.force_login(officer_hcm)
    assert client.get(reverse("traffic:detection", args=[detection.pk])).status_code == 404
    assert b"29-B1" not in client.get(reverse("traffic:queue")).content
    assert not Decision.objects.exists()


def test_hcm_detection_is_in_the_hcm_queue(vehicles, officer_hcm, client):
    ingest(commune_code=HCM_COMMUNE)
    client.force_login(officer_hcm)
    assert b"29-B1 123.45" in client.get(reverse("traffic:queue")).content


def test_reject_needs_a_reason(vehicles, officer):
    detection = ingest()
    with pytest.raises(services.ValidationFailed):
        services.reject_detection(actor=officer, pk=detection.pk, reason=" ")
    rejected = services.reject_detection(actor=officer, pk=detection.pk, reason="Biển số bị che, không rõ")
    assert rejected.state == DetectionState.REJECTED
    with pytest.raises(services.InvalidDetectionState):
        services.confirm_detection(actor=officer, pk=detection.pk, amount=5_000_000, reason="x")


def test_manual_queue_detection_needs_the_plate_read_by_the_officer(vehicles, officer):
    detection = ingest("29-B1 ??3.45")
    assert detection.state == DetectionState.MANUAL
    with pytest.raises(services.ValidationFailed):
        services.confirm_detection(actor=officer, pk=detection.pk, amount=5_000_000, reason="x", plate="88C-999.99")
    decision = services.confirm_detection(actor=officer, pk=detection.pk, amount=4_000_000, reason="Đọc lại",
                                          plate="29B1 12345")
    assert decision.vehicle == vehicles["moto"] and decision.plate_display == "29-B1 123.45"


def test_console_pages_review_confirm_and_pdf(vehicles, officer_hoan_kiem, client):
    detection = ingest()
    client.force_login(officer_hoan_kiem)
    page = client.get(reverse("traffic:detection", args=[detection.pk]))
    assert page.status_code == 200 and "Nguyễn Văn An".encode() in page.content
    image = detection.images.get()
    assert client.get(reverse("traffic:officer_image", args=[detection.pk, image.pk])).status_code == 200
    bad = client.post(reverse("traffic:detection", args=[detection.pk]),
                      {"action": "confirm", "amount": "100", "reason": "x"})
    assert bad.status_code == 422 and not Decision.objects.exists()
    ok = client.post(reverse("traffic:detection", args=[detection.pk]),
                     {"action": "confirm", "amount": "4500000", "reason": "Ảnh rõ"})
    assert ok.status_code == 302
    pdf = client.get(reverse("traffic:officer_pdf", args=[detection.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"/ByteRange" in pdf.content


def test_decision_qr_token_verifies_and_forgery_fails(decided, client):
    token = decision_pdf.token_for(decided)
    assert decision_pdf.verify(token).genuine
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert decision_pdf.verify(tampered).status == "invalid"
    assert client.get(reverse("traffic:verify", args=[token])).status_code == 200
    Decision.objects.filter(pk=decided.pk).update(amount=4_000_000)
    assert decision_pdf.verify(token).status == "revoked"


def test_late_charge_is_computed_on_read(decided):
    late_day = decided.due_on + timedelta(days=4)
    assert decided.late_charge(late_day) == round(5_000_000 * 0.0005 * 4) == 10_000
    assert decided.amount_due(late_day) == 5_010_000 and decided.late_charge(decided.due_on) == 0


def test_citizen_sees_the_fine_with_its_image(decided, client, vehicles):
    account = decided.owner.identity_accounts.get()
    citizen_login(client, account)
    page = client.get(reverse("traffic:my_fines"))
    assert page.status_code == 200 and decided.number.encode() in page.content
    image = decided.detection.images.get()
    assert client.get(reverse("traffic:my_image", args=[decided.number, image.pk])).status_code == 200
    assert FineNotice.objects.get(decision=decided).read_at is not None


def test_someone_else_sees_no_fine(decided, client, family):
    other = make_account(family["binh"])
    citizen_login(client, other)
    assert decided.number.encode() not in client.get(reverse("traffic:my_fines")).content
    image = decided.detection.images.get()
    assert client.get(reverse("traffic:my_image", args=[decided.number, image.pk])).status_code == 404


# --- payment -----------------------------------------------------------------------------------------
def _pay(client, decision: Decision, plate: str):
    return client.post(reverse("traffic:pay"), {"number": decision.number, "plate": plate, "action": "pay"})


def _bank_pays(order_id: str):
    charge = SandboxGateway.decide(order_id, paid=True)
    return notice_for(charge)


def test_anyone_with_number_and_plate_pays_and_points_are_deducted(decided, client, vehicles):
    lookup = client.get(reverse("traffic:pay"), {"number": decided.number, "plate": "29b1-12345"})
    assert lookup.status_code == 200 and b'id="amount-due"' in lookup.content, lookup.content.decode()[-3000:]
    assert decided.owner.full_name.encode() not in lookup.content and decided.owner.id_number.encode() not in \
        lookup.content
    response = _pay(client, decided, "29-B1 123.45")
    assert response.status_code == 302
    payment = FinePayment.objects.get().payment
    assert payment.purpose == "traffic_fine" and payment.amount == 5_000_000
    assert response["Location"] == f"/dich-vu-cong/ngan-hang-thu-nghiem/{payment.order_id}/"
    notice = _bank_pays(payment.order_id)
    callback = client.post(CALLBACK, notice.body, content_type="application/json",
                           headers={SIGNATURE_HEADER: notice.signature})
    assert callback.status_code == 200 and callback.json()["state"] == "paid"
    decided.refresh_from_db()
    assert decided.state == DecisionState.PAID and decided.paid_amount == 5_000_000
    licence = DrivingLicence.objects.get(number=vehicles["licence"].number)
    assert licence.points == 8 and decided.deducted_licence == licence.number
    # the wallet credential made from the licence now carries the new points
    from popid.core.access import AccessContext
    from popid.identity.auth import citizen_actor
    from popid.wallet.claims import build

    account = decided.owner.identity_accounts.get()
    ctx = AccessContext(actor=citizen_actor(account), purpose="Ví giấy tờ", channel="wallet")
    claims = build(ctx=ctx, person=decided.owner, config_id="giay_phep_lai_xe", document_ref=licence.number)
    assert claims.disclosable["licence_points"] == 8
    # the return page shows the outcome
    back = client.get(reverse("traffic:payment_return", args=[payment.order_id]))
    assert back.status_code == 200 and decided.number.encode() in back.content


def _second_order(decision: Decision, amount: int, order_id: str) -> Payment:
    """A second order opened before the first was paid (e.g. two browser tabs)."""
    second = Payment.objects.create(order_id=order_id, purpose="traffic_fine", amount=amount, gateway="sandbox")
    FinePayment.objects.create(payment=second, decision=decision)
    SandboxCharge.objects.create(order_id=order_id, amount=amount, description="x", return_url="x", callback_url="x")
    return second


def test_paying_twice_deducts_once_and_refunds_the_second(decided, client, vehicles):
    first, _url = services.start_fine_payment(number=decided.number, plate="29B112345", return_url="http://x/ORDER_ID",
                                              callback_url="http://127.0.0.1:9/")
    paid = _bank_pays(first.order_id)
    services.process_fine_notice(paid.body, paid.signature)
    with pytest.raises(services.DecisionAlreadyPaid):
        services.start_fine_payment(number=decided.number, plate="29B112345", return_url="http://x/ORDER_ID",
                                    callback_url="http://127.0.0.1:9/")
    # a second order opened before the first was paid, paid afterwards: recorded, no second
    # deduction, the money goes back through the gateway with a record the owner sees
    second = _second_order(decided, first.amount, "TFDUPLICATE1")
    duplicate = _bank_pays(second.order_id)
    services.process_fine_notice(duplicate.body, duplicate.signature)
    assert DrivingLicence.objects.get(number=vehicles["licence"].number).points == 8
    second.refresh_from_db()
    refund = Refund.objects.get(payment=second)
    assert second.state == "paid" and refund.state == "refunded" and refund.amount == first.amount
    assert SandboxCharge.objects.get(order_id=second.order_id).refund_id == refund.refund_id
    assert not Refund.objects.filter(payment=first).exists()
    # asking again is the same refund: nothing is given back twice
    from popid.services.payments import ledger

    assert ledger.refund_payment(second, reason="x", requested_by="test").pk == refund.pk
    assert Refund.objects.count() == 1
    citizen_login(client, decided.owner.identity_accounts.get())
    page = client.get(reverse("traffic:my_fines")).content.decode()
    assert 'class="refund"' in page and second.order_id in page


def test_forged_or_replayed_callback_changes_nothing(decided, client, vehicles):
    payment, _url = services.start_fine_payment(number=decided.number, plate="29B112345",
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    body = json.dumps({"order_id": payment.order_id, "amount": payment.amount, "currency": "VND", "status": "paid",
                       "reference": "FAKE", "timestamp": int(time.time()), "nonce": "n" * 32}).encode()
    forged = client.post(CALLBACK, body, content_type="application/json", headers={SIGNATURE_HEADER: "0" * 64})
    assert forged.status_code in {400, 401, 403} and forged.json()["code"] == "payment_signature_invalid"
    wrong_amount = json.dumps({**json.loads(body), "amount": 1}).encode()
    refused = client.post(CALLBACK, wrong_amount, content_type="application/json",
                          headers={SIGNATURE_HEADER: sign(wrong_amount)})
    assert refused.status_code == 422 and "amount" in refused.json()["code"]
    decided.refresh_from_db()
    assert decided.state == DecisionState.UNPAID
    assert DrivingLicence.objects.get(number=vehicles["licence"].number).points == 12
    notice = _bank_pays(payment.order_id)
    assert client.post(CALLBACK, notice.body, content_type="application/json",
                       headers={SIGNATURE_HEADER: notice.signature}).status_code == 200
    replay = client.post(CALLBACK, notice.body, content_type="application/json",
                         headers={SIGNATURE_HEADER: notice.signature})
    assert replay.status_code == 409 and replay.json()["code"] == "payment_notice_replayed"
    assert DrivingLicence.objects.get(number=vehicles["licence"].number).points == 8


@pytest.mark.parametrize("plate", ["30A-678.90", "29-B1 123.46", "garbage"])
def test_wrong_plate_finds_nothing(decided, client, plate):
    response = client.get(reverse("traffic:pay"), {"number": decided.number, "plate": plate})
    assert response.status_code == 404 and b'id="amount-due"' not in response.content
    assert _pay(client, decided, plate).status_code == 404 and not FinePayment.objects.exists()
    assert not Payment.objects.exists()


def test_statistics_by_week_commune_and_violation_with_csv(decided, client, officer_hoan_kiem, officer_hcm, vehicles):
    payment, _url = services.start_fine_payment(number=decided.number, plate="29B112345",
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    paid = _bank_pays(payment.order_id)
    services.process_fine_notice(paid.body, paid.signature)
    ingest(plate="30A-678.90", kind="car", code="C06-09B", device_id="CAM-2")
    client.force_login(officer_hoan_kiem)
    page = client.get(reverse("traffic:statistics"))
    assert page.status_code == 200
    html = page.content.decode()
    for chart in ("weekly-chart", "commune-chart", "violation-chart"):
        assert f'id="{chart}"' in html and "<svg" in html.split(f'id="{chart}"')[1].split("</section>")[0]
    assert "Phường Hoàn Kiếm" in html and "100,0%" in html  # names, not codes; one paid of one decision (vi)
    lines = client.get(reverse("traffic:statistics"), {"format": "csv"}).content.decode().splitlines()
    assert lines[0].startswith("week,commune_code,violation_code")
    rows = {line.split(",")[2]: line.split(",")[3:] for line in lines[1:]}
    assert rows["M07-07C"][:6] == ["1", "1", "1", "5000000", "4", "100.0"]
    assert rows["C06-09B"][:6] == ["1", "0", "0", "0", "0", ""] and "Hoàn Kiếm" in rows["C06-09B"][6]
    client.force_login(officer_hcm)  # another province: nothing of Hoàn Kiếm
    assert client.get(reverse("traffic:statistics"), {"format": "csv"}).content.decode().count("\n") == 1


def test_callback_that_is_not_json_is_a_problem_not_a_crash(client, db):
    response = client.post(CALLBACK, {"order_id": "x"})
    assert response.status_code == 400 and response.json()["code"] == "payment_notice_malformed"


def test_reconcile_recovers_a_lost_callback_and_refunds_the_duplicate(decided, vehicles):
    from io import StringIO

    from django.core.management import call_command

    payment, _url = services.start_fine_payment(number=decided.number, plate="29B112345",
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    SandboxGateway.decide(payment.order_id, paid=True)  # the bank took the money; its callback never arrived
    duplicate = _second_order(decided, payment.amount, "TFDUPLICATE2")
    SandboxGateway.decide(duplicate.order_id, paid=True)
    out = StringIO()
    call_command("traffic", "reconcile", stdout=out)
    assert "queried=2 recorded_paid=2 still_pending=0 refunds=1" in out.getvalue()  # money taken: paid, then refunded
    assert "refund: TFDUPLICATE2" in out.getvalue()
    assert Refund.objects.get().state == "refunded"
    decided.refresh_from_db()
    assert decided.state == DecisionState.PAID
    assert DrivingLicence.objects.get(number=vehicles["licence"].number).points == 8
    out = StringIO()
    call_command("traffic", "reconcile", stdout=out)  # running again applies nothing twice
    assert "queried=0 recorded_paid=0" in out.getvalue()
