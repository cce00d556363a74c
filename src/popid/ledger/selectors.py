"""The citizen's access history: their committed access records with salts, leaf indexes and
inclusion proofs against one signed checkpoint, as a page model and as a proof bundle.

Completeness: every id number of the person comes with its *head* from the person map (count,
last index and hash chain of their ordinary entries) and a proof against the map root signed in
the same checkpoint, so a deleted, reordered or hidden tail entry shows (docs/ledger.md).

Decision on "hidden until" entries (lawful confidential queries): they are committed at once but
left out of the history, the bundle, the head *and any count* until their date. Saying "N entries are
hidden" would tip off the subject of a confidential investigation, which is exactly what the
legal basis for hiding protects; once the date passes the entry appears with its original leaf
index and commitment, so the citizen can check it was committed at the time of the access.
An entry is also shown before its date once it has an ``AccessReveal`` (the reason for hiding it
ended early, e.g. the police case it was made for was closed).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from popid.core.models import AccessRecord
from popid.ledger import personmap, services
from popid.ledger.bundle import FORMAT
from popid.ledger.commitments import record_content
from popid.ledger.models import AccessReveal, Checkpoint, LedgerEntry
from popid.registry.models import CancelledIdNumber, Person


@dataclass(frozen=True)
class HistoryRow:
    index: int
    record: AccessRecord
    content: dict[str, Any]
    salt: bytes
    leaf_hash: bytes  # as stored in the tree, not recomputed: a tampered record then shows as such
    proof: list[bytes] | None  # None: newer than the checkpoint (not possible after checkpoint_covering)


@dataclass(frozen=True)
class History:
    id_numbers: list[str]
    rows: list[HistoryRow]  # newest first
    checkpoint: Checkpoint | None
    heads: dict[str, tuple[personmap.Head | None, personmap.MapProof]]  # id number → signed head, proof


def id_numbers_of(person: Person) -> list[str]:
    """The person's current number and every cancelled one (records keep the number used then)."""
    old = CancelledIdNumber.objects.filter(person=person).values_list("id_number", flat=True)
    return [person.id_number, *old]


def access_history(*, person: Person, now: datetime | None = None) -> History:
    services.integrate_lazily()  # lazily commit what is pending, so the newest reads show up at once
    now = now or timezone.now()
    id_numbers = id_numbers_of(person)
    records = {r.pk: r for r in AccessRecord.objects.filter(person_id_number__in=id_numbers,
                                                            committed_at__isnull=False)}
    still_hidden = [pk for pk, r in records.items() if r.hidden_until is not None and r.hidden_until > now]
    revealed = set(AccessReveal.objects.filter(record_id__in=still_hidden).values_list("record_id", flat=True)
                   ) if still_hidden else set()
    visible = {pk: r for pk, r in records.items()
               if r.hidden_until is None or r.hidden_until <= now or pk in revealed}
    entries: list[LedgerEntry] = []
    ids = list(visible)
    for start in range(0, len(ids), services.FETCH_CHUNK):
        entries.extend(LedgerEntry.objects.filter(record_id__in=ids[start:start + services.FETCH_CHUNK]))
    entries.sort(key=lambda e: e.index)
    signed = services.head_proofs_at_checkpoint(id_numbers)
    checkpoint = signed.checkpoint
    covered = [e.index for e in entries if checkpoint is not None and e.index < checkpoint.size]
    proofs = services.inclusion_proofs(covered, checkpoint.size) if checkpoint and covered else {}
    leaves = services.fetch_nodes([(0, e.index) for e in entries])
    rows = [HistoryRow(index=e.index, record=visible[e.record_id],
                       content=record_content(visible[e.record_id], person_seq=e.person_seq),
                       salt=bytes(e.salt), leaf_hash=leaves[(0, e.index)], proof=proofs.get(e.index))
            for e in reversed(entries)]
    return History(id_numbers=id_numbers, rows=rows, checkpoint=checkpoint, heads=signed.heads)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def proof_bundle(history: History) -> dict[str, Any]:
    """The downloadable JSON (format in popid.ledger.bundle); only entries the checkpoint covers."""
    checkpoint = history.checkpoint
    return {
        "format": FORMAT,
        "id_numbers": history.id_numbers,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "checkpoint": None if checkpoint is None else {
            "note": checkpoint.note, "size": checkpoint.size, "root_hash": _b64(bytes(checkpoint.root_hash)),
            "map_root": None if checkpoint.map_root is None else _b64(bytes(checkpoint.map_root)),
            "kid": checkpoint.kid},
        "public_keys": services.public_jwks(),
        "heads": [head_out(id_number, *history.heads[id_number])
                  for id_number in history.id_numbers if id_number in history.heads],
        "entries": [{"index": row.index, "salt": _b64(row.salt), "content": row.content,
                     "leaf_hash": _b64(row.leaf_hash),
                     "audit_path": [_b64(h) for h in row.proof]}
                    for row in history.rows if row.proof is not None],
    }


def head_out(id_number: str, head: personmap.Head | None, proof: personmap.MapProof) -> dict[str, Any]:
    """One id number's signed head and its map proof, as the bundle carries them."""
    return {
        "id_number": id_number,
        "key": _b64(personmap.person_key(id_number)),
        "head": None if head is None else {"count": head.count, "last_index": head.last_index,
                                           "chain": _b64(head.chain)},
        "proof": {"siblings": [_b64(s) for s in proof.siblings],
                  "terminal": None if proof.terminal_key is None else {
                      "key": _b64(proof.terminal_key), "digest": _b64(proof.terminal_digest or b"")}},
    }
