"""The sequencer (pending access records → leaves), checkpoints, and proofs from the stored tree.

``record_access`` stays one INSERT: a new ``core.AccessRecord`` has ``committed_at = NULL`` and
that *is* the queue. ``integrate`` takes the ledger's lock (the ``LedgerState`` row), gives the
pending records the next indexes in id order, stores each leaf's salt, the leaf hash and every
perfect subtree the new leaves complete, and stamps ``committed_at`` — all in one transaction, so
a crash leaves either the whole batch or none of it. It runs from ``popid ledger integrate``, from
``popid seed`` and lazily before proofs and history pages are served.

Proofs never read all leaves: each proof element is the hash of a range that is a fold of at most
log2(n) stored perfect nodes (``merkle.perfect_cover``), fetched in one query.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.core import keys
from popid.core.errors import DomainError
from popid.core.models import AccessRecord
from popid.ledger import merkle
from popid.ledger.commitments import SALT_SIZE, entry_leaf_hash, record_content
from popid.ledger.errors import (
    CheckpointNotFound,
    LeafIndexOutOfRange,
    LedgerEmpty,
    TreeSizeNotReached,
    TreeSizeOutOfRange,
)
from popid.ledger.models import (
    Checkpoint,
    LedgerEntry,
    LedgerNode,
    LedgerPersonHead,
    LedgerPublicKey,
    LedgerState,
    node_key,
)
from popid.ledger.notes import note_body, sign_note

KEYSET = "ledger"
ALG = "EdDSA"
BATCH_SIZE = 5000
FETCH_CHUNK = 900  # stays under SQLite's bound-parameter limit


def origin() -> str:
    return os.environ.get("POPID_LEDGER_ORIGIN", "popid/access-ledger/v1")


def checkpoint_seconds() -> int:
    return int(os.environ.get("POPID_LEDGER_CHECKPOINT_SECONDS", "60"))


def checkpoint_entries() -> int:
    return int(os.environ.get("POPID_LEDGER_CHECKPOINT_ENTRIES", "1000"))


class LedgerInconsistent(DomainError):
    code = "ledger_inconsistent"
    status = 500
    title = _("Sổ cái không nhất quán, cần chạy kiểm tra")


@dataclass(frozen=True)
class IntegrationResult:
    added: int
    size: int
    checkpoint: Checkpoint | None


# --- state and nodes -----------------------------------------------------------------------------
def _locked_state() -> LedgerState:
    """The state row, locked until the transaction ends (call inside ``transaction.atomic``)."""
    state = LedgerState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        LedgerState.objects.get_or_create(pk=1)
        state = LedgerState.objects.select_for_update().get(pk=1)
    return state


def ledger_size() -> int:
    return LedgerState.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def fetch_nodes(nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    by_key = {node_key(level, idx): (level, idx) for level, idx in nodes}
    wanted = list(by_key)
    found: dict[merkle.Node, bytes] = {}
    for start in range(0, len(wanted), FETCH_CHUNK):
        rows = LedgerNode.objects.filter(key__in=wanted[start:start + FETCH_CHUNK]).values_list("key", "hash")
        found.update({by_key[key]: bytes(value) for key, value in rows})
    if len(found) != len(by_key):
        missing = sorted(set(by_key.values()) - set(found))[0]
        raise LedgerInconsistent(f"missing stored node {missing}")
    return found


# --- the sequencer -------------------------------------------------------------------------------
def has_pending() -> bool:
    return AccessRecord.objects.filter(committed_at__isnull=True).exists()


def _integrate_batch(batch_size: int) -> int:
    with transaction.atomic():
        state = _locked_state()
        pending = list(AccessRecord.objects.filter(committed_at__isnull=True).order_by("id")[:batch_size])
        if not pending:
            return 0
        edge_nodes = merkle.CompactRange.edge_nodes(state.size)
        stored = fetch_nodes(edge_nodes)
        edge = merkle.CompactRange(state.size, [stored[node] for node in edge_nodes])
        persons = sorted({r.person_id_number for r in pending if r.hidden_until is None})
        heads: dict[str, int] = {}
        for start in range(0, len(persons), FETCH_CHUNK):
            heads.update(LedgerPersonHead.objects.filter(person_id_number__in=persons[start:start + FETCH_CHUNK])
                         .values_list("person_id_number", "next_seq"))
        now = timezone.now()
        entries: list[LedgerEntry] = []
        nodes: list[LedgerNode] = []
        touched: set[str] = set()
        for record in pending:
            person_seq = None
            if record.hidden_until is None:
                person_seq = heads.get(record.person_id_number, 0)
                heads[record.person_id_number] = person_seq + 1
                touched.add(record.person_id_number)
            salt = secrets.token_bytes(SALT_SIZE)
            index = edge.size
            leaf = entry_leaf_hash(index, salt, record_content(record, person_seq=person_seq))
            nodes.extend(LedgerNode(key=node_key(*node), hash=value) for node, value in edge.append(leaf))
            entries.append(LedgerEntry(index=index, record_id=record.pk, salt=salt, person_seq=person_seq,
                                       integrated_at=now))
        _insert(entries, nodes)
        LedgerPersonHead.objects.bulk_create(
            [LedgerPersonHead(person_id_number=p, next_seq=heads[p]) for p in sorted(touched)], batch_size=1000,
            update_conflicts=True, unique_fields=["person_id_number"], update_fields=["next_seq"])
        ids = [r.pk for r in pending]
        step = len(ids) if connection.vendor == "postgresql" else FETCH_CHUNK
        for start in range(0, len(ids), step):
            AccessRecord.objects.filter(pk__in=ids[start:start + step]).update(committed_at=now)
        state.size = edge.size
        state.updated_at = now
        state.save(update_fields=["size", "updated_at"])
        return len(pending)


def _insert(entries: list[LedgerEntry], nodes: list[LedgerNode]) -> None:
    """New entries and nodes: COPY on PostgreSQL (a multi-row INSERT with 10,000 bound parameters
    spends most of its time being parsed and planned; measured in BENCHMARKS.md), bulk INSERT
    elsewhere."""
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        LedgerNode.objects.bulk_create(nodes, batch_size=2000)
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, inside Django's transaction
        with raw.copy(f"COPY {LedgerEntry._meta.db_table} (index, record_id, salt, person_seq, integrated_at) "
                      "FROM STDIN") as copy:
            for e in entries:
                copy.write_row((e.index, e.record_id, e.salt, e.person_seq, e.integrated_at))
        with raw.copy(f"COPY {LedgerNode._meta.db_table} (key, hash) FROM STDIN") as copy:
            for n in nodes:
                copy.write_row((n.key, n.hash))


def integrate(*, batch_size: int = BATCH_SIZE, limit: int | None = None, checkpoint: bool = True) -> IntegrationResult:
    """Commit every pending access record (or ``limit`` of them); then sign a checkpoint if the
    last one is older than POPID_LEDGER_CHECKPOINT_SECONDS or that many entries behind."""
    added = 0
    while limit is None or added < limit:
        if not has_pending():
            break
        step = batch_size if limit is None else min(batch_size, limit - added)
        count = _integrate_batch(step)
        if not count:
            break
        added += count
    made = maybe_checkpoint() if checkpoint else None
    return IntegrationResult(added=added, size=ledger_size(), checkpoint=made)


LAZY_LIMIT = 20_000  # a page view or API call commits at most this many; the cron does the rest


def integrate_lazily(*, checkpoint: bool = True) -> IntegrationResult:
    """Before serving proofs or a history page: bounded, so a missing cron never makes one
    request do hours of work."""
    return integrate(limit=LAZY_LIMIT, checkpoint=checkpoint)


# --- checkpoints ---------------------------------------------------------------------------------
def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def create_checkpoint() -> Checkpoint | None:
    """Sign the current tree head; None when the latest checkpoint already has this size."""
    with transaction.atomic():
        state = _locked_state()
        latest = latest_checkpoint()
        if latest is not None and latest.size >= state.size:
            return None
        root = tree_root(state.size)
        now = timezone.now().replace(microsecond=0)
        signing = keys.current_signing_key(ALG, keyset=KEYSET)
        body = note_body(origin=origin(), size=state.size, root_hash=root, timestamp=now)
        note, signature = sign_note(body=body, kid=signing.kid, private_key=signing.key.private_key)
        LedgerPublicKey.objects.get_or_create(kid=signing.kid,
                                              defaults={"jwk": signing.public_jwk(), "first_used_at": now})
        return Checkpoint.objects.create(size=state.size, root_hash=root, timestamp=now, kid=signing.kid,
                                         signature=signature, note=note)


def maybe_checkpoint() -> Checkpoint | None:
    size = ledger_size()
    latest = latest_checkpoint()
    if latest is None:
        return create_checkpoint() if size else None
    if size <= latest.size:
        return None
    too_old = timezone.now() - latest.timestamp >= timedelta(seconds=checkpoint_seconds())
    if too_old or size - latest.size >= checkpoint_entries():
        return create_checkpoint()
    return None


def checkpoint_covering(index: int) -> Checkpoint | None:
    """A checkpoint that includes leaf ``index``: the latest one, signing a fresh one if needed."""
    latest = latest_checkpoint()
    if latest is not None and latest.size > index:
        return latest
    if index < ledger_size():
        create_checkpoint()
    latest = latest_checkpoint()
    return latest if latest is not None and latest.size > index else None


def checkpoint_by_size(size: int) -> Checkpoint:
    found = Checkpoint.objects.filter(size=size).first()
    if found is None:
        raise CheckpointNotFound(field="size")
    return found


def require_latest_checkpoint() -> Checkpoint:
    latest = latest_checkpoint()
    if latest is None:
        raise LedgerEmpty()
    return latest


def key_store_keys() -> dict[str, dict]:
    """kid → public JWK of the ledger keys still in the key store (files, not the database)."""
    return {k.kid: k.public_jwk() for k in keys.all_keys(KEYSET) if k.alg == ALG}


def verification_keys() -> dict[str, dict]:
    """kid → public JWK: the key store's keys, then keys only recorded in the database (pruned
    from the store). The key store wins for a kid in both, so editing the table cannot swap a key."""
    known = key_store_keys()
    for row in LedgerPublicKey.objects.all():
        known.setdefault(row.kid, row.jwk)
    return known


def public_jwks() -> dict[str, list[dict]]:
    """What /api/v1/ledger/keys publishes: current and next keys, retired ones still in their
    window, and every key that signed a checkpoint (so old checkpoints stay checkable)."""
    published = keys.public_jwks(KEYSET, algs=(ALG,))["keys"]
    seen = {k["kid"] for k in published}
    extra = [{**row.jwk, "kid": row.kid} for row in LedgerPublicKey.objects.order_by("first_used_at")
             if row.kid not in seen]
    return {"keys": published + extra}


# --- proofs --------------------------------------------------------------------------------------
def _check_size(size: int, *, field: str = "size") -> None:
    if size < 0:
        raise TreeSizeOutOfRange(field=field, size=size)
    if size > ledger_size():
        raise TreeSizeNotReached(field=field, size=size)


def tree_root(size: int) -> bytes:
    cover = merkle.perfect_cover(0, size)
    stored = fetch_nodes(cover)
    return merkle.fold_cover([stored[node] for node in cover])


def leaf_hash_at(index: int) -> bytes:
    if index < 0 or index >= ledger_size():
        raise LeafIndexOutOfRange(field="index", index=index)
    return fetch_nodes([(0, index)])[(0, index)]


def _range_hashes(ranges: list[merkle.Range]) -> list[bytes]:
    stored = fetch_nodes(merkle.nodes_for(ranges))
    return merkle.range_hashes(ranges, stored.__getitem__)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) from the stored nodes."""
    _check_size(size)
    if index < 0 or index >= size:
        raise LeafIndexOutOfRange(field="index", index=index, size=size)
    return _range_hashes(merkle.inclusion_ranges(index, size))


def inclusion_proofs(indexes: Iterable[int], size: int) -> dict[int, list[bytes]]:
    """Several inclusion proofs against one tree size with a single node fetch."""
    _check_size(size)
    wanted = sorted(set(indexes))
    if wanted and (wanted[0] < 0 or wanted[-1] >= size):
        raise LeafIndexOutOfRange(field="index", size=size)
    ranges = {i: merkle.inclusion_ranges(i, size) for i in wanted}
    stored = fetch_nodes(merkle.nodes_for(r for rs in ranges.values() for r in rs))
    return {i: merkle.range_hashes(rs, stored.__getitem__) for i, rs in ranges.items()}


def consistency_proof(first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) from the stored nodes."""
    _check_size(second, field="second")
    if first < 0 or first > second:
        raise TreeSizeOutOfRange(field="first", first=first, second=second)
    return _range_hashes(merkle.consistency_ranges(first, second))
