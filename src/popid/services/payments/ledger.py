"""The one payment ledger of PopID: every fee and fine paid through a gateway is a
``services.Payment``; every accepted gateway notice a ``PaymentNotice`` (its nonce unique); every
refund a ``Refund``. What a paid notice *means* is the purpose's business: each purpose registers a
handler (dossier fees in ``services.submissions``, traffic fines in ``traffic.services``) that the
ledger calls inside the transaction that records the notice.

1. ``open_payment`` creates the pending payment; the caller sends the payer to ``gateway.start``.
2. ``process_notice`` (callback, or the gateway's answer to ``query`` or ``refund``) checks the
   signature, freshness (±5 minutes), the order, the amount and that the nonce is new, then in ONE
   transaction records the notice and runs the purpose's handler (or applies a refund notice).
3. ``open_refund`` (inside the caller's transaction: the intent is durable) and ``send_refund``
   (after it: the gateway is asked, its signed answer applied like any notice). One refund per
   payment, always the full amount; asking again returns the same refund, and a refund the
   gateway already made is never made twice (the gateway keys it by ``refund_id``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.services.errors import (
    NoticeReplayed,
    NoticeStale,
    PaymentAmountMismatch,
    PaymentOrderNotFound,
    RefundNotAllowed,
)
from popid.services.models import Payment, PaymentNotice, PaymentState, Refund, RefundState
from popid.services.payments.base import Gateway, Notice, get_gateway

logger = logging.getLogger(__name__)
NOTICE_MAX_AGE = timedelta(minutes=5)

NoticeHandler = Callable[[Payment, Notice, datetime], None]
_HANDLERS: dict[str, NoticeHandler] = {}


def register_purpose(purpose: str, handler: NoticeHandler) -> None:
    """What a paid or declined notice does for this purpose (called inside the ledger's transaction,
    the payment row locked; the handler records the payment's new state itself)."""
    _HANDLERS[purpose] = handler


def new_order_id(prefix: str) -> str:
    """Dated in Vietnam's time, like dossier codes (a payment at 06:30 in Hà Nội is that day's)."""
    return f"{prefix}{timezone.localdate():%y%m%d}{secrets.token_hex(6).upper()}"


def open_payment(*, purpose: str, amount: int, gateway: str, prefix: str, description: str = "",
                 **links: object) -> Payment:
    return Payment.objects.create(order_id=new_order_id(prefix), purpose=purpose, amount=amount, gateway=gateway,
                                  description=description[:200], **links)


# --- notices -----------------------------------------------------------------------------------------
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
        refund = None
        if notice.status == "refunded":
            refund = Refund.objects.select_for_update().filter(payment=payment).first()
            if refund is None or refund.refund_id != notice.refund_id:
                raise PaymentOrderNotFound(field="refund_id")
            if notice.amount != refund.amount or notice.currency != payment.currency:
                raise PaymentAmountMismatch(field="amount")
        elif notice.amount != payment.amount or notice.currency != payment.currency:
            raise PaymentAmountMismatch(field="amount")
        try:
            with transaction.atomic():
                PaymentNotice.objects.create(nonce=notice.nonce, payment=payment, status=notice.status,
                                             source=source[:10], sent_at=notice.timestamp)
        except IntegrityError:
            raise NoticeReplayed(field="nonce") from None
        if refund is not None:
            if refund.state != RefundState.REFUNDED:
                refund.state, refund.refunded_at, refund.gateway_reference = RefundState.REFUNDED, now, notice.reference
                refund.last_error = ""
                refund.save(update_fields=["state", "refunded_at", "gateway_reference", "last_error"])
        else:
            _HANDLERS[payment.purpose](payment, notice, now)
    if refund is None:
        _send_pending_refund(payment, gateway)
    return payment


def record_paid(payment: Payment, notice: Notice, now: datetime) -> bool:
    """Mark a locked payment paid (money taken is recorded whatever happened before); False if it
    already was."""
    if payment.state == PaymentState.PAID:
        return False
    payment.state, payment.paid_at, payment.gateway_reference = PaymentState.PAID, now, notice.reference
    payment.save(update_fields=["state", "paid_at", "gateway_reference", "updated_at"])
    return True


def record_declined(payment: Payment, now: datetime) -> None:
    if payment.state == PaymentState.PENDING:
        payment.state, payment.declined_at = PaymentState.DECLINED, now
        payment.save(update_fields=["state", "declined_at", "updated_at"])


def query_gateway(payment: Payment, *, gateway: Gateway | None = None) -> Payment:
    """Ask the gateway about a pending payment and apply its signed answer like a callback."""
    gateway = gateway or get_gateway(payment.gateway)
    if payment.state != PaymentState.PENDING:
        return payment
    answer = gateway.query(payment.order_id)
    if answer is None:
        return payment
    try:
        return process_notice(answer.body, answer.signature, source="query", gateway=gateway)
    except NoticeReplayed:  # answered concurrently by a callback: nothing left to do
        payment.refresh_from_db()
        return payment


# --- refunds -----------------------------------------------------------------------------------------
def open_refund(payment: Payment, *, reason: str, requested_by: str) -> Refund:
    """Record the intent to refund a paid payment in full (call inside the transaction that found
    the reason); the same payment twice is the same refund."""
    if payment.state != PaymentState.PAID:
        raise RefundNotAllowed(_("Chỉ hoàn tiền khoản đã thanh toán"))
    refund, _created = Refund.objects.get_or_create(payment=payment, defaults={
        "refund_id": f"RF{payment.order_id}"[:44], "amount": payment.amount, "reason": reason[:300],
        "requested_by": requested_by[:150]})
    return refund


def send_refund(refund: Refund, *, gateway: Gateway | None = None) -> Refund:
    """Ask the gateway to give the money back and apply its signed answer; a failure is kept on the
    refund (``last_error``) and retried by the daily reconciliation."""
    if refund.state == RefundState.REFUNDED:
        return refund
    payment = refund.payment
    gateway = gateway or get_gateway(payment.gateway)
    try:
        answer = gateway.refund(order_id=payment.order_id, refund_id=refund.refund_id, amount=refund.amount)
        process_notice(answer.body, answer.signature, source="refund", gateway=gateway)
    except NoticeReplayed:
        pass
    except Exception as exc:  # the gateway is another system: keep the reason, retry later
        logger.warning("refund %s not made: %s", refund.refund_id, exc)
        Refund.objects.filter(pk=refund.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:300])
    refund.refresh_from_db()
    return refund


def refund_payment(payment: Payment, *, reason: str, requested_by: str, gateway: Gateway | None = None) -> Refund:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        refund = open_refund(locked, reason=reason, requested_by=requested_by)
    return send_refund(refund, gateway=gateway)


def _send_pending_refund(payment: Payment, gateway: Gateway) -> None:
    refund = Refund.objects.filter(payment=payment, state=RefundState.PENDING).select_related("payment").first()
    if refund is not None:
        send_refund(refund, gateway=gateway)


def retry_refunds(*, gateway: Gateway | None = None) -> int:
    """Send every refund still pending (a gateway that was down); returns how many are now made."""
    made = 0
    for refund in Refund.objects.filter(state=RefundState.PENDING).select_related("payment").order_by("pk"):
        if send_refund(refund, gateway=gateway).state == RefundState.REFUNDED:
            made += 1
    return made
