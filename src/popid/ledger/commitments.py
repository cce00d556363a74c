"""What a leaf commits to, byte for byte (the browser's ledger-verify.js repeats this exactly).

- ``content``: the access record as a JSON object (keys below), serialised canonically: keys
  sorted, no whitespace, UTF-8, integers only (this is RFC 8785 JCS for these value types);
- ``commitment`` = SHA-256(salt ‖ canonical content), salt = 32 random bytes;
- leaf data = 0x01 (format version) ‖ index as 8 bytes big-endian ‖ commitment (41 bytes);
- leaf hash = SHA-256(0x00 ‖ leaf data) (RFC 9162).

Datetimes are UTC with microseconds (``2026-11-23T08:00:00.123456Z``), the precision both
SQLite and PostgreSQL keep, so the content recomputed from the database is identical.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from popid.core.models import AccessRecord
from popid.ledger.merkle import leaf_hash

LEAF_VERSION = 1
SALT_SIZE = 32


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_content(record: AccessRecord, *, person_seq: int | None) -> dict[str, Any]:
    """The committed view of one access record (every field the citizen is shown)."""
    return {
        "record": record.pk,
        "at": format_time(record.at),
        "actor": record.actor,
        "actor_unit": record.actor_unit,
        "person": record.person_id_number,
        "purpose": record.purpose,
        "legal_basis": record.legal_basis,
        "consent_ref": record.consent_ref,
        "channel": record.channel,
        "fields": [str(f) for f in (record.fields or [])],
        "hidden_until": format_time(record.hidden_until),
        "person_seq": person_seq,
    }


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def commitment(salt: bytes, content: dict[str, Any]) -> bytes:
    return hashlib.sha256(bytes(salt) + canonical_json(content)).digest()


def leaf_data(index: int, commit: bytes) -> bytes:
    return bytes([LEAF_VERSION]) + index.to_bytes(8, "big") + commit


def entry_leaf_hash(index: int, salt: bytes, content: dict[str, Any]) -> bytes:
    return leaf_hash(leaf_data(index, commitment(salt, content)))
