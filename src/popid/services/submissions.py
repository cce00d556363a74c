"""Online submission with a fee: save the form first, pay, then submit exactly once.

1. ``prepare_submission`` validates everything (entitlement, fields, attachments, receiving unit)
   and saves a ``Submission`` with its attachments and the citizen's Idempotency-Key; a free
   procedure is submitted in the same transaction.
2. ``start_payment`` opens a ``Payment`` (order id, the procedure's online fee in VND) with the
   gateway and returns the payer's page.
3. ``process_notice`` (the gateway callback, or the gateway's answer to ``query``) checks the
   signature, the timestamp (±5 minutes), the nonce (never seen before), the order and the amount,
   then in ONE transaction marks the payment paid and submits the dossier. The submission runs in
   a savepoint: if it fails, the payment stays paid and the submission waits in state ``paid`` —
   the only in-between state that can ever be committed, and a recoverable one.
4. ``reconcile`` (the citizen's return page, the next callback, ``popid services reconcile``) asks
   the gateway about pending payments and submits every paid submission that has no dossier;
   ``Submission.dossier`` is one-to-one, so a dossier is never created twice.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.identity.models import CitizenAccount
from popid.services import dossiers
from popid.services.errors import (
    NoticeReplayed,
    NoticeStale,
    PaymentAmountMismatch,
    PaymentNotExpected,
    PaymentOrderNotFound,
    SubmissionNotFound,
)
from popid.services.models import (
    Channel,
    Dossier,
    DossierAttachment,
    Payment,
    PaymentNotice,
    PaymentState,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)
from popid.services.payments.base import Gateway, Notice, get_gateway
from popid.services.procedures import get_procedure

logger = logging.getLogger(__name__)
NOTICE_MAX_AGE = timedelta(minutes=5)
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def after_payment_recorded(payment: Payment) -> None:
    """The boundary between recording a payment and submitting its dossier (a fault-injection
    point for the crash tests; does nothing in production)."""


# --- 1. save the form ---------------------------------------------------------------------------
def prepare_submission(
    *, account: CitizenAccount, procedure_code: str, data: dict[str, Any], idempotency_key: str = "",
    on_behalf_of: CitizenAccount | None = None, attachments: list[dossiers.IncomingFile] | None = None,
) -> tuple[Submission, bool]:
    """Validate and save the citizen's form; returns (submission, created). The same key from the
    same citizen returns the first submission (and so, later, the same dossier)."""

    def create(key: str) -> Submission:
        app = dossiers.check_application(account=account, procedure_code=procedure_code, data=data,
                                         on_behalf_of=on_behalf_of, attachments=attachments)
        fee = app.procedure.fee(Channel.ONLINE)
        submission = Submission.objects.create(
            public_id=secrets.token_urlsafe(16), applicant=account, on_behalf_of=app.on_behalf_of,
            procedure_code=app.procedure.code, data=app.data, fee=fee, idempotency_key=key,
            state=SubmissionState.AWAITING_PAYMENT if fee else SubmissionState.PAID)
        for item in app.files:
            attachment = SubmissionAttachment(submission=submission, kind=item.kind,
                                              original_name=item.name[:200], content_type=item.content_type,
                                              size=len(item.content))
            attachment.file.save(f"{secrets.token_hex(12)}.{EXTENSIONS[item.content_type]}",
                                 ContentFile(item.content), save=False)
            attachment.save()
        if not fee:  # free procedure: no payment step
            _submit(submission)
        return submission

    return dossiers.create_once(Submission, applicant=account, idempotency_key=idempotency_key,
                                procedure_code=procedure_code, create=create)


def own_submission(account: CitizenAccount, public_id: str) -> Submission:
    submission = Submission.objects.filter(public_id=public_id, applicant=account).first()
    if submission is None:
        raise SubmissionNotFound()
    return submission


@transaction.atomic
def abandon(*, account: CitizenAccount, public_id: str) -> Submission:
    """The citizen drops a submission before paying; a paid one can no longer be dropped."""
    submission = Submission.objects.select_for_update().filter(public_id=public_id, applicant=account).first()
    if submission is None:
        raise SubmissionNotFound()
    if submission.state != SubmissionState.AWAITING_PAYMENT or Payment.objects.filter(
            submission=submission, state=PaymentState.PAID).exists():
        raise PaymentNotExpected()
    submission.state = SubmissionState.ABANDONED
    submission.save(update_fields=["state", "updated_at"])
    return submission


# --- 2. pay -------------------------------------------------------------------------------------
def _order_id() -> str:
    return f"DVC{timezone.now():%y%m%d}{secrets.token_hex(6).upper()}"


def start_payment(*, account: CitizenAccount, public_id: str, return_url: str, callback_url: str,
                  gateway: Gateway | None = None) -> tuple[Payment, str]:
    """Open (or reuse the open) payment for the submission's fee; returns the payer's page."""
    gateway = gateway or get_gateway()
    with transaction.atomic():
        submission = (Submission.objects.select_for_update()
                      .filter(public_id=public_id, applicant=account).first())
        if submission is None:
            raise SubmissionNotFound()
        if submission.state != SubmissionState.AWAITING_PAYMENT:
            raise PaymentNotExpected()
        payment = (Payment.objects.filter(submission=submission, state=PaymentState.PENDING, gateway=gateway.name)
                   .order_by("-created_at").first())
        if payment is None:
            payment = Payment.objects.create(order_id=_order_id(), submission=submission, amount=submission.fee,
                                             channel=Channel.ONLINE, gateway=gateway.name)
    procedure = get_procedure(submission.procedure_code)
    url = gateway.start(order_id=payment.order_id, amount=payment.amount,
                        description=f"{_('Lệ phí')}: {procedure.name}",
                        return_url=return_url.replace("ORDER_ID", payment.order_id),
                        callback_url=callback_url)
    return payment, url


# --- 3. the gateway's notice ----------------------------------------------------------------------
def process_notice(body: bytes, signature: str, *, source: str = "callback", gateway: Gateway | None = None,
                   now: datetime | None = None) -> Payment:
    """Verify and apply a gateway notice; anything wrong raises before a row is written."""
    gateway = gateway or get_gateway()
    notice = gateway.verify(body, signature)
    now = now or timezone.now()
    if abs(now - notice.timestamp) > NOTICE_MAX_AGE:
        raise NoticeStale(field="timestamp")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(order_id=notice.order_id, gateway=gateway.name).first()
        if payment is None:
            raise PaymentOrderNotFound(field="order_id")
        if notice.amount != payment.amount or notice.currency != payment.currency:
            raise PaymentAmountMismatch(field="amount")
        try:
            with transaction.atomic():
                PaymentNotice.objects.create(nonce=notice.nonce, payment=payment, status=notice.status,
                                             source=source[:10], sent_at=notice.timestamp)
        except IntegrityError:
            raise NoticeReplayed(field="nonce") from None
        submission = Submission.objects.select_for_update().get(pk=payment.submission_id)
        _record(payment, submission, notice, now)
        after_payment_recorded(payment)
        _submit_in_savepoint(submission)
    return payment


def _record(payment: Payment, submission: Submission, notice: Notice, now: datetime) -> None:
    if notice.status == PaymentState.PAID and payment.state != PaymentState.PAID:
        # money taken is recorded whatever happened before (even after a decline or an abandon)
        payment.state, payment.paid_at, payment.gateway_reference = PaymentState.PAID, now, notice.reference
        payment.save(update_fields=["state", "paid_at", "gateway_reference", "updated_at"])
        if submission.dossier_id is None and submission.state != SubmissionState.PAID:
            submission.state = SubmissionState.PAID
            submission.save(update_fields=["state", "updated_at"])
    elif notice.status == PaymentState.DECLINED and payment.state == PaymentState.PENDING:
        payment.state, payment.declined_at = PaymentState.DECLINED, now
        payment.save(update_fields=["state", "declined_at", "updated_at"])


def _submit_in_savepoint(submission: Submission) -> None:
    if submission.state != SubmissionState.PAID or submission.dossier_id is not None:
        return
    try:
        with transaction.atomic():
            _submit(submission)
    except Exception as exc:
        logger.exception("submission %s paid but not submitted", submission.public_id)
        submission.refresh_from_db()
        Submission.objects.filter(pk=submission.pk).update(last_error=str(exc)[:500])


def _submit(submission: Submission) -> Dossier:
    """Create the dossier from a locked, paid (or free) submission; callers hold the transaction."""
    procedure = get_procedure(submission.procedure_code)
    applicant = submission.applicant
    subject = (submission.on_behalf_of or applicant).person
    dossier = dossiers.receive_dossier(
        procedure=procedure, subject=subject, applicant=applicant, on_behalf_of=submission.on_behalf_of,
        channel=Channel.ONLINE, data=submission.data, files=[], idempotency_key=submission.idempotency_key,
        actor_label=applicant.id_number, actor_unit=_("Công dân"))
    for item in submission.attachments.all():
        DossierAttachment.objects.create(dossier=dossier, kind=item.kind, file=item.file.name,
                                         original_name=item.original_name, content_type=item.content_type,
                                         size=item.size)
    submission.dossier, submission.state = dossier, SubmissionState.SUBMITTED
    submission.submitted_at, submission.last_error = timezone.now(), ""
    submission.save(update_fields=["dossier", "state", "submitted_at", "last_error", "updated_at"])
    Payment.objects.filter(submission=submission, state=PaymentState.PAID).update(dossier=dossier)
    return dossier


# --- 4. reconcile -------------------------------------------------------------------------------
def submit_paid(submission_pk: int) -> Dossier | None:
    """Submit a paid submission that has no dossier yet; a no-op for any other state."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_pk)
        if submission.dossier_id is not None:
            return submission.dossier
        if submission.state != SubmissionState.PAID:
            return None
        return _submit(submission)


def query_gateway(payment: Payment, *, gateway: Gateway | None = None) -> Payment:
    """Ask the gateway about a pending payment and apply its signed answer like a callback."""
    gateway = gateway or get_gateway(payment.gateway)
    answer = gateway.query(payment.order_id)
    if answer is None:
        return payment
    try:
        return process_notice(answer.body, answer.signature, source="query", gateway=gateway)
    except NoticeReplayed:  # answered concurrently by a callback: nothing left to do
        payment.refresh_from_db()
        return payment


def reconcile_submission(submission: Submission) -> Submission:
    for payment in Payment.objects.filter(submission=submission, state=PaymentState.PENDING):
        query_gateway(payment)
    submission.refresh_from_db()
    if submission.state == SubmissionState.PAID and submission.dossier_id is None:
        try:
            submit_paid(submission.pk)
        except Exception as exc:
            logger.exception("submission %s still not submitted", submission.public_id)
            Submission.objects.filter(pk=submission.pk).update(last_error=str(exc)[:500])
        submission.refresh_from_db()
    return submission


@dataclass
class ReconcileReport:
    queried: int = 0
    recorded_paid: int = 0
    submitted: int = 0
    still_pending: int = 0


def reconcile(*, older_than: timedelta = timedelta(0)) -> ReconcileReport:
    """Everything: pending payments are asked about, paid submissions without a dossier submitted."""
    report = ReconcileReport()
    cutoff = timezone.now() - older_than
    for payment in Payment.objects.filter(state=PaymentState.PENDING, created_at__lte=cutoff).order_by("pk"):
        report.queried += 1
        if query_gateway(payment).state == PaymentState.PAID:
            report.recorded_paid += 1
    for pk in Submission.objects.filter(state=SubmissionState.PAID, dossier__isnull=True).values_list("pk", flat=True):
        try:
            dossier = submit_paid(pk)
        except Exception as exc:
            logger.exception("submission %s not submitted", pk)
            Submission.objects.filter(pk=pk).update(last_error=str(exc)[:500])
            dossier = None
        if dossier is not None:
            report.submitted += 1
        else:
            report.still_pending += 1
    return report
