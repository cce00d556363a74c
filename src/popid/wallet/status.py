"""Token Status Lists (draft-ietf-oauth-status-list): one 2-bit list per issuer, compressed with
DEFLATE (zlib), signed by the issuer as a ``statuslist+jwt`` and served at the ``uri`` each
credential's ``status.status_list`` names.

Statuses follow the registry: ``apply_event`` is the outbox consumer (``wallet.tasks``, enqueued
in the transaction that wrote the event) and revokes or suspends the affected credentials.
``sync_events`` is the catch-up over the wallet's own cursor: it runs before a status list is
served or a presentation is verified, every minute in the scheduler and in ``popid wallet sync``,
so a status never waits for a busy or stopped worker. Both are idempotent.
"""

from __future__ import annotations

import json
import secrets
import time
import zlib
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce

from popid.documents.services import TOPIC_LICENCE_STATUS
from popid.immigration.services import TOPIC_PASSPORT_STATUS
from popid.registry.models import OutboxEvent
from popid.wallet.issuers import ALG, ISSUERS
from popid.wallet.models import CredentialStatus, EventCursor, IssuedCredential, StatusList

BITS = 2
LIST_SIZE = 1 << 17  # 131,072 credentials per list (32 KiB before compression)
TOKEN_LIFETIME = 24 * 3600  # exp: offline verifiers may rely on a cached list this long
TTL = 30  # seconds an online verifier may cache the list before fetching it again
CURSOR = "registry-outbox"
TOPICS = ("person.died", "person.id_number_reissued", "person.merged", "person.corrected", TOPIC_LICENCE_STATUS,
          TOPIC_PASSPORT_STATUS)
IDENTITY_FIELDS = {"full_name", "birth_date", "sex"}


def allocate_index(issuer: str) -> tuple[int, int]:
    """A random free slot (random, so an index says nothing about issue order or the holder)."""
    StatusList.objects.get_or_create(issuer=issuer, list_id=1)
    for _attempt in range(50):
        idx = secrets.randbelow(LIST_SIZE)
        if not IssuedCredential.objects.filter(issuer=issuer, list_id=1, status_idx=idx).exists():
            return 1, idx
    raise RuntimeError("status list nearly full: add a second list")  # pragma: no cover


def encode(entries: Iterable[tuple[int, int]], size: int = LIST_SIZE, bits: int = BITS) -> bytes:
    """The byte array of the spec: entry i at bit offset i*bits, least significant bits first."""
    data = bytearray(size * bits // 8)
    per_byte = 8 // bits
    for idx, value in entries:
        data[idx // per_byte] |= (value & ((1 << bits) - 1)) << ((idx % per_byte) * bits)
    return bytes(data)


def decode(data: bytes, idx: int, bits: int = BITS) -> int:
    per_byte = 8 // bits
    if idx < 0 or idx // per_byte >= len(data):
        raise IndexError(idx)
    return (data[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


def list_bytes(issuer: str, list_id: int) -> bytes:
    rows = IssuedCredential.objects.filter(issuer=issuer, list_id=list_id).exclude(
        status=CredentialStatus.VALID).values_list("status_idx", "status")
    return encode(rows)


def _sign(issuer_slug: str, list_id: int, base: str) -> tuple[str, int]:
    from joserfc import jws

    from popid.wallet.sdjwt import b64encode

    issuer = ISSUERS[issuer_slug]
    key = issuer.signing_key()
    iat = int(time.time())
    payload = {"sub": issuer.status_uri(base, list_id), "iss": issuer.iss(base), "iat": iat,
               "exp": iat + TOKEN_LIFETIME, "ttl": TTL,
               "status_list": {"bits": BITS, "lst": b64encode(zlib.compress(list_bytes(issuer_slug, list_id), 9))}}
    token = jws.serialize_compact({"alg": ALG, "kid": key.kid, "typ": "statuslist+jwt"},
                                  json.dumps(payload).encode(), key.key, algorithms=[ALG])
    return token, iat


def status_list_token(issuer: str, list_id: int, base: str) -> str:
    """The signed list, re-signed when a status changed or the cached token is half way to its ttl."""
    sync_events()
    row, _created = StatusList.objects.get_or_create(issuer=issuer, list_id=list_id)
    now = int(time.time())
    if row.token and row.token_version == row.version and now - row.token_iat < TTL // 2 \
            and f'"{ISSUERS[issuer].status_uri(base, list_id)}"' in _payload_text(row.token):
        return row.token
    version = row.version
    token, iat = _sign(issuer, list_id, base)
    StatusList.objects.filter(pk=row.pk).update(token=token, token_version=version, token_iat=iat)
    return token


def _payload_text(token: str) -> str:
    from popid.wallet.sdjwt import b64decode

    try:
        return b64decode(token.split(".")[1]).decode()
    except (ValueError, IndexError):
        return ""


def current_status(issuer: str, list_id: int, idx: int) -> int:
    """Online check straight from the database (the verifier page runs in the issuer's system)."""
    sync_events()
    row = IssuedCredential.objects.filter(issuer=issuer, list_id=list_id, status_idx=idx).values("status").first()
    return row["status"] if row else CredentialStatus.VALID


LICENCE = "giay_phep_lai_xe"  # the credential type a licence's status events change


def set_status(credentials: Iterable[IssuedCredential] | None = None, *, status: int, reason: str,
               only_from: Iterable[int] | None = None, **filters: str) -> int:
    """Change the status of the matching credentials and move their lists' versions."""
    qs = IssuedCredential.objects.filter(**filters)
    if only_from is not None:
        qs = qs.filter(status__in=list(only_from))
    qs = qs.exclude(status=status).exclude(status=CredentialStatus.INVALID)  # revocation is final
    lists = set(qs.values_list("issuer", "list_id"))
    changed = qs.update(status=status, status_reason=reason[:200])
    for issuer, list_id in lists:
        StatusList.objects.filter(issuer=issuer, list_id=list_id).update(version=F("version") + 1)
    return changed


def apply_event(event: OutboxEvent) -> None:
    """Idempotent: applying an event twice (a retried task, the catch-up sweep) changes nothing more."""
    payload = event.payload or {}
    if event.topic == "person.died":
        set_status(status=CredentialStatus.INVALID, reason="person.died", person_id_number=event.aggregate_id)
    elif event.topic == "person.id_number_reissued":
        previous = payload.get("previous_id_number", "")
        if previous:
            set_status(status=CredentialStatus.INVALID, reason="person.id_number_reissued",
                       person_id_number=previous)
    elif event.topic == "person.merged":  # the duplicate's number is cancelled: its credentials end
        merged = payload.get("merged_id_number", "")
        if merged:
            set_status(status=CredentialStatus.INVALID, reason="person.merged", person_id_number=merged)
    elif event.topic == "person.corrected":
        if IDENTITY_FIELDS & set(payload.get("fields", [])):
            set_status(status=CredentialStatus.INVALID, reason="person.corrected",
                       person_id_number=event.aggregate_id)
    elif event.topic == TOPIC_LICENCE_STATUS:
        target = payload.get("status")
        licence = event.aggregate_id
        if target == "suspended":
            set_status(status=CredentialStatus.SUSPENDED, reason="licence.suspended", config_id=LICENCE,
                       document_ref=licence)
        elif target == "revoked":
            set_status(status=CredentialStatus.INVALID, reason="licence.revoked", config_id=LICENCE,
                       document_ref=licence)
        elif target == "active":
            set_status(status=CredentialStatus.VALID, reason="licence.reinstated",
                       only_from=[CredentialStatus.SUSPENDED], config_id=LICENCE, document_ref=licence)
    elif event.topic == TOPIC_PASSPORT_STATUS and payload.get("status") == "lost":
        # a lost passport's validity is cancelled (Law on Exit and Entry 2019, Art. 27.1): final
        set_status(status=CredentialStatus.INVALID, reason="passport.lost", config_id="ho_chieu",
                   document_ref=event.aggregate_id)


def sync_events(batch: int = 500) -> int:
    """Apply new registry events to credential statuses; returns how many events were read.

    The common case (nothing new) is one indexed query."""
    last = EventCursor.objects.filter(name=CURSOR).values("last_id")[:1]
    if not OutboxEvent.objects.filter(topic__in=TOPICS, pk__gt=Coalesce(Subquery(last), Value(0))).exists():
        return 0
    EventCursor.objects.get_or_create(name=CURSOR)  # handles a concurrent first creation itself
    total = 0
    with transaction.atomic():
        cursor = EventCursor.objects.select_for_update().get(name=CURSOR)
        while True:
            events = list(OutboxEvent.objects.filter(pk__gt=cursor.last_id, topic__in=TOPICS).order_by("pk")[:batch])
            if not events:
                break
            for event in events:
                apply_event(event)
            cursor.last_id = events[-1].pk
            total += len(events)
        cursor.save(update_fields=["last_id"])
    return total
