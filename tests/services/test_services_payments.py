"""Payments for online dossiers through the sandbox gateway: signed callbacks, every forged or
replayed notice refused with nothing changed, idempotent submissions, and crash safety — an
exception at the boundary between recording the payment and submitting, a failing submission, and
a really killed process — reconciled to exactly one dossier and one payment."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client

from popid.identity.models import CitizenAccount, Guardianship
from popid.services import dossiers, submissions
from popid.services.calendar import LOCAL_TZ, add_working_days, working_days_between
from popid.services.errors import NoticeForged, TransitionNotAllowed
from popid.services.models import (
    Dossier,
    Notification,
    Payment,
    PaymentNotice,
    PaymentState,
    Submission,
    SubmissionState,
)
from popid.services.payments import secret as payment_secret
from popid.services.payments.sandbox import SIGNATURE_HEADER, SandboxGateway, notice_for, sign
from tests.conftest import HOAN_KIEM

PDF = b"%PDF-1.4\n% test\n"
API = "/api/v1/services"
CALLBACK = f"{API}/payments/callback"
ROOT = Path(__file__).resolve().parents[2]


def make_account(person, *, level: int = 1) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-thu-nghiem-1")
    return CitizenAccount.objects.create(user=user, person=person, level=level, phone="0912345678")


def citizen_login(client, account: CitizenAccount) -> None:
    client.force_login(account.user)
    session = client.session
    session["popid_acr"] = "level-2" if account.level == 2 else "level-1"
    session.save()


def temp_data(**overrides):
    start = date.today()
    data = {"commune_code": HOAN_KIEM, "address": "5 Hàng Gai", "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=365)).isoformat(), "reason": "Đi làm"}
    data.update(overrides)
    return data


def proof() -> list[dossiers.IncomingFile]:
    return [dossiers.IncomingFile("proof_of_residence", "hop-dong.pdf", PDF, "application/pdf")]


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


def started(account, key: str = "k-1") -> tuple[Submission, Payment]:
    submission, _created = submissions.prepare_submission(account=account, procedure_code="temporary_residence",
                                                          data=temp_data(), attachments=proof(), idempotency_key=key)
    payment, url = submissions.start_payment(account=account, public_id=submission.public_id,
                                             return_url="http://testserver/dich-vu-cong/thanh-toan/ORDER_ID/ket-qua/",
                                             callback_url="http://127.0.0.1:9/unused")
    assert url == f"/dich-vu-cong/ngan-hang-thu-nghiem/{payment.order_id}/"
    return submission, payment


def post_notice(client, body: bytes, signature: str):
    return client.post(CALLBACK, body, content_type="application/json", headers={SIGNATURE_HEADER: signature})


def unchanged(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.state == PaymentState.PENDING and payment.paid_at is None
    assert not PaymentNotice.objects.exists() and not Dossier.objects.exists()
    assert Submission.objects.get().state == SubmissionState.AWAITING_PAYMENT


# --- the happy path ----------------------------------------------------------------------------
def test_signed_callback_marks_paid_and_submits_in_one_go(client, an_account):
    submission, payment = started(an_account)
    assert payment.amount == 7000 and submission.fee == 7000 and not Dossier.objects.exists()
    charge = SandboxGateway.decide(payment.order_id, paid=True)
    notice = notice_for(charge)
    response = post_notice(client, notice.body, notice.signature)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "paid" and body["dossier"]
    dossier = Dossier.objects.get()
    payment.refresh_from_db()
    submission.refresh_from_db()
    assert payment.state == "paid" and payment.dossier == dossier and payment.gateway_reference == charge.bank_reference
    assert submission.state == "submitted" and submission.dossier == dossier
    assert dossier.code == body["dossier"] and dossier.fee == 7000 and dossier.data["address"] == "5 Hàng Gai"
    assert [a.kind for a in dossier.attachments.all()] == ["proof_of_residence"]
    assert dossier.attachments.get().file.read() == PDF
    assert Notification.objects.filter(account=an_account, dossier=dossier, to_state="submitted").count() == 1


def test_free_procedure_is_submitted_without_payment(an_account):
    submission, created = submissions.prepare_submission(account=an_account, procedure_code="residence_confirmation",
                                                         data={"purpose": "Nhập học"})
    assert created and submission.state == "submitted" and submission.dossier is not None
    assert not Payment.objects.exists()


def test_declined_payment_leaves_submission_awaiting_and_a_new_attempt_can_pay(client, an_account):
    submission, payment = started(an_account)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=False))
    assert post_notice(client, notice.body, notice.signature).json()["state"] == "declined"
    submission.refresh_from_db()
    assert submission.state == "awaiting_payment" and not Dossier.objects.exists()
    second, _url = submissions.start_payment(account=an_account, public_id=submission.public_id,
                                            return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    assert second.order_id != payment.order_id
    notice = notice_for(SandboxGateway.decide(second.order_id, paid=True))
    assert post_notice(client, notice.body, notice.signature).json()["dossier"]
    assert Dossier.objects.count() == 1


def test_retried_callback_is_idempotent(client, an_account):
    _submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)
    for _attempt in range(3):  # the gateway re-sends with a new nonce each time
        notice = notice_for(charge)
        assert post_notice(client, notice.body, notice.signature).status_code == 200
    assert Dossier.objects.count() == 1 and Payment.objects.filter(state="paid").count() == 1
    assert PaymentNotice.objects.count() == 3


# --- forged, replayed, wrong --------------------------------------------------------------------
def test_forged_signature_is_refused_and_changes_nothing(client, an_account):
    _submission, payment = started(an_account)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    tampered = notice.body.replace(b'"amount":7000', b'"amount":1')
    for body, signature in [(notice.body, "0" * 64), (tampered, notice.signature), (notice.body, ""),
                            (notice.body, "é" * 64)]:
        response = post_notice(client, body, signature)
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] == "payment_signature_invalid"
    unchanged(payment)


def test_signature_with_another_secret_is_forged(an_account, settings):
    _submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)
    notice = notice_for(charge)
    settings.POPID_PAYMENT_SECRET = "another-secret"
    with pytest.raises(NoticeForged):
        submissions.process_notice(notice.body, notice.signature)
    unchanged(payment)


def test_wrong_amount_is_refused(client, an_account):
    _submission, payment = started(an_account)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True), amount=1000)
    response = post_notice(client, notice.body, notice.signature)
    assert response.status_code == 422 and response.json()["code"] == "payment_amount_mismatch"
    unchanged(payment)


def test_unknown_order_is_404(client, an_account):
    _submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)
    charge.order_id = "DVC000000UNKNOWN"
    notice = notice_for(charge)
    response = post_notice(client, notice.body, notice.signature)
    assert response.status_code == 404 and response.json()["code"] == "payment_order_not_found"
    unchanged(payment)


@pytest.mark.parametrize("age", [3600, -3600])
def test_stale_or_future_timestamp_is_refused(client, an_account, age):
    _submission, payment = started(an_account)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True), timestamp=int(time.time()) - age)
    response = post_notice(client, notice.body, notice.signature)
    assert response.status_code == 400 and response.json()["code"] == "payment_notice_stale"
    unchanged(payment)


def test_replayed_nonce_is_refused(client, an_account):
    _submission, payment = started(an_account)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    assert post_notice(client, notice.body, notice.signature).status_code == 200
    before = (Payment.objects.get().updated_at, PaymentNotice.objects.count())
    response = post_notice(client, notice.body, notice.signature)
    assert response.status_code == 409 and response.json()["code"] == "payment_notice_replayed"
    assert (Payment.objects.get().updated_at, PaymentNotice.objects.count()) == before
    assert Dossier.objects.count() == 1


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"order_id":"x","amount":true,"currency":"VND",'
                                  b'"status":"paid","timestamp":1,"nonce":"0123456789abcdef"}',
                                  b'{"order_id":"x","amount":1,"currency":"VND","status":"refunded",'
                                  b'"timestamp":1,"nonce":"0123456789abcdef"}'])
def test_malformed_but_signed_notice_is_400(client, an_account, body):
    _submission, payment = started(an_account)
    response = post_notice(client, body, sign(body))
    assert response.status_code == 400 and response.json()["code"] == "payment_notice_malformed"
    unchanged(payment)


# --- the secret ---------------------------------------------------------------------------------
def test_secret_is_generated_once_with_mode_600(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("POPID_PAYMENT_SECRET", raising=False)
    settings.POPID_PAYMENT_SECRET = ""
    first = payment_secret.callback_secret()
    path = tmp_path / payment_secret.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 48
    assert payment_secret.callback_secret() == first
    monkeypatch.setenv("POPID_PAYMENT_SECRET", "from-the-environment")
    assert payment_secret.callback_secret() == b"from-the-environment"


# --- idempotency --------------------------------------------------------------------------------
def test_same_idempotency_key_returns_the_same_submission_and_dossier(an_client, an_account):
    def post():
        return an_client.post(f"{API}/submissions", {
            "procedure": "temporary_residence", "data": json.dumps(temp_data()),
            "proof_of_residence": SimpleUploadedFile("hd.pdf", PDF, content_type="application/pdf")},
            headers={"Idempotency-Key": "form-123"})

    first, second = post(), post()
    assert (first.status_code, second.status_code) == (201, 200), first.content
    assert first.json()["id"] == second.json()["id"] and Submission.objects.count() == 1
    response = an_client.post(f"{API}/submissions/{first.json()['id']}/payment")
    assert response.status_code == 200, response.content
    order = response.json()
    assert order["amount"] == 7000 and order["redirect_url"].endswith(f"/ngan-hang-thu-nghiem/{order['order_id']}/")
    notice = notice_for(SandboxGateway.decide(order["order_id"], paid=True))
    assert post_notice(an_client, notice.body, notice.signature).status_code == 200
    third = post()
    assert third.status_code == 200 and third.json()["dossier"] == Dossier.objects.get().code
    assert Dossier.objects.count() == 1 and Payment.objects.count() == 1
    # paying again for a submitted form is refused
    assert an_client.post(f"{API}/submissions/{first.json()['id']}/payment").status_code == 409


# --- crash safety -------------------------------------------------------------------------------
def test_exception_at_the_boundary_rolls_back_then_reconcile_submits_once(an_account, monkeypatch):
    _submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)

    def crash(payment):
        raise RuntimeError("process died here")

    monkeypatch.setattr(submissions, "after_payment_recorded", crash)
    notice = notice_for(charge)
    response = Client(raise_request_exception=False).post(CALLBACK, notice.body, content_type="application/json",
                                                          headers={SIGNATURE_HEADER: notice.signature})
    assert response.status_code == 500
    unchanged(payment)  # one transaction: nothing half-written
    monkeypatch.undo()
    call_command("services", "reconcile")  # asks the gateway, records the payment, submits
    assert Dossier.objects.count() == 1 and Payment.objects.get().state == "paid"
    call_command("services", "reconcile")
    retry = notice_for(charge)  # the gateway's own retry arrives later
    assert Client().post(CALLBACK, retry.body, content_type="application/json",
                         headers={SIGNATURE_HEADER: retry.signature}).status_code == 200
    assert Dossier.objects.count() == 1 and Payment.objects.count() == 1
    assert Submission.objects.get().dossier == Dossier.objects.get() == Payment.objects.get().dossier


def test_failing_submission_keeps_the_payment_and_the_return_url_submits(an_client, an_account, monkeypatch):
    submission, payment = started(an_account)
    charge = SandboxGateway.decide(payment.order_id, paid=True)
    real_submit = submissions._submit

    def broken(submission):
        raise RuntimeError("database hiccup during submission")

    monkeypatch.setattr(submissions, "_submit", broken)
    notice = notice_for(charge)
    assert post_notice(an_client, notice.body, notice.signature).status_code == 200
    payment.refresh_from_db()
    submission.refresh_from_db()
    assert payment.state == "paid" and submission.state == "paid" and submission.dossier is None
    assert "hiccup" in submission.last_error and not Dossier.objects.exists()
    monkeypatch.setattr(submissions, "_submit", real_submit)
    response = an_client.get(f"/dich-vu-cong/thanh-toan/{payment.order_id}/ket-qua/")
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/ho-so/{dossier.code}/bien-nhan/")
    submission.refresh_from_db()
    assert submission.state == "submitted" and submission.last_error == ""
    report = submissions.reconcile()
    assert report.submitted == 0 and Dossier.objects.count() == 1 and Payment.objects.count() == 1


SCRIPT = """
import os, signal, sys
import django
django.setup()
from popid.services import submissions
from popid.services.models import SandboxCharge
from popid.services.payments.sandbox import notice_for

def die(payment):
    print("recorded", payment.order_id, payment.state, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

submissions.after_payment_recorded = die
notice = notice_for(SandboxCharge.objects.get(order_id=sys.argv[1]))
submissions.process_notice(notice.body, notice.signature)
print("not reached", flush=True)
"""


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{user}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_process_killed_between_recording_and_submission_loses_nothing(family, settings, tmp_path):
    account = make_account(family["an"])
    submission, payment = started(account)
    SandboxGateway.decide(payment.order_id, paid=True)
    secret = payment_secret.callback_secret().decode()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "popid.settings", "POPID_DATA_DIR": str(tmp_path),
           "POPID_DATABASE_URL": _database_url(), "POPID_PAYMENT_SECRET": secret, "POPID_DB_CONN_MAX_AGE": "0"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, payment.order_id], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr[-2000:]
    assert f"recorded {payment.order_id} paid" in result.stdout and "not reached" not in result.stdout
    payment.refresh_from_db()
    assert payment.state == "pending" and not Dossier.objects.exists()  # the killed transaction left nothing
    settings.POPID_PAYMENT_SECRET = secret
    report = submissions.reconcile()
    assert (report.queried, report.recorded_paid) == (1, 1)
    assert Dossier.objects.count() == 1 and Payment.objects.count() == 1
    submission.refresh_from_db()
    assert submission.state == "submitted" and Payment.objects.get().dossier == submission.dossier
    assert submissions.reconcile().submitted == 0 and Dossier.objects.count() == 1


# --- multipart API: bad input -------------------------------------------------------------------
def _multipart(client, *, data=None, files=None, procedure="temporary_residence"):
    body = {"procedure": procedure, "data": json.dumps(temp_data() if data is None else data)}
    body.update(files if files is not None else {
        "proof_of_residence": SimpleUploadedFile("hd.pdf", PDF, content_type="application/pdf")})
    return client.post(f"{API}/submissions", body)


def test_multipart_over_the_upload_cap_is_413_problem(an_client, settings):
    # multipart /api/ bodies are capped by POPID_MAX_UPLOAD_BYTES before parsing (core middleware)
    settings.POPID_MAX_UPLOAD_BYTES = 64 * 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (65 * 1024), content_type="application/pdf")
    response = _multipart(an_client, files={"proof_of_residence": big})
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert not Submission.objects.exists()


def test_attachment_over_the_procedure_limit_is_refused_by_the_procedure(an_client):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (5121 * 1024), content_type="application/pdf")
    response = _multipart(an_client, files={"proof_of_residence": big})
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    assert not Submission.objects.exists()


def test_binary_attachment_with_nul_bytes_goes_through_the_api(an_client):
    # a real PDF holds NUL bytes in its binary streams; only text fields are checked for NUL
    binary = SimpleUploadedFile("scan.pdf", PDF + b"stream\n\x00\x01\x02\x00\nendstream\n%%EOF\n",
                                content_type="application/pdf")
    response = _multipart(an_client, files={"proof_of_residence": binary})
    assert response.status_code == 201, response.content
    assert Submission.objects.count() == 1


def test_nul_in_a_multipart_text_field_is_refused(an_client):
    response = _multipart(an_client, data={**temp_data(), "note": "Sai\x00"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_characters"
    assert not Submission.objects.exists()


@pytest.mark.parametrize(("files", "field", "reason"), [
    ({"proof_of_residence": SimpleUploadedFile("x.pdf", b"MZ\x90not a pdf", content_type="application/pdf")},
     "attachments[0]", "file_type"),
    ({"proof_of_residence": SimpleUploadedFile("x.gif", b"GIF89a....", content_type="image/gif")},
     "attachments[0]", "file_type"),
    ({}, "attachments.proof_of_residence", "required"),
    ({"passport": SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")}, "attachments.passport",
     "unknown_kind"),
])
def test_multipart_attachment_errors(an_client, files, field, reason):
    response = _multipart(an_client, files=files)
    assert response.status_code == 422, response.content
    assert {"field": field, "reason": reason} in [{k: e[k] for k in ("field", "reason")}
                                                  for e in response.json()["errors"]]
    assert not Submission.objects.exists()


def test_multipart_missing_required_field(an_client):
    data = temp_data()
    del data["valid_until"]
    response = _multipart(an_client, data=data)
    assert response.status_code == 422
    assert "data.valid_until" in {e["field"] for e in response.json()["errors"]}
    assert not Submission.objects.exists()


def test_multipart_wrong_level_and_not_a_guardian(an_client, family, an_account):
    response = _multipart(an_client, procedure="permanent_residence", data={
        "commune_code": HOAN_KIEM, "valid_from": date.today().isoformat()})
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    khoi = make_account(family["khoi"])
    session = an_client.session
    session["popid_acting_for"] = khoi.pk  # not (yet) his guardian: acting_for() drops it
    session.save()
    response = _multipart(an_client)
    assert response.status_code == 201 and response.json()["data"]["id_number"] == family["an"].id_number
    with pytest.raises(dossiers.NotEntitled):
        submissions.prepare_submission(account=an_account, procedure_code="temporary_residence", data=temp_data(),
                                       attachments=proof(), on_behalf_of=khoi)
    assert Submission.objects.count() == 1


def test_guardian_submits_and_pays_for_a_ward(client, family, an_account):
    khoi = make_account(family["khoi"])
    Guardianship.objects.create(guardian=an_account, ward=khoi, kind="parent", valid_from=date(2018, 9, 2))
    submission, _created = submissions.prepare_submission(account=an_account, procedure_code="temporary_residence",
                                                          data=temp_data(), attachments=proof(), on_behalf_of=khoi)
    assert submission.data["id_number"] == family["khoi"].id_number
    payment, _url = submissions.start_payment(account=an_account, public_id=submission.public_id,
                                              return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    assert post_notice(client, notice.body, notice.signature).status_code == 200
    dossier = Dossier.objects.get()
    assert dossier.subject == family["khoi"] and dossier.on_behalf_of == khoi and dossier.applicant == an_account
    assert set(Notification.objects.values_list("account_id", flat=True)) == {an_account.pk, khoi.pk}


# --- the deadline stands still while a supplement is awaited -------------------------------------
def test_working_days_in_supplement_requested_extend_the_deadline(an_account, actor_hoan_kiem):
    # received Monday 2026-03-02 09:00 → 3 working days → Thursday 2026-03-05
    received = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL_TZ)
    dossier, _created = dossiers.submit_dossier(account=an_account, procedure_code="temporary_residence",
                                                data=temp_data(), attachments=proof(), now=received)
    assert dossier.deadline == date(2026, 3, 5)
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=dossier.code)
    dossier = dossiers.request_supplement(actor=actor_hoan_kiem, code=dossier.code, note="Thiếu hợp đồng")
    # requested Tuesday 3 March, answered the next Monday 9 March: Wed, Thu, Fri, Mon = 4 working days
    Dossier.objects.filter(pk=dossier.pk).update(supplement_requested_at=datetime(2026, 3, 3, 10, tzinfo=LOCAL_TZ))
    dossier.refresh_from_db()
    from popid.services import selectors

    status, left = selectors.deadline_status(dossier, today=date(2026, 3, 6))
    assert status == "paused" and left == working_days_between(date(2026, 3, 3), date(2026, 3, 5)) == 2
    assert selectors.projected_deadline(dossier, today=date(2026, 3, 9)) == add_working_days(date(2026, 3, 5), 4)
    assert dossiers.supplement_pause(dossier, datetime(2026, 3, 9, 15, tzinfo=LOCAL_TZ)) == 4
    assert dossiers.supplement_pause(dossier, datetime(2026, 3, 3, 16, tzinfo=LOCAL_TZ)) == 0  # same day
    pause = dossiers.supplement_pause(dossier, datetime.now(tz=LOCAL_TZ))
    answered = dossiers.answer_supplement(account=an_account, code=dossier.code, note="Đã bổ sung hợp đồng",
                                          attachments=proof())
    assert answered.state == "in_review" and answered.paused_working_days == pause
    assert answered.deadline == add_working_days(date(2026, 3, 5), pause) and answered.supplement_requested_at is None
    with pytest.raises(TransitionNotAllowed):  # answering twice is not a transition the workflow has
        dossiers.answer_supplement(account=an_account, code=dossier.code, note="lần nữa")
    assert Dossier.objects.get().paused_working_days == pause


@pytest.mark.django_db
def test_callback_that_is_not_json_is_a_problem_and_changes_nothing(client):
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain"):
        response = client.post(CALLBACK, b"", content_type=content_type, headers={SIGNATURE_HEADER: "x"})
        assert response.status_code == 400, content_type
        assert response["Content-Type"].startswith("application/problem+json")
    assert not Payment.objects.exists()


def test_payment_references_are_dated_in_vietnam_time(monkeypatch):
    """Issue #19 item 4: 23:30 UTC on 6 December is 06:30 on 7 December in Hà Nội; the reference
    carries the local date, as dossier codes do."""
    from datetime import UTC, datetime

    from django.utils import timezone

    from popid.services.payments.ledger import new_order_id

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    assert new_order_id("LP").startswith("LP261207")
