"""Event subscriptions and signed webhook delivery from the registry outbox.

- ``dispatch_event`` is the outbox consumer (``exchange.tasks``): for each event it creates one
  ``Delivery`` per entitled subscription (birth, death, residence change, ID reissue) and
  enqueues its ``deliver_webhook`` task in the same transaction; ``dispatch`` is the catch-up
  sweep over older events (own cursor), run by the scheduler and ``popid exchange deliver``.
- ``deliver_task`` (the task) and ``deliver_due`` (the sweep) send due deliveries.
- A send: the body is a JWS (compact JWT, ES256, ``exchange``
  keyset, published at ``/api/v1/exchange/jwks``) carrying only the fields the subsystem's
  ``events`` grant names at sending time; sensitive ones only with a consent for the
  subscription's purpose. A 2xx answer is success and records the access; anything else
  (error status, timeout, refused connection) is retried with exponential back-off and becomes
  a dead letter after ``MAX_ATTEMPTS``; an administrator replays it from the console.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jwt

from popid.core import keys
from popid.core.access import Actor, record_access
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.permissions import Permission
from popid.exchange import fields as catalogue
from popid.exchange.access import RequestContext, access_context
from popid.exchange.errors import ConsentRequired, GrantExpired, ServiceNotGranted
from popid.exchange.models import (
    TOPIC_EVENTS,
    Delivery,
    DeliveryStatus,
    OutboxCursor,
    Service,
    Subscription,
    Subsystem,
)
from popid.exchange.services import active_grant, consent_for
from popid.registry.models import OutboxEvent, Person

log = logging.getLogger("popid.exchange")
KEYSET = "exchange"
ALG = "ES256"
MAX_ATTEMPTS = 8
BASE_DELAY = 30  # seconds; then 60, 120, … capped at MAX_DELAY
MAX_DELAY = 6 * 3600
DEFAULT_TIMEOUT = 10.0
CURSOR = "webhooks"


class EventNotGranted(PermissionDenied):
    code = "event_not_granted"


def backoff(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` failures: 30, 60, 120, … ≤ 6 h."""
    return int(min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1)))


def allow_local_receivers() -> bool:
    """Loopback/private receivers (and plain http to them) only when explicitly allowed
    (development and tests): otherwise an agency could make the worker POST into PopID's own
    network (SSRF)."""
    configured = getattr(settings, "POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS", None)
    if configured is None:
        configured = os.environ.get("POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS", "") == "1"
    return bool(configured)


def _is_internal(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable now: the send will fail and be retried, nothing internal is reached
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_loopback or address.is_private or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified):
            return True
    return False


def check_destination(url: str) -> str:
    """https to a public address; http and internal addresses only when local receivers are allowed.
    Checked at subscription and again before every send (DNS may change in between)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    local_ok = allow_local_receivers()
    internal = bool(parts.hostname) and _is_internal(parts.hostname or "")
    if not parts.hostname or parts.scheme not in {"https", "http"} or (
            parts.scheme == "http" and not (local_ok and internal)):
        raise ValidationFailed([{"field": "url", "reason": "invalid",
                                 "message": _("Địa chỉ nhận phải là https")}])
    if internal and not local_ok:
        raise ValidationFailed([{"field": "url", "reason": "internal",
                                 "message": _("Địa chỉ nhận không được trỏ vào mạng nội bộ")}])
    return url


# --- subscriptions --------------------------------------------------------------------------
@transaction.atomic
def subscribe(*, subsystem: Subsystem, rc: RequestContext, url: str, event_types: list[str]) -> Subscription:
    """Only event types the subsystem's active ``events`` grant names."""
    if not subsystem.usable:
        raise PermissionDenied(_("Hệ thống kết nối đã bị tạm dừng"))
    rc = rc.cleaned()
    grant = active_grant(subsystem, Service.EVENTS, fresh=True)
    wanted = sorted(set(event_types or []))
    if not wanted:
        raise ValidationFailed([{"field": "event_types", "reason": "required",
                                 "message": _("Chọn ít nhất một sự kiện")}])
    if outside := [e for e in wanted if e not in grant.event_types]:
        raise EventNotGranted(_("Không được cấp các sự kiện: %(e)s") % {"e": ", ".join(outside)},
                              event_types=outside, granted=sorted(grant.event_types))
    last = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return Subscription.objects.create(subsystem=subsystem, url=check_destination(url), event_types=wanted,
                                       purpose=rc.purpose, legal_basis=rc.legal_basis, official=rc.official,
                                       starts_after=last)


def unsubscribe(*, subsystem: Subsystem, subscription_id: int) -> None:
    Subscription.objects.filter(pk=subscription_id, subsystem=subsystem).update(is_active=False)


# --- dispatch: outbox → deliveries -------------------------------------------------------------
def _create_deliveries(event: OutboxEvent, subscriptions: list[Subscription]) -> list[int]:
    """One ``Delivery`` per entitled active subscription (idempotent: the unique constraint on
    (subscription, event) makes a second run create nothing); returns the new delivery ids."""
    event_type = TOPIC_EVENTS.get(event.topic)
    if event_type is None:
        return []
    data = {"previous_id_number": event.payload.get("previous_id_number")} \
        if event.topic == "person.id_number_reissued" else {}
    if event.topic == "residence.changed":
        data = {"kind": event.payload.get("kind")}
    if event.topic == "person.merged":  # the survivor's number is the delivery's person; this one is cancelled
        data = {"merged_id_number": event.payload.get("merged_id_number")}
    created = []
    for sub in subscriptions:
        if event_type in sub.event_types and event.pk > sub.starts_after:
            try:
                with transaction.atomic():
                    delivery = Delivery.objects.create(
                        subscription=sub, outbox_event_id=event.pk, event_type=event_type,
                        person_id_number=event.aggregate_id[:12], occurred_at=event.created_at, event_data=data)
                created.append(delivery.pk)
            except IntegrityError:  # already dispatched (an earlier run, or the catch-up sweep)
                continue
    return created


# How a delivery's task is queued. ``exchange.tasks`` (which imports this module to run the
# sender) registers it when it loads, so the sender never imports its own task module.
DeliveryEnqueuer = Callable[[int, datetime | None], None]
_delivery_enqueuer: DeliveryEnqueuer | None = None


def set_delivery_enqueuer(enqueue: DeliveryEnqueuer) -> None:
    """Called once by ``exchange.tasks``: ``enqueue(delivery_id, run_after)`` queues the
    ``deliver_webhook`` task (``run_after`` None: at once), in the caller's transaction."""
    global _delivery_enqueuer
    _delivery_enqueuer = enqueue


def _enqueue_delivery(delivery_id: int, *, at: datetime | None = None) -> None:
    if _delivery_enqueuer is None:  # core.apps autodiscovers every tasks module at start-up
        raise RuntimeError("popid.exchange.tasks is not loaded: no task to deliver webhooks with")
    _delivery_enqueuer(delivery_id, at)


@transaction.atomic
def dispatch_event(event: OutboxEvent) -> int:
    """The outbox consumer (``exchange.tasks.dispatch_event``): deliveries for one event, each
    with its delivery task enqueued in the same transaction; returns how many were created."""
    subscriptions = list(Subscription.objects.filter(is_active=True).select_related("subsystem"))
    created = _create_deliveries(event, subscriptions)
    for delivery_id in created:
        _enqueue_delivery(delivery_id)
    return len(created)


def dispatch(*, limit: int = 1000) -> int:
    """Catch-up sweep over events past the cursor (events written before the consumer task existed,
    or replayed); the consumer tasks do the work in normal operation. Returns deliveries created."""
    created = 0
    with transaction.atomic():
        cursor, _new = OutboxCursor.objects.select_for_update().get_or_create(name=CURSOR)
        events = list(OutboxEvent.objects.filter(id__gt=cursor.last_id, topic__in=list(TOPIC_EVENTS))
                      .order_by("id")[:limit])
        if not events:
            return 0
        subscriptions = list(Subscription.objects.filter(is_active=True).select_related("subsystem"))
        for event in events:
            for delivery_id in _create_deliveries(event, subscriptions):
                _enqueue_delivery(delivery_id)
                created += 1
        OutboxCursor.objects.filter(pk=cursor.pk).update(last_id=events[-1].pk)
    return created


# --- delivery ------------------------------------------------------------------------------------
@dataclass
class Attempt:
    ok: bool
    status_code: int | None = None
    error: str = ""


def _issuer() -> str:
    return (getattr(settings, "POPID_OIDC_ISSUER", "") or "urn:popid").rstrip("/")


def _rc(sub: Subscription) -> RequestContext:
    return RequestContext(purpose=sub.purpose, legal_basis=sub.legal_basis, official=sub.official)


def build_claims(delivery: Delivery) -> tuple[dict[str, Any], list[str], str]:
    """The signed body's claims, the person fields it releases and the consent used. Raises
    ``GrantExpired``/``ServiceNotGranted`` when the events grant no longer holds."""
    sub = delivery.subscription
    subsystem = sub.subsystem
    if not subsystem.usable:
        raise ServiceNotGranted(_("Hệ thống kết nối đã bị tạm dừng"))
    grant = active_grant(subsystem, Service.EVENTS, fresh=True)
    if delivery.event_type not in grant.event_types:
        raise ServiceNotGranted(_("Sự kiện %(e)s không còn được cấp") % {"e": delivery.event_type})
    person = Person.objects.filter(id_number=delivery.person_id_number).first()
    names = sorted(grant.fields)
    consent_ref = ""
    if person is not None and (sensitive := catalogue.sensitive_among(names)):
        try:
            consent = consent_for(subsystem=subsystem, person=person, names=sensitive, rc=_rc(sub))
            consent_ref = consent.reference if consent else ""
        except ConsentRequired:
            names = [n for n in names if n not in sensitive]  # no consent: sensitive fields stay home
    released = catalogue.release(person, names) if person is not None else {}
    now = int(time.time())
    claims = {
        "iss": _issuer(), "aud": subsystem.client.client_id, "iat": now, "jti": f"delivery-{delivery.pk}",
        "event": {"id": delivery.outbox_event_id, "type": delivery.event_type,
                  "occurred_at": delivery.occurred_at.isoformat(), **delivery.event_data},
        "person": {"id_number": delivery.person_id_number, **released},
    }
    return claims, (sorted(released) if person is not None else []), consent_ref


def sign(claims: dict[str, Any]) -> str:
    stored = keys.current_signing_key(ALG, keyset=KEYSET)
    return jwt.encode({"alg": ALG, "kid": stored.kid, "typ": "popid-event+jwt"}, claims, stored.key, [ALG])


def post(url: str, body: str, *, delivery_id: int, timeout: float) -> Attempt:
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={  # noqa: S310 - url checked
        "Content-Type": "application/jwt", "User-Agent": "PopID-webhooks/1", "X-PopID-Delivery": str(delivery_id)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https or localhost only
            return Attempt(ok=200 <= response.status < 300, status_code=response.status,
                           error="" if 200 <= response.status < 300 else f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return Attempt(ok=False, status_code=exc.code, error=f"HTTP {exc.code}")
    except TimeoutError:
        return Attempt(ok=False, error=f"timeout after {timeout:g} s")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return Attempt(ok=False, error=f"timeout after {timeout:g} s")
        return Attempt(ok=False, error=f"connection failed: {reason}"[:300])


def timeout_seconds() -> float:
    return float(getattr(settings, "POPID_WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT))


def lease_seconds(timeout: float) -> float:
    """How long a claimed delivery is left alone: a sender killed mid-send (``kill -9``) is
    presumed dead after this, and the delivery is sent again (same delivery and event id)."""
    return 2 * timeout + 2


def _claim(delivery_id: int, now: datetime, *, timeout: float) -> bool:
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(status=DeliveryStatus.SENDING,
                                                                          lease_until__lt=now)
    return bool(Delivery.objects.filter(due, pk=delivery_id).update(
        status=DeliveryStatus.SENDING, lease_until=now + timedelta(seconds=lease_seconds(timeout))))


def deliver_one(delivery: Delivery, *, now: datetime, timeout: float, requeue: bool = False) -> str:
    """Send one claimed delivery; returns its new status. With ``requeue`` a failed attempt
    enqueues the next one (at the back-off time) in the transaction that records the failure."""
    try:
        claims, released, consent_ref = build_claims(delivery)
    except (GrantExpired, ServiceNotGranted) as exc:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD, lease_until=None,
                                                       last_error=f"{exc.code}: {exc.detail}"[:300])
        log.warning("exchange delivery %s dead: %s", delivery.pk, exc.code)
        return DeliveryStatus.DEAD
    try:
        check_destination(delivery.subscription.url)
    except ValidationFailed:
        attempt = Attempt(ok=False, error="destination refused: internal address")
    else:
        attempt = post(delivery.subscription.url, sign(claims), delivery_id=delivery.pk, timeout=timeout)
    attempts = delivery.attempts + 1
    if attempt.ok:
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED, attempts=attempts, delivered_at=timezone.now(), lease_until=None,
                last_status_code=attempt.status_code, last_error="")
            if released:
                sub = delivery.subscription
                record_access(ctx=access_context(sub.subsystem, _rc(sub), consent_ref=consent_ref),
                              person_id_numbers=[delivery.person_id_number], fields=released)
        return DeliveryStatus.DELIVERED
    status = DeliveryStatus.DEAD if attempts >= MAX_ATTEMPTS else DeliveryStatus.PENDING
    next_at = now + timedelta(seconds=backoff(attempts))
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=attempts, lease_until=None, last_status_code=attempt.status_code,
            last_error=attempt.error[:300], next_attempt_at=next_at)
        if requeue and status == DeliveryStatus.PENDING:
            _enqueue_delivery(delivery.pk, at=next_at)
    log.warning("exchange delivery %s attempt %d failed (%s)%s", delivery.pk, attempts, attempt.error,
                " → dead letter" if status == DeliveryStatus.DEAD else "")
    return status


def deliver_due(*, now: datetime | None = None, timeout: float = DEFAULT_TIMEOUT, limit: int = 100) -> dict[str, int]:
    """Send every due delivery once; returns counts by resulting status."""
    now = now or timezone.now()
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(status=DeliveryStatus.SENDING,
                                                                          lease_until__lt=now)
    counts: dict[str, int] = {}
    ids = list(Delivery.objects.filter(due).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    for delivery_id in ids:
        if not _claim(delivery_id, now, timeout=timeout):
            continue  # another worker took it
        status = deliver_one(_load(delivery_id), now=now, timeout=timeout)
        counts[status] = counts.get(status, 0) + 1
    return counts


def _load(delivery_id: int) -> Delivery:
    return Delivery.objects.select_related("subscription__subsystem__agency",
                                           "subscription__subsystem__client").get(pk=delivery_id)


def deliver_task(delivery_id: int, *, timeout: float | None = None) -> str:
    """The delivery task (``exchange.tasks.deliver_webhook``): send it if it is due, else put the
    task back for when it will be (a lease held by a sender that may have died, a back-off)."""
    timeout = timeout_seconds() if timeout is None else timeout
    now = timezone.now()
    if _claim(delivery_id, now, timeout=timeout):
        return deliver_one(_load(delivery_id), now=now, timeout=timeout, requeue=True)
    row = Delivery.objects.filter(pk=delivery_id).values("status", "next_attempt_at", "lease_until").first()
    if row is None or row["status"] in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD):
        return row["status"] if row else "missing"
    at = row["lease_until"] if row["status"] == DeliveryStatus.SENDING else row["next_attempt_at"]
    _enqueue_delivery(delivery_id, at=max(at or now, now) + timedelta(milliseconds=50))
    return "deferred"


def run_once(*, timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None) -> dict[str, int]:
    created = dispatch()
    counts = deliver_due(now=now, timeout=timeout)
    return {"dispatched": created, **counts}


@transaction.atomic
def replay(*, actor: Actor, delivery_id: int) -> Delivery:
    """A dead letter goes back to the queue with a fresh attempt budget (administrators only)."""
    actor.require(Permission.EXCHANGE_ADMIN)
    updated = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="", lease_until=None)
    if not updated:
        raise ValidationFailed([{"field": "delivery", "reason": "not_dead",
                                 "message": _("Chỉ gửi lại được thư đã thất bại")}])
    _enqueue_delivery(delivery_id)
    return Delivery.objects.get(pk=delivery_id)
