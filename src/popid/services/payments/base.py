"""What PopID needs from a payment gateway. A gateway hosts the payer's page (``start`` returns
where to send the browser), reports the outcome with a signed notice (the callback, and the same
notice on demand from ``query`` for reconciliation) and verifies the signature of its notices.
Freshness, replay, order and amount checks are PopID's own (see services/submissions.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from popid.services.errors import NoticeMalformed

GATEWAYS = {"sandbox": "popid.services.payments.sandbox.SandboxGateway"}
NOTICE_STATUSES = {"paid", "declined", "refunded"}
# The settlement report: one CSV per day, as banks deliver them (a line per money movement).
SETTLEMENT_COLUMNS = ["type", "order_id", "refund_id", "amount", "currency", "reference", "settled_at"]


@dataclass(frozen=True)
class SignedNotice:
    """A notice as it travels: the exact body bytes and the signature header value."""

    body: bytes
    signature: str


@dataclass(frozen=True)
class Notice:
    order_id: str
    amount: int
    currency: str
    status: str  # paid | declined | refunded
    reference: str
    timestamp: datetime
    nonce: str
    refund_id: str = ""  # a refund notice names the refund it answers

    @classmethod
    def from_body(cls, body: bytes) -> Notice:
        """Parse a verified body; anything unexpected is a malformed notice."""
        try:
            raw: Any = json.loads(body)
            timestamp = datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
            notice = cls(order_id=str(raw["order_id"])[:40], amount=int(raw["amount"]),
                         currency=str(raw["currency"]), status=str(raw["status"]),
                         reference=str(raw.get("reference", ""))[:100], timestamp=timestamp,
                         nonce=str(raw["nonce"]), refund_id=str(raw.get("refund_id", ""))[:44])
        except (ValueError, TypeError, KeyError, OverflowError, OSError):
            raise NoticeMalformed() from None
        if notice.status not in NOTICE_STATUSES or not 16 <= len(notice.nonce) <= 64 or isinstance(
                raw["amount"], bool):
            raise NoticeMalformed()
        if notice.status == "refunded" and not notice.refund_id:
            raise NoticeMalformed()
        return notice


class Gateway(Protocol):
    name: str

    def start(self, *, order_id: str, amount: int, description: str, return_url: str, callback_url: str) -> str:
        """Register the order with the gateway; returns the URL of the payer's page."""

    def verify(self, body: bytes, signature: str) -> Notice:
        """Check the notice's signature (raise NoticeForged) and parse it."""

    def query(self, order_id: str) -> SignedNotice | None:
        """The gateway's signed answer about an order, or None while the payer has not decided."""

    def refund(self, *, order_id: str, refund_id: str, amount: int) -> SignedNotice:
        """Give a paid order's money back (idempotent on ``refund_id``); the signed answer is a
        notice with status ``refunded``. Raises if the gateway refuses or cannot be reached."""

    def settlement_report(self, day: date) -> bytes:
        """The day's settlement report: CSV with ``SETTLEMENT_COLUMNS`` (UTF-8, header line)."""


def gateway_name() -> str:
    return getattr(settings, "POPID_PAYMENT_GATEWAY", "") or os.environ.get("POPID_PAYMENT_GATEWAY", "sandbox")


def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway; a dotted path names a third-party implementation."""
    name = name or gateway_name()
    gateway: Gateway = import_string(GATEWAYS.get(name, name))()  # import_string is untyped
    return gateway
