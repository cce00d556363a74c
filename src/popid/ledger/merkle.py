"""RFC 9162 §2.1 Merkle tree math, written by hand on purpose.

Why by hand: no well-kept Python library produces RFC 9162 audit paths and consistency paths
from *stored* subtree hashes (pymerkle, the best known, has its own proof format and recomputes
subtrees from the leaves), and the ledger must answer proofs at 10 million entries without
reading every leaf. The functions here are small and pure; ``tests/ledger/test_ledger_merkle.py`` checks
them against the RFC's recursive definitions and the certificate-transparency test vectors.

Vocabulary: a *range* ``(a, b)`` is the leaves D[a:b]; a *perfect node* ``(level, idx)`` is the
complete subtree over leaves ``idx * 2**level`` … ``(idx + 1) * 2**level - 1``. Every range the
RFC's recursion asks for starts at a multiple of its largest power-of-two part, so its hash is a
right-to-left fold of the perfect nodes that cover it (``perfect_cover``): a store that keeps
only perfect nodes can answer any proof with O(log² n) hashes fetched in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 9162 §2.1.1)

Range = tuple[int, int]
Node = tuple[int, int]


class ProofError(ValueError):
    """A proof did not verify (or was malformed); the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- reference definitions over a list of leaf hashes (RFC 9162 §2.1.1-2.1.4 verbatim) -----
def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = split_point(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def reference_inclusion_path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the RFC's recursion (used by tests and small trees)."""
    n = len(leaf_hashes)
    if n <= 1:
        return []
    k = split_point(n)
    if m < k:
        return [*reference_inclusion_path(m, leaf_hashes[:k]), root_of(leaf_hashes[k:])]
    return [*reference_inclusion_path(m - k, leaf_hashes[k:]), root_of(leaf_hashes[:k])]


def reference_consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) by the RFC's recursion."""

    def subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [root_of(d)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, d[:k], complete), root_of(d[k:])]
        return [*subproof(m - k, d[k:], False), root_of(d[:k])]

    if not 0 < m <= len(leaf_hashes):
        return []
    return subproof(m, leaf_hashes, True)


# --- the same proofs as lists of ranges, so a store can fetch exactly what it needs --------
def inclusion_ranges(m: int, n: int) -> list[Range]:
    """The ranges whose hashes form PATH(m, D[n]), leaf side first."""
    out: list[Range] = []
    a, b = 0, n
    while b - a > 1:
        k = split_point(b - a)
        if m < a + k:
            out.append((a + k, b))
            b = a + k
        else:
            out.append((a, a + k))
            a = a + k
    out.reverse()
    return out


def consistency_ranges(m: int, n: int) -> list[Range]:
    """The ranges whose hashes form PROOF(m, D[n]) for 0 < m < n (empty otherwise)."""
    if not 0 < m < n:
        return []
    out: list[Range] = []
    a, b, complete = 0, n, True
    while m != b:
        k = split_point(b - a)
        if m <= a + k:
            out.append((a + k, b))
            b = a + k
        else:
            out.append((a, a + k))
            a, complete = a + k, False
    if not complete:
        out.append((a, b))
    out.reverse()
    return out


def perfect_cover(a: int, b: int) -> list[Node]:
    """The perfect nodes covering D[a:b], largest (leftmost) first."""
    nodes: list[Node] = []
    while a < b:
        level = (b - a).bit_length() - 1
        while a % (1 << level):
            level -= 1
        nodes.append((level, a >> level))
        a += 1 << level
    return nodes


def fold_cover(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect cover: right-to-left fold (smaller subtrees on the right)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    return {node for a, b in ranges for node in perfect_cover(a, b)}


def range_hashes(ranges: Sequence[Range], get: Callable[[Node], bytes]) -> list[bytes]:
    return [fold_cover([get(node) for node in perfect_cover(a, b)]) for a, b in ranges]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------
def root_from_inclusion_proof(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof implies; raises ProofError when the path has the wrong shape."""
    if not 0 <= index < size:
        raise ProofError("leaf index out of range")
    if any(len(p) != HASH_SIZE for p in path):
        raise ProofError("proof element is not a SHA-256 hash")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    """Raises ProofError unless ``leaf`` is at ``index`` in the tree of ``size`` with ``root``."""
    if root_from_inclusion_proof(index, size, leaf, path) != root:
        raise ProofError("root mismatch")


def verify_consistency(first: int, second: int, path: Sequence[bytes], first_root: bytes,
                       second_root: bytes) -> None:
    """Raises ProofError unless the tree of size ``second`` extends the one of size ``first``.

    The RFC covers 0 < first < second; first == second (empty proof, equal roots) and first == 0
    (empty proof, the empty tree is a prefix of every tree) are accepted as the obvious cases."""
    if first < 0 or second < first:
        raise ProofError("sizes out of order")
    if any(len(p) != HASH_SIZE for p in path):
        raise ProofError("proof element is not a SHA-256 hash")
    if first == second or first == 0:
        if path:
            raise ProofError("proof must be empty")
        if first == second and first_root != second_root:
            raise ProofError("root mismatch")
        return
    if not path:
        raise ProofError("empty proof")
    nodes = list(path)
    if first & (first - 1) == 0:  # exact power of two: the old root is the first node
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short")
    if fr != first_root or sr != second_root:
        raise ProofError("root mismatch")


# --- incremental building (the sequencer and the verifier stream leaves through this) -------
class CompactRange:
    """The right edge of a growing tree: one perfect-subtree hash per set bit of ``size``.

    ``append`` returns every perfect node the new leaf completes, so a store can persist them;
    ``root`` folds the edge into MTH(D[size]) without touching older nodes."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a compact range holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)  # largest subtree first

    @staticmethod
    def edge_nodes(size: int) -> list[Node]:
        """The perfect nodes making up the right edge of a tree of ``size`` leaves."""
        return perfect_cover(0, size)

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        index = self.size
        created: list[tuple[Node, bytes]] = [((0, index), leaf)]
        h, level, idx = leaf, 0, index
        while idx & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            idx >>= 1
            created.append(((level, idx), h))
        self.hashes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold_cover(self.hashes)
