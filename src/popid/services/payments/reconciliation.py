"""Daily reconciliation against the gateway's settlement report (đối soát): the bank's CSV of the
day's money movements (``base.SETTLEMENT_COLUMNS``) is compared with PopID's ledger, for every
purpose at once (dossier fees and traffic fines):

- a payment recorded paid here that day, or a refund made here that day, that is not in the report
  → ``missing_in_report`` (PopID closed something the bank did not settle);
- a line of the report PopID does not have as paid / refunded → ``missing_here`` (money moved,
  nothing delivered: a lost callback the recovery step could not fix, or an unknown order);
- the same order with another amount → ``amount_differs``; the rest → ``matched``.

Before comparing, pending payments are asked about (lost callbacks recovered) and pending refunds
sent again, so what is left are real mismatches for a person to look at. A report line is matched
by order id whatever day PopID recorded it (a callback that arrived after midnight still matches).
Each run is kept (``ReconciliationRun`` with every line and the report's SHA-256)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission
from popid.services.errors import SettlementReportUnavailable
from popid.services.models import (
    Payment,
    PaymentState,
    ReconciliationLine,
    ReconciliationRun,
    Refund,
    RefundState,
)
from popid.services.payments import ledger
from popid.services.payments.base import SETTLEMENT_COLUMNS, Gateway, get_gateway

Outcome = ReconciliationLine.Outcome
MAX_REPORT_BYTES = 50 * 1024 * 1024


def parse_report(content: bytes) -> list[dict[str, str]]:
    """The report's lines; a report that is not the agreed CSV is refused as a whole."""
    if len(content) > MAX_REPORT_BYTES:
        raise SettlementReportUnavailable(_("Bảng kê quá lớn"))
    try:
        reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
        if reader.fieldnames != SETTLEMENT_COLUMNS:
            raise ValueError(f"columns {reader.fieldnames}")
        rows = []
        for row in reader:
            if row["type"] not in {"payment", "refund"} or not row["order_id"] or row["currency"] != "VND":
                raise ValueError(f"line {reader.line_num}")
            int(row["amount"])
            rows.append(row)
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise SettlementReportUnavailable(_("Bảng kê không đúng định dạng: %(e)s") % {"e": str(exc)[:200]}) from None
    return rows


def _recover(day: date, gateway: Gateway) -> None:
    for payment in Payment.objects.filter(state=PaymentState.PENDING, gateway=gateway.name,
                                          created_at__date__lte=day).order_by("pk"):
        ledger.query_gateway(payment, gateway=gateway)
    ledger.retry_refunds(gateway=gateway)


def reconcile_day(*, actor: Actor, day: date, gateway: Gateway | None = None) -> ReconciliationRun:
    actor.require(Permission.PAYMENTS_RECONCILE)
    if not isinstance(day, date):
        raise ValidationFailed([{"field": "date", "reason": "invalid", "message": _("Ngày không hợp lệ")}])
    gateway = gateway or get_gateway()
    _recover(day, gateway)
    try:
        content = gateway.settlement_report(day)
    except SettlementReportUnavailable:
        raise
    except Exception as exc:  # another system: say which, change nothing
        raise SettlementReportUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    rows = parse_report(content)
    lines: list[ReconciliationLine] = []
    reported = {(r["type"], r["order_id"]) for r in rows}
    paid: dict[str, Payment] = {}
    refunded: dict[str, Refund] = {}
    ids = sorted({r["order_id"] for r in rows})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        paid.update((p.order_id, p) for p in Payment.objects.filter(order_id__in=chunk, gateway=gateway.name,
                                                                    state=PaymentState.PAID))
        refunded.update((r.payment.order_id, r) for r in Refund.objects.select_related("payment").filter(
            payment__order_id__in=chunk, payment__gateway=gateway.name, state=RefundState.REFUNDED))
    for row in rows:
        kind, order_id, amount = row["type"], row["order_id"], int(row["amount"])
        found: Payment | Refund | None = paid.get(order_id) if kind == "payment" else refunded.get(order_id)
        here = found.amount if found is not None else None
        purpose = "" if found is None else (found.purpose if isinstance(found, Payment) else found.payment.purpose)
        outcome = Outcome.MISSING_HERE if here is None else (
            Outcome.MATCHED if here == amount else Outcome.AMOUNT_DIFFERS)
        lines.append(ReconciliationLine(kind=kind, order_id=order_id, reference=row["reference"][:100],
                                        purpose=purpose, amount_here=here, amount_in_report=amount, outcome=outcome))
    for payment in Payment.objects.filter(gateway=gateway.name, state=PaymentState.PAID, paid_at__date=day):
        if ("payment", payment.order_id) not in reported:
            lines.append(ReconciliationLine(kind="payment", order_id=payment.order_id,
                                            reference=payment.gateway_reference, purpose=payment.purpose,
                                            amount_here=payment.amount, outcome=Outcome.MISSING_IN_REPORT))
    for refund in Refund.objects.select_related("payment").filter(payment__gateway=gateway.name,
                                                                  state=RefundState.REFUNDED, refunded_at__date=day):
        if ("refund", refund.payment.order_id) not in reported:
            lines.append(ReconciliationLine(kind="refund", order_id=refund.payment.order_id,
                                            reference=refund.gateway_reference, purpose=refund.payment.purpose,
                                            amount_here=refund.amount, outcome=Outcome.MISSING_IN_REPORT))
    matched = sum(1 for line in lines if line.outcome == Outcome.MATCHED)
    with transaction.atomic():
        run = ReconciliationRun.objects.create(day=day, gateway=gateway.name,
                                               report_sha256=hashlib.sha256(content).hexdigest(), matched=matched,
                                               mismatched=len(lines) - matched, ran_by=actor.label[:150])
        for line in lines:
            line.run = run
        ReconciliationLine.objects.bulk_create(lines, batch_size=1000)
    return run
