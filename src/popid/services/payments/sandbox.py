"""The built-in sandbox gateway: a hosted "bank" page (``sandbox_views``) where the payer confirms
or declines, then a server-to-server callback to PopID with an HMAC-SHA256-signed JSON body
(timestamp + nonce inside, signature in ``X-Payment-Signature``). The bank keeps its own ledger
(``SandboxCharge``) so PopID can ask it about an order (``query``) when a callback was lost."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from popid.services.errors import NoticeForged, PaymentOrderNotFound, RefundNotAllowed
from popid.services.models import PaymentState, SandboxCharge
from popid.services.payments.base import SETTLEMENT_COLUMNS, Notice, SignedNotice
from popid.services.payments.secret import callback_secret

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Payment-Signature"
DELIVERY_TIMEOUT = 10


def sign(body: bytes) -> str:
    return hmac.new(callback_secret(), body, hashlib.sha256).hexdigest()


def notice_for(charge: SandboxCharge, *, timestamp: int | None = None, nonce: str | None = None,
               amount: int | None = None) -> SignedNotice:
    """A freshly signed notice about a decided charge (new timestamp and nonce every time)."""
    body = json.dumps({
        "order_id": charge.order_id, "amount": charge.amount if amount is None else amount, "currency": "VND",
        "status": charge.state, "reference": charge.bank_reference,
        "timestamp": int(time.time()) if timestamp is None else timestamp, "nonce": nonce or secrets.token_hex(16),
    }, separators=(",", ":"), sort_keys=True).encode()
    return SignedNotice(body=body, signature=sign(body))


def refund_notice_for(charge: SandboxCharge) -> SignedNotice:
    """The bank's signed answer about a refund it made (status ``refunded``)."""
    body = json.dumps({
        "order_id": charge.order_id, "amount": charge.amount, "currency": "VND", "status": "refunded",
        "refund_id": charge.refund_id, "reference": charge.refund_reference, "timestamp": int(time.time()),
        "nonce": secrets.token_hex(16)}, separators=(",", ":"), sort_keys=True).encode()
    return SignedNotice(body=body, signature=sign(body))


class SandboxGateway:
    name = "sandbox"

    # --- what PopID calls ---------------------------------------------------------------------
    def start(self, *, order_id: str, amount: int, description: str, return_url: str, callback_url: str) -> str:
        SandboxCharge.objects.get_or_create(order_id=order_id, defaults={
            "amount": amount, "description": description[:200], "return_url": return_url[:500],
            "callback_url": callback_url[:500]})
        return reverse("dvc:sandbox_bank", args=[order_id])

    def verify(self, body: bytes, signature: str) -> Notice:
        # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a refusal)
        offered = signature.strip().lower().encode("utf-8", "surrogateescape")
        if not offered or not hmac.compare_digest(sign(body).encode(), offered):
            raise NoticeForged()
        return Notice.from_body(body)

    def query(self, order_id: str) -> SignedNotice | None:
        charge = SandboxCharge.objects.filter(order_id=order_id).first()
        if charge is None or charge.state == PaymentState.PENDING:
            return None
        return notice_for(charge)

    @transaction.atomic
    def refund(self, *, order_id: str, refund_id: str, amount: int) -> SignedNotice:
        """Give the money of a paid charge back, once: the same ``refund_id`` again answers with the
        refund already made; another refund of the same charge, a partial one or one of an unpaid
        charge is refused (as a bank would)."""
        charge = SandboxCharge.objects.select_for_update().filter(order_id=order_id).first()
        if charge is None:
            raise PaymentOrderNotFound()
        if charge.refund_id and charge.refund_id != refund_id:
            raise RefundNotAllowed("the charge was already refunded under another refund id")
        if charge.state != PaymentState.PAID or amount != charge.amount:
            raise RefundNotAllowed("only the full amount of a paid charge is refunded")
        if not charge.refund_id:
            charge.refund_id, charge.refund_reference = refund_id, f"SBR{secrets.token_hex(6).upper()}"
            charge.refunded_at = timezone.now()
            charge.save(update_fields=["refund_id", "refund_reference", "refunded_at"])
        return refund_notice_for(charge)

    def settlement_report(self, day: date) -> bytes:
        """The bank's CSV for one day (local time): every charge paid and every refund made that day."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SETTLEMENT_COLUMNS)
        rows: list[list[object]] = []
        for charge in SandboxCharge.objects.filter(state=PaymentState.PAID, decided_at__date=day):
            rows.append(["payment", charge.order_id, "", charge.amount, "VND", charge.bank_reference,
                         timezone.localtime(charge.decided_at).isoformat()])
        for charge in SandboxCharge.objects.filter(refunded_at__date=day).exclude(refund_id=""):
            rows.append(["refund", charge.order_id, charge.refund_id, charge.amount, "VND", charge.refund_reference,
                         timezone.localtime(charge.refunded_at).isoformat()])
        rows.sort(key=lambda r: (str(r[6]), str(r[1])))
        writer.writerows(rows)
        return out.getvalue().encode()

    # --- the bank's side ------------------------------------------------------------------------
    @staticmethod
    @transaction.atomic
    def decide(order_id: str, *, paid: bool) -> SandboxCharge:
        """The payer's choice; a decided charge stays as it is (a second click changes nothing)."""
        charge = SandboxCharge.objects.select_for_update().filter(order_id=order_id).first()
        if charge is None:
            raise PaymentOrderNotFound()
        if charge.state == PaymentState.PENDING:
            charge.state = PaymentState.PAID if paid else PaymentState.DECLINED
            charge.bank_reference = f"SBX{secrets.token_hex(6).upper()}" if paid else ""
            charge.decided_at = timezone.now()
            charge.save(update_fields=["state", "bank_reference", "decided_at"])
        return charge

    @staticmethod
    def deliver(charge: SandboxCharge) -> bool:
        """POST the signed notice to the merchant's callback URL; the attempt is recorded either way
        (PopID's reconciler asks ``query`` if this never arrives)."""
        notice = notice_for(charge)
        if not charge.callback_url.startswith(("http://", "https://")):
            raise ValueError("callback URL must be http(s)")
        request = urllib.request.Request(charge.callback_url, data=notice.body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", SIGNATURE_HEADER: notice.signature})
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:  # noqa: S310 (our own URL)
                ok: bool = 200 <= response.status < 300  # urlopen's response is untyped
        except urllib.error.HTTPError as exc:
            ok, error = False, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            ok, error = False, type(exc).__name__
        update = {"delivery_attempts": charge.delivery_attempts + 1, "last_delivery_error": error[:300]}
        if ok:
            update["delivered_at"] = timezone.now()
        else:
            logger.warning("sandbox callback for %s not delivered: %s", charge.order_id, error)
        SandboxCharge.objects.filter(pk=charge.pk).update(**update)
        return ok


# The signed notice as the OpenAPI document describes it: every callback endpoint fed by the
# sandbox gateway (dossier fees, traffic fines) publishes the same body and header.
NOTICE_OPENAPI = {
    "parameters": [{"in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
                    "description": "HMAC-SHA256 (hex) của nguyên văn nội dung; sai: 401 payment_signature_invalid"}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["order_id", "amount", "status", "timestamp", "nonce"],
        "properties": {"order_id": {"type": "string"}, "amount": {"type": "integer"}, "status": {"type": "string"},
                       "reference": {"type": "string"}, "timestamp": {"type": "integer"},
                       "nonce": {"type": "string"}}}}}},
}
