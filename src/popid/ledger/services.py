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
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.core import keys
from popid.core.errors import DomainError
from popid.core.models import AccessRecord
from popid.ledger import merkle, personmap
from popid.ledger.commitments import SALT_SIZE, entry_leaf_hash, record_content
from popid.ledger.errors import (
    CheckpointNotFound,
    LeafIndexOutOfRange,
    LedgerEmpty,
    TreeSizeNotReached,
    TreeSizeOutOfRange,
)
from popid.ledger.models import (
    AccessReveal,
    Checkpoint,
    LedgerEntry,
    LedgerMapNode,
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
        heads: dict[str, personmap.Head] = {}
        step = (len(persons) or 1) if connection.vendor == "postgresql" else FETCH_CHUNK  # one = ANY(array) query
        for start in range(0, len(persons), step):
            for pid, count, last, chain in (
                    LedgerPersonHead.objects.filter(person_id_number__in=persons[start:start + step])
                    .values_list("person_id_number", "next_seq", "last_index", "chain")):
                if last is None or chain is None:  # the sequencer writes both with the first entry
                    raise LedgerInconsistent(f"person head {pid} without its last entry or chain")
                heads[pid] = personmap.Head(count, last, bytes(chain))
        now = timezone.now()
        entries: list[LedgerEntry] = []
        nodes: list[LedgerNode] = []
        touched: set[str] = set()
        for record in pending:
            person_seq = None
            salt = secrets.token_bytes(SALT_SIZE)
            index = edge.size
            if record.hidden_until is None:
                head = heads.get(record.person_id_number)
                person_seq = head.count if head else 0
            leaf = entry_leaf_hash(index, salt, record_content(record, person_seq=person_seq))
            if person_seq is not None:
                heads[record.person_id_number] = personmap.Head(
                    person_seq + 1, index, personmap.chain_step(head.chain if head else personmap.CHAIN_START, leaf))
                touched.add(record.person_id_number)
            nodes.extend(LedgerNode(key=node_key(*node), hash=value) for node, value in edge.append(leaf))
            entries.append(LedgerEntry(index=index, record_id=record.pk, salt=salt, person_seq=person_seq,
                                       integrated_at=now))
        _insert(entries, nodes)
        changed = sorted(touched)
        _upsert(LedgerPersonHead, "person_id_number", ["next_seq", "last_index", "chain", "map_key"],
                [(p, heads[p].count, heads[p].last_index, heads[p].chain, personmap.person_key(p)) for p in changed],
                types=["text", "integer", "bigint", "bytea", "bytea"])
        update_person_map({personmap.person_key(p): personmap.leaf_hash(personmap.person_key(p), heads[p].digest())
                           for p in changed})
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


def _upsert(model: type[models.Model], key: str, fields: list[str], rows: list[tuple[Any, ...]], *,
            types: list[str]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE for many rows. PostgreSQL: one statement over
    ``unnest`` of one array per column (Django's multi-row upsert spends most of its time building
    and parsing a statement with tens of thousands of parameters); elsewhere bulk_create."""
    if not rows:
        return
    columns = [key, *fields]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows],
                                           batch_size=500, update_conflicts=True, unique_fields=[key],
                                           update_fields=fields)
        return
    table = model._meta.db_table
    quoted = ", ".join(f'"{c}"' for c in columns)
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in fields)
    sql = (f'INSERT INTO {table} ({quoted}) SELECT * FROM unnest({arrays}) '  # noqa: S608 (model metadata only)
           f'ON CONFLICT ("{key}") DO UPDATE SET {updates}')
    with connection.cursor() as cursor:  # psycopg's own cursor: binary parameters, no text escaping of bytea
        cursor.cursor.execute(sql, [list(col) for col in zip(*rows, strict=True)], binary=True)


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


def integrate_and_checkpoint() -> IntegrationResult:
    """The scheduler's periodic job (every few seconds): commit every pending access record, then
    sign a checkpoint of the new size, so records are in the signed log (and append-only) within
    seconds. Safe to run concurrently and repeatedly: batches serialise on the ledger lock and take
    only records still pending, and a checkpoint is signed only when the size moved. Nothing pending
    costs one indexed EXISTS query and one read of the latest checkpoint."""
    result = integrate(checkpoint=False)
    latest = latest_checkpoint() if result.size else None
    made = create_checkpoint() if result.size and (latest is None or latest.size < result.size) else None
    return IntegrationResult(added=result.added, size=result.size, checkpoint=made)


LAZY_LIMIT = 20_000  # a page view or API call commits at most this many; the cron does the rest


def integrate_lazily(*, checkpoint: bool = True) -> IntegrationResult:
    """Before serving proofs or a history page: bounded, so a missing cron never makes one
    request do hours of work."""
    return integrate(limit=LAZY_LIMIT, checkpoint=checkpoint)


# --- the person map (personmap: person key → head, root signed in every checkpoint) -------------
EMPTY_MAP_ROW = personmap.NodeRow(personmap.Child(personmap.EMPTY), personmap.Child(personmap.EMPTY))


def fetch_map_nodes(paths: Iterable[bytes]) -> dict[bytes, personmap.NodeRow]:
    wanted = list(paths)
    found: dict[bytes, personmap.NodeRow] = {}
    step = (len(wanted) or 1) if connection.vendor == "postgresql" else FETCH_CHUNK  # one = ANY(array) query
    for start in range(0, len(wanted), step):
        rows = LedgerMapNode.objects.filter(path__in=wanted[start:start + step]).values_list(
            "path", "left", "right", "left_key", "right_key")
        for path, left, right, left_key, right_key in rows:
            found[bytes(path)] = personmap.NodeRow(
                personmap.Child(bytes(left), bytes(left_key) if left_key is not None else None),
                personmap.Child(bytes(right), bytes(right_key) if right_key is not None else None))
    return found


def update_person_map(changed: dict[bytes, bytes]) -> bytes:
    """Put the new map leaves ``changed`` (person key → map leaf hash) into the stored map and
    return the new root. Incremental: it reads, level by level (one query per level), only the
    nodes on the changed keys' paths, rebuilds in memory the subtrees where a new key meets a
    single old head, and upserts the nodes it changed — O(batch · log persons) rows, never the
    whole map. Call inside the sequencer's transaction."""
    root_row = fetch_map_nodes([personmap.ROOT_ID]).get(personmap.ROOT_ID, EMPTY_MAP_ROW)
    if not changed:
        return root_row.hash()
    out: dict[bytes, personmap.NodeRow] = {}
    results: dict[bytes, personmap.Child] = {}
    frontier: dict[bytes, tuple[personmap.NodeRow, list[bytes]]] = {personmap.ROOT_ID: (root_row, sorted(changed))}
    levels: list[dict[bytes, tuple[personmap.NodeRow, list[bytes]]]] = []
    depth = 0
    while frontier:
        levels.append(frontier)
        descend: dict[bytes, list[bytes]] = {}
        for node_id, (row, wanted) in frontier.items():
            groups: tuple[list[bytes], list[bytes]] = ([], [])
            for key in wanted:
                groups[personmap.bit(key, depth)].append(key)
            for side, child in ((0, row.left), (1, row.right)):
                if not groups[side]:
                    continue
                child_path = personmap.child_id(node_id, side)
                if child.is_node:
                    descend[child_path] = groups[side]
                    continue
                leaves = {key: changed[key] for key in groups[side]}
                if child.leaf_key is not None and child.leaf_key not in leaves:
                    leaves[child.leaf_key] = child.hash
                results[child_path] = personmap.build(depth + 1, child_path, leaves, out)
        loaded = fetch_map_nodes(descend)
        if len(loaded) != len(descend):
            raise LedgerInconsistent("missing stored person-map node")
        frontier = {path: (loaded[path], below) for path, below in descend.items()}
        depth += 1
    for level in reversed(levels):
        for node_id, (row, _keys) in level.items():
            new = personmap.NodeRow(results.get(personmap.child_id(node_id, 0), row.left),
                                    results.get(personmap.child_id(node_id, 1), row.right))
            out[node_id] = new
            results[node_id] = personmap.Child(new.hash())
    _upsert(LedgerMapNode, "path", ["left", "right", "left_key", "right_key"],
            [(path, row.left.hash, row.right.hash, row.left.leaf_key, row.right.leaf_key) for path, row in out.items()],
            types=["bytea"] * 5)
    return results[personmap.ROOT_ID].hash


def map_root() -> bytes:
    return fetch_map_nodes([personmap.ROOT_ID]).get(personmap.ROOT_ID, EMPTY_MAP_ROW).hash()


def head_proof(id_number: str) -> tuple[personmap.Head | None, personmap.MapProof]:
    """The person's head and its proof against the *current* map root (``map_root()``): call
    under the ledger lock, or compare with the checkpoint's ``map_root``."""
    key = personmap.person_key(id_number)
    rows = fetch_map_nodes(personmap.path_id(key, d) for d in range(0, 48))
    row = rows.get(personmap.ROOT_ID, EMPTY_MAP_ROW)
    siblings: list[bytes] = []
    depth = 0
    while True:
        own, other = (row.left, row.right) if personmap.bit(key, depth) == 0 else (row.right, row.left)
        siblings.append(other.hash)
        if not own.is_node:
            break
        depth += 1
        path = personmap.path_id(key, depth)
        if path not in rows:
            rows.update(fetch_map_nodes(personmap.path_id(key, d) for d in range(depth, depth + 48)))
        if path not in rows:
            raise LedgerInconsistent("missing stored person-map node")
        row = rows[path]
    terminal_key = own.leaf_key
    digest = None
    head = None
    if terminal_key is not None:
        found = LedgerPersonHead.objects.filter(map_key=terminal_key).first()
        if found is None or found.chain is None or found.last_index is None:
            raise LedgerInconsistent("person-map leaf without a head")
        stored = personmap.Head(found.next_seq, found.last_index, bytes(found.chain))
        digest = stored.digest()
        if terminal_key == key:
            head = stored
    return head, personmap.MapProof(siblings=siblings, terminal_key=terminal_key, terminal_digest=digest)


@dataclass(frozen=True)
class HeadProofs:
    checkpoint: Checkpoint | None
    heads: dict[str, tuple[personmap.Head | None, personmap.MapProof]]


def head_proofs_at_checkpoint(id_numbers: list[str]) -> HeadProofs:
    """The heads of ``id_numbers`` with proofs against a signed checkpoint of the current size
    (signing one if the latest is older: the stored map is the current one). Under the ledger lock
    so no integration moves the map in between."""
    with transaction.atomic():
        state = _locked_state()
        latest = latest_checkpoint()
        if state.size and (latest is None or latest.size < state.size):
            latest = create_checkpoint() or latest_checkpoint()
        if latest is None or latest.size != state.size or latest.map_root is None:
            return HeadProofs(checkpoint=latest, heads={})
        return HeadProofs(checkpoint=latest, heads={n: head_proof(n) for n in id_numbers})


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
        people = map_root()
        now = timezone.now().replace(microsecond=0)
        signing = keys.current_signing_key(ALG, keyset=KEYSET)
        body = note_body(origin=origin(), size=state.size, root_hash=root, map_root=people, timestamp=now)
        private_key = signing.key.private_key
        if not isinstance(private_key, Ed25519PrivateKey):  # an EdDSA key of this keyset, with its private half
            raise RuntimeError(f"ledger signing key {signing.kid} is not an Ed25519 private key")
        note, signature = sign_note(body=body, kid=signing.kid, private_key=private_key)
        LedgerPublicKey.objects.get_or_create(kid=signing.kid,
                                              defaults={"jwk": signing.public_jwk(), "first_used_at": now})
        return Checkpoint.objects.create(size=state.size, root_hash=root, map_root=people, timestamp=now,
                                         kid=signing.kid, signature=signature, note=note)


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


def key_store_keys() -> dict[str, dict[str, Any]]:
    """kid → public JWK of the ledger keys still in the key store (files, not the database)."""
    return {k.kid: k.public_jwk() for k in keys.all_keys(KEYSET) if k.alg == ALG}


def verification_keys() -> dict[str, dict[str, Any]]:
    """kid → public JWK: the key store's keys, then keys only recorded in the database (pruned
    from the store). The key store wins for a kid in both, so editing the table cannot swap a key."""
    known = key_store_keys()
    for row in LedgerPublicKey.objects.all():
        known.setdefault(row.kid, row.jwk)
    return known


def public_jwks() -> dict[str, list[dict[str, Any]]]:
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


# --- early reveal of "hidden until" records --------------------------------------------------------
def reveal_hidden(*, records: Iterable[AccessRecord], actor: str, reason: str) -> int:
    """Show hidden access records to their persons now (the reason for hiding them has ended).
    Records already visible or already revealed are skipped; returns how many were revealed.
    Nothing is edited: a reveal is a new append-only row (``AccessReveal``)."""
    now = timezone.now()
    wanted = [r.pk for r in records if r.hidden_until is not None and r.hidden_until > now]
    if not wanted:
        return 0
    done = set(AccessReveal.objects.filter(record_id__in=wanted).values_list("record_id", flat=True))
    new = [AccessReveal(record_id=pk, actor=actor[:200], reason=reason[:300]) for pk in wanted if pk not in done]
    AccessReveal.objects.bulk_create(new)
    return len(new)
