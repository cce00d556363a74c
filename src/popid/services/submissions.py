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
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.identity.models import CitizenAccount
from popid.services import dossiers
from popid.services.errors import (
    PaymentNotExpected,
    SubmissionNotFound,
)
from popid.services.models import (
    Channel,
    Dossier,
    DossierAttachment,
    Payment,
    PaymentPurpose,
    PaymentState,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)
from popid.services.payments import ledger
from popid.services.payments.base import Gateway, Notice, get_gateway
from popid.services.procedures import get_procedure

logger = logging.getLogger(__name__)
# A paid submission that still cannot become a dossier after this long is given up and its fee
# refunded (the citizen sees the refund on the submission's page).
REFUND_AFTER = timedelta(days=3)
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
                                         on_behalf_of=on_behalf_of, attachments=attachments, draft=key)
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
            payment = ledger.open_payment(purpose=PaymentPurpose.DOSSIER_FEE, amount=submission.fee,
                                          gateway=gateway.name, prefix="DVC", submission=submission,
                                          channel=Channel.ONLINE,
                                          description=f"{_('Lệ phí')}: {submission.procedure_code}")
    procedure = get_procedure(submission.procedure_code)
    url = gateway.start(order_id=payment.order_id, amount=payment.amount,
                        description=f"{_('Lệ phí')}: {procedure.name}",
                        return_url=return_url.replace("ORDER_ID", payment.order_id),
                        callback_url=callback_url)
    return payment, url


# --- 3. the gateway's notice ----------------------------------------------------------------------
def process_notice(body: bytes, signature: str, *, source: str = "callback", gateway: Gateway | None = None,
                   now: datetime | None = None) -> Payment:
    """Verify and apply a gateway notice (any purpose: the ledger dispatches on the order)."""
    return ledger.process_notice(body, signature, source=source, gateway=gateway, now=now)


def on_fee_notice(payment: Payment, notice: Notice, now: datetime) -> None:
    """The ledger's handler for dossier fees (inside its transaction, the payment locked)."""
    assert payment.submission_id is not None
    submission = Submission.objects.select_for_update().get(pk=payment.submission_id)
    _record(payment, submission, notice, now)
    after_payment_recorded(payment)
    _submit_in_savepoint(submission)


def _record(payment: Payment, submission: Submission, notice: Notice, now: datetime) -> None:
    if notice.status == PaymentState.PAID and payment.state != PaymentState.PAID:
        other_paid = Payment.objects.filter(submission=submission, state=PaymentState.PAID).exclude(pk=payment.pk)
        ledger.record_paid(payment, notice, now)
        if other_paid.exists() or submission.state == SubmissionState.ABANDONED:
            # the fee was paid twice (two open orders both paid), or after the citizen dropped the
            # submission: this money buys nothing, it goes back
            ledger.open_refund(payment, reason=str(_("Lệ phí đã được nộp cho hồ sơ này") if other_paid.exists()
                                                  else _("Hồ sơ đã hủy trước khi thanh toán")),
                               requested_by="system:services")
        elif submission.dossier_id is None and submission.state != SubmissionState.PAID:
            submission.state = SubmissionState.PAID
            submission.save(update_fields=["state", "updated_at"])
    elif notice.status == PaymentState.DECLINED:
        ledger.record_declined(payment, now)


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
    return ledger.query_gateway(payment, gateway=gateway)


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
    refunded: int = 0


def give_up_and_refund(submission_pk: int, *, reason: str, requested_by: str = "system:services") -> Submission:
    """A paid submission that never became a dossier: dropped, its paid fee refunded through the
    gateway. Idempotent (a dropped submission's refund is the same refund)."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_pk)
        if submission.dossier_id is not None:
            raise PaymentNotExpected()
        if submission.state != SubmissionState.ABANDONED:
            submission.state, submission.last_error = SubmissionState.ABANDONED, reason[:500]
            submission.save(update_fields=["state", "last_error", "updated_at"])
        refunds = [ledger.open_refund(p, reason=reason, requested_by=requested_by)
                   for p in Payment.objects.select_for_update().filter(submission=submission, state=PaymentState.PAID)]
    for refund in refunds:
        ledger.send_refund(refund)
    return submission


def reconcile(*, older_than: timedelta = timedelta(0), now: datetime | None = None) -> ReconcileReport:
    """Everything: pending payments are asked about, paid submissions without a dossier submitted
    (given up and refunded after ``REFUND_AFTER``), refunds the gateway missed sent again."""
    report = ReconcileReport()
    now = now or timezone.now()
    cutoff = now - older_than
    for payment in Payment.objects.filter(state=PaymentState.PENDING, created_at__lte=cutoff,
                                          purpose=PaymentPurpose.DOSSIER_FEE).order_by("pk"):
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
            continue
        paid_at = (Payment.objects.filter(submission_id=pk, state=PaymentState.PAID).order_by("paid_at")
                   .values_list("paid_at", flat=True).first())
        if paid_at is not None and paid_at <= now - REFUND_AFTER:
            give_up_and_refund(pk, reason=str(_("Hồ sơ không nộp được sau khi thanh toán; hoàn lệ phí")))
            report.refunded += 1
        else:
            report.still_pending += 1
    ledger.retry_refunds()
    return report
