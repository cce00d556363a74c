"""What PopID needs from a payment gateway. A gateway hosts the payer's page (``start`` returns
where to send the browser), reports the outcome with a signed notice (the callback, and the same
notice on demand from ``query`` for reconciliation) and verifies the signature of its notices.
Freshness, replay, order and amount checks are PopID's own (see services/submissions.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from popid.services.errors import NoticeMalformed

GATEWAYS = {"sandbox": "popid.services.payments.sandbox.SandboxGateway"}
NOTICE_STATUSES = {"paid", "declined"}


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
    status: str  # paid | declined
    reference: str
    timestamp: datetime
    nonce: str

    @classmethod
    def from_body(cls, body: bytes) -> Notice:
        """Parse a verified body; anything unexpected is a malformed notice."""
        try:
            raw: Any = json.loads(body)
            timestamp = datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
            notice = cls(order_id=str(raw["order_id"])[:40], amount=int(raw["amount"]),
                         currency=str(raw["currency"]), status=str(raw["status"]),
                         reference=str(raw.get("reference", ""))[:100], timestamp=timestamp,
                         nonce=str(raw["nonce"]))
        except (ValueError, TypeError, KeyError, OverflowError, OSError):
            raise NoticeMalformed() from None
        if notice.status not in NOTICE_STATUSES or not 16 <= len(notice.nonce) <= 64 or isinstance(
                raw["amount"], bool):
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


def gateway_name() -> str:
    return getattr(settings, "POPID_PAYMENT_GATEWAY", "") or os.environ.get("POPID_PAYMENT_GATEWAY", "sandbox")


def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway; a dotted path names a third-party implementation."""
    name = name or gateway_name()
    return import_string(GATEWAYS.get(name, name))()
