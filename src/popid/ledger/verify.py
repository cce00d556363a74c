"""``popid ledger verify``: rebuild the whole log from the access records and salts and compare it
with everything stored and signed.

Checks, streaming in index order (memory stays O(log n) plus one chunk):

1. entries are numbered 0 … size-1 without gaps and each names an existing access record;
2. each leaf recomputed from record + salt + person_seq equals the stored leaf hash (a modified,
   swapped, replaced or re-salted record fails here, at its own index);
3. every stored perfect node equals the node rebuilt from the recomputed leaves (a tampered node
   whose leaves are intact is named by level and position);
4. every checkpoint's Ed25519 signature verifies, its columns match its signed note, and its root
   equals the rebuilt root at its size (this also catches entries deleted from the end);
5. no access record claims to be committed without a leaf (an inserted record);
6. the person map: every person's head (count, last index, hash chain of their ordinary entries)
   rebuilt from the entries equals the stored head, the stored map nodes equal the map rebuilt
   from those heads, and the latest checkpoint that signs a map root signs the root of the heads
   rebuilt at its size (a deleted, reordered or hidden entry, or an edited head or map node).

Problems are ordered by the first leaf index they affect, so ``report.first`` names the first bad
entry.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from popid.core.models import AccessRecord
from popid.ledger import merkle, personmap
from popid.ledger.commitments import entry_leaf_hash, record_content
from popid.ledger.models import (
    NODE_LEVEL_FACTOR,
    Checkpoint,
    LedgerEntry,
    LedgerMapNode,
    LedgerNode,
    LedgerPersonHead,
    node_key,
)
from popid.ledger.notes import NoteError, verify_note
from popid.ledger.services import FETCH_CHUNK, key_store_keys, ledger_size, verification_keys

MAX_PROBLEMS = 200
ZERO = bytes(32)


@dataclass(frozen=True)
class Problem:
    index: int | None  # first leaf affected; None when no leaf can be named (inserted record)
    kind: str  # missing_entry | missing_record | leaf_mismatch | node_mismatch | checkpoint | inserted | size
    #           | head | map
    message: str

    def __str__(self) -> str:
        where = _("mục %(index)s") % {"index": self.index} if self.index is not None else _("ngoài sổ cái")
        return f"{where}: {self.message}"


@dataclass
class VerifyReport:
    size: int = 0
    entries_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        ranked = sorted(self.problems, key=lambda p: (p.index is None, p.index or 0))
        return ranked[0] if ranked else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def _stored_nodes(levels: dict[int, tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored nodes for a contiguous idx range per level (one range query per level)."""
    out: dict[tuple[int, int], bytes] = {}
    for level, (lo, hi) in levels.items():
        rows = LedgerNode.objects.filter(key__gte=node_key(level, lo), key__lte=node_key(level, hi))
        out.update({(level, key - level * NODE_LEVEL_FACTOR): bytes(h) for key, h in rows.values_list("key", "hash")})
    return out


def verify_ledger(*, chunk: int = 5000, trusted_keys: dict[str, dict[str, Any]] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """``trusted_keys`` (kid → JWK, e.g. the JWKS published earlier) pins the signers; without it
    the key store's keys are used, and checkpoints signed by a key known only from the database
    are listed in ``report.warnings`` (whoever can write the database could have added it)."""
    report = VerifyReport(size=ledger_size())
    keys = trusted_keys if trusted_keys is not None else verification_keys()
    stored_kids = set(key_store_keys())
    checkpoints: dict[int, bytes] = {}
    map_signed: tuple[int, bytes] | None = None  # the latest checkpoint that signs a person-map root
    for checkpoint in Checkpoint.objects.order_by("size"):
        report.checkpoints_checked += 1
        try:
            parsed = verify_note(checkpoint.note, keys)
        except NoteError as exc:
            report.add(Problem(max(checkpoint.size - 1, 0), "checkpoint",
                               _("điểm kiểm tra kích thước %(size)s: chữ ký không hợp lệ (%(why)s)")
                               % {"size": checkpoint.size, "why": exc}))
            continue
        columns = (checkpoint.size, bytes(checkpoint.root_hash), checkpoint.kid)
        if (parsed.size, parsed.root_hash, parsed.kid) != columns:
            report.add(Problem(max(checkpoint.size - 1, 0), "checkpoint",
                               _("điểm kiểm tra kích thước %(size)s: cột dữ liệu khác ghi chú đã ký")
                               % {"size": checkpoint.size}))
        if parsed.size > report.size:
            report.add(Problem(report.size, "checkpoint",
                               _("điểm kiểm tra đã ký cho %(signed)s mục nhưng sổ cái chỉ còn %(size)s mục "
                                 "(các mục cuối đã bị xoá)") % {"signed": parsed.size, "size": report.size}))
        checkpoints[parsed.size] = parsed.root_hash
        if parsed.map_root is not None:
            map_signed = (parsed.size, parsed.map_root)
        if trusted_keys is None and parsed.kid not in stored_kids:
            report.warnings.append(_("điểm kiểm tra kích thước %(size)s ký bằng khoá %(kid)s chỉ có trong cơ sở dữ "
                                     "liệu; hãy đối chiếu với JWKS đã công bố (--jwks)")
                                   % {"size": parsed.size, "kid": parsed.kid})
    if 0 in checkpoints and checkpoints[0] != merkle.EMPTY_ROOT:
        report.add(Problem(0, "checkpoint", _("điểm kiểm tra kích thước 0 có gốc khác cây rỗng")))

    heads: dict[str, personmap.Head] = {}
    heads_at_signed = heads if map_signed is None or map_signed[0] >= report.size else None
    if map_signed is not None and map_signed[0] == 0:
        heads_at_signed = {}
    edge = merkle.CompactRange()
    bad_leaves: list[int] = []  # sorted: leaf problems already explain the nodes above them
    expected = 0
    while expected < report.size:
        end = min(expected + chunk, report.size)
        entries = {e.index: e for e in LedgerEntry.objects.filter(index__gte=expected, index__lt=end)}
        record_ids = [e.record_id for e in entries.values()]
        records: dict[int, AccessRecord] = {}
        for start in range(0, len(record_ids), FETCH_CHUNK):
            records.update(AccessRecord.objects.in_bulk(record_ids[start:start + FETCH_CHUNK]))
        stored = _stored_nodes({0: (expected, end - 1)})
        created: list[tuple[tuple[int, int], bytes]] = []
        for index in range(expected, end):
            entry = entries.get(index)
            stored_leaf = stored.get((0, index))
            leaf = None
            if entry is None:
                report.add(Problem(index, "missing_entry", _("mục sổ cái bị xoá (thiếu chỉ số này)")))
            elif entry.record_id not in records:
                report.add(Problem(index, "missing_record", _("bản ghi truy cập #%(id)s đã bị xoá")
                                   % {"id": entry.record_id}))
            else:
                content = record_content(records[entry.record_id], person_seq=entry.person_seq)
                leaf = entry_leaf_hash(index, bytes(entry.salt), content)
                if stored_leaf is None:
                    report.add(Problem(index, "node_mismatch", _("nút lá đã lưu bị xoá")))
                elif leaf != stored_leaf:
                    report.add(Problem(index, "leaf_mismatch",
                                       _("bản ghi #%(id)s không khớp lá đã cam kết (bản ghi bị sửa, đổi chỗ hoặc "
                                         "thay thế, hoặc muối/nút lá bị sửa)") % {"id": entry.record_id}))
                    leaf = None
            if leaf is None:
                bad_leaves.append(index)
                leaf = stored_leaf or ZERO  # keep building so later checkpoints are still checked
            if entry is not None and entry.person_seq is not None and entry.record_id in records:
                person = records[entry.record_id].person_id_number
                head = heads.get(person)
                heads[person] = personmap.Head((head.count if head else 0) + 1, index, personmap.chain_step(
                    head.chain if head else personmap.CHAIN_START, leaf))
            created.extend(edge.append(leaf))
            if map_signed is not None and edge.size == map_signed[0] and heads_at_signed is None:
                heads_at_signed = dict(heads)
            report.entries_checked += 1
            if edge.size in checkpoints and edge.root() != checkpoints[edge.size]:
                report.add(Problem(edge.size - 1, "checkpoint",
                                   _("gốc của điểm kiểm tra kích thước %(size)s khác gốc dựng lại từ bản ghi")
                                   % {"size": edge.size}))
        levels: dict[int, tuple[int, int]] = {}
        for (level, idx), _value in created:
            if level:
                lo, hi = levels.get(level, (idx, idx))
                levels[level] = (min(lo, idx), max(hi, idx))
        stored.update(_stored_nodes(levels))
        for (level, idx), value in created:
            if not level:
                continue
            first_leaf, last_leaf = idx << level, ((idx + 1) << level) - 1
            position = bisect.bisect_left(bad_leaves, first_leaf)
            if position < len(bad_leaves) and bad_leaves[position] <= last_leaf:
                continue  # explained by a bad leaf below
            if stored.get((level, idx)) != value:
                report.add(Problem(first_leaf, "node_mismatch",
                                   _("nút (mức %(level)s, vị trí %(idx)s) đã lưu khác nút dựng lại") %
                                   {"level": level, "idx": idx}))
        expected = end
        if progress is not None:
            progress(expected, report.size)

    _check_person_map(report, heads, heads_at_signed, map_signed)
    extra = LedgerEntry.objects.filter(index__gte=report.size).order_by("index").first()
    if extra is not None:
        report.add(Problem(extra.index, "size", _("có mục nằm ngoài kích thước sổ cái")))
    # NOT EXISTS (an anti-join), not NOT IN: at 10 million ids a NOT IN subplan never finishes
    has_leaf = LedgerEntry.objects.filter(record_id=OuterRef("pk"))
    inserted = (AccessRecord.objects.filter(committed_at__isnull=False).filter(~Exists(has_leaf))
                .order_by("pk").first())
    if inserted is not None:
        report.add(Problem(None, "inserted", _("bản ghi truy cập #%(id)s đánh dấu đã cam kết nhưng không có lá")
                           % {"id": inserted.pk}))
    return report


def _map_leaves(heads: dict[str, personmap.Head]) -> dict[bytes, bytes]:
    return {personmap.person_key(p): personmap.leaf_hash(personmap.person_key(p), h.digest()) for p, h in heads.items()}


def _check_person_map(report: VerifyReport, heads: dict[str, personmap.Head],
                      heads_at_signed: dict[str, personmap.Head] | None,
                      map_signed: tuple[int, bytes] | None) -> None:
    """Step 6: stored heads and map nodes against the heads rebuilt from the entries; the signed
    map root of the latest map-signing checkpoint against the heads rebuilt at its size."""
    unseen = set(heads)
    rows = LedgerPersonHead.objects.values_list("person_id_number", "next_seq", "last_index", "chain", "map_key")
    for person, count, last_index, chain, key in rows.iterator(chunk_size=10_000):
        unseen.discard(person)
        head = heads.get(person)
        stored = None if chain is None or last_index is None else personmap.Head(count, last_index, bytes(chain))
        cut_short = chain is not None and last_index is None  # a stored head without its last index
        if cut_short or stored != head or bytes(key or b"") != personmap.person_key(person):
            _head_problem(report, stored, head)
    for person in sorted(unseen):  # rebuilt heads with no stored row
        _head_problem(report, None, heads[person])
    expected = personmap.nodes_of(_map_leaves(heads))
    mismatched = 0
    nodes = LedgerMapNode.objects.values_list("path", "left", "right", "left_key", "right_key")
    for path, left, right, left_key, right_key in nodes.iterator(chunk_size=10_000):
        node = expected.pop(bytes(path), None)
        if node is None or (bytes(left), bytes(right)) != (node.left.hash, node.right.hash) or (
                left_key and bytes(left_key)) != node.left.leaf_key or (
                right_key and bytes(right_key)) != node.right.leaf_key:
            mismatched += 1
    mismatched += len(expected)  # rebuilt nodes missing from the table
    if mismatched:
        report.add(Problem(None, "map", _("%(count)s nút của bản đồ đầu mục khác bản đồ dựng lại")
                           % {"count": mismatched}))
    if map_signed is not None and heads_at_signed is not None:
        size, signed_root = map_signed
        if personmap.root_of(_map_leaves(heads_at_signed)) != signed_root:
            report.add(Problem(max(size - 1, 0), "checkpoint",
                               _("gốc bản đồ đầu mục trong điểm kiểm tra kích thước %(size)s khác gốc dựng lại từ "
                                 "các mục") % {"size": size}))


def _head_problem(report: VerifyReport, stored: personmap.Head | None, head: personmap.Head | None) -> None:
    where = max(x.last_index for x in (stored, head) if x is not None) if (stored or head) else None
    report.add(Problem(where, "head", _("đầu mục của một công dân (số mục, mục cuối, chuỗi băm) khác đầu "
                                        "dựng lại từ các mục (mục bị xoá, đổi thứ tự, bị ẩn hoặc đầu bị sửa)")))
