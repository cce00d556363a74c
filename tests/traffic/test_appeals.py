"""Appeals: the owner contests an unpaid decision with an attachment; payment waits; an officer
of the unit upholds or cancels; a cancelled decision is never paid and deducts no points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from popid.core.access import Actor
from popid.traffic import services
from popid.traffic.models import Appeal, AppealState, DecisionState
from tests.services.test_services_payments import citizen_login, make_account
from tests.traffic.conftest import JPEG, ingest

PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture
def setting(vehicles, family, officer_hoan_kiem):
    owner = make_account(family["an"])
    detection = ingest()
    officer = Actor.for_user(officer_hoan_kiem)
    decision = services.confirm_detection(actor=officer, pk=detection.pk, amount=4_000_000, reason="Ảnh rõ")
    return {"owner": owner, "decision": decision, "officer": officer}


def test_appeal_with_attachment_blocks_payment_and_cancel_closes(setting, client, officer_hoan_kiem):
    decision = setting["decision"]
    citizen_login(client, setting["owner"])
    response = client.post(reverse("traffic:file_appeal", args=[decision.number]),
                           {"reason": "Xe đã bán trước ngày vi phạm",
                            "attachment": SimpleUploadedFile("hop-dong.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.attachment.read() == PDF and appeal.due_on == timezone.localdate() + timedelta(days=30)
    with pytest.raises(services.AppealNotAllowed):
        services.start_fine_payment(number=decision.number, plate=decision.plate_key, return_url="http://x/ORDER_ID",
                                    callback_url="http://127.0.0.1:9/")
    client.force_login(officer_hoan_kiem)
    assert decision.number.encode() in client.get(reverse("traffic:queue")).content
    assert client.post(reverse("traffic:decide_appeal", args=[appeal.pk]),
                       {"answer": "Có hợp đồng mua bán", "outcome": "cancel"}).status_code == 302
    decision.refresh_from_db()
    appeal.refresh_from_db()
    assert decision.state == DecisionState.CANCELLED and appeal.state == AppealState.CANCELLED
    with pytest.raises(services.AppealNotAllowed):
        services.start_fine_payment(number=decision.number, plate=decision.plate_key, return_url="http://x/ORDER_ID",
                                    callback_url="http://127.0.0.1:9/")


def test_upheld_appeal_lets_the_owner_pay(setting):
    decision = setting["decision"]
    appeal = services.file_appeal(account=setting["owner"], number=decision.number, reason="Không phải xe tôi")
    services.decide_appeal(actor=setting["officer"], pk=appeal.pk, cancel=False, answer="Ảnh rõ biển số")
    payment, _url = services.start_fine_payment(number=decision.number, plate=decision.plate_key,
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    assert payment.amount == 4_000_000


@pytest.mark.parametrize(("reason", "attachment", "error"), [
    ("", None, services.ValidationFailed),
    ("Lý do", services.IncomingImage("x.exe", b"MZ\x90\x00binary"), services.InvalidEvidence),
    ("Lý do", services.IncomingImage("big.jpg", JPEG + b"\x00" * services.MAX_IMAGE_BYTES), services.InvalidEvidence),
])
def test_bad_appeals_are_refused(setting, reason, attachment, error):
    with pytest.raises(error):
        services.file_appeal(account=setting["owner"], number=setting["decision"].number, reason=reason,
                             attachment=attachment)
    assert not Appeal.objects.exists()


def test_officer_outside_the_unit_cannot_decide(setting, officer_hcm):
    appeal = services.file_appeal(account=setting["owner"], number=setting["decision"].number, reason="x")
    with pytest.raises(services.DecisionNotFound):
        services.decide_appeal(actor=Actor.for_user(officer_hcm), pk=appeal.pk, cancel=True, answer="x")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.PENDING


def test_second_pending_appeal_is_refused(setting):
    services.file_appeal(account=setting["owner"], number=setting["decision"].number, reason="x")
    with pytest.raises(services.AppealNotAllowed):
        services.file_appeal(account=setting["owner"], number=setting["decision"].number, reason="y")


def test_fine_paid_after_cancellation_on_appeal_is_refunded(setting, client):
    """The owner opened the bank page, then appealed; the appeal cancels the decision; the bank's
    payment arrives afterwards: recorded, no points, refunded in full, shown to the owner."""
    from popid.documents.models import DrivingLicence
    from popid.services.models import Refund
    from popid.services.payments.sandbox import SandboxGateway, notice_for

    decision = setting["decision"]
    payment, _url = services.start_fine_payment(number=decision.number, plate=decision.plate_key,
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    appeal = services.file_appeal(account=setting["owner"], number=decision.number, reason="Xe đã bán")
    services.decide_appeal(actor=setting["officer"], pk=appeal.pk, cancel=True, answer="Có hợp đồng mua bán")
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    services.process_fine_notice(notice.body, notice.signature)
    decision.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert decision.state == DecisionState.CANCELLED and not decision.deducted_licence
    assert refund.state == "refunded" and refund.amount == payment.amount and "khiếu nại" in refund.reason
    assert DrivingLicence.objects.get(person=decision.owner).points == 12
    citizen_login(client, setting["owner"])
    assert payment.order_id in client.get(reverse("traffic:my_fines")).content.decode()
