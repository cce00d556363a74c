"""The person map: a sparse Merkle tree from a person key to that person's *head* (how many ordinary
entries they have, the index of the last one and a hash chain over their leaves), whose root is
signed in every checkpoint. With it a citizen proves "these are all my entries up to checkpoint N":
a deleted, reordered or hidden tail entry no longer matches the signed head.

Pure functions, no database (``services`` stores the nodes; the browser's ledger-verify.js and
``bundle.verify_bundle`` repeat the verification exactly). Byte for byte:

- person key  = SHA-256("popid-ledger/person-key/v1\\n" ‖ ID number as UTF-8)   (32 bytes, 256 bits)
- chain       : c₀ = 32 zero bytes; cⱼ₊₁ = SHA-256(0x04 ‖ cⱼ ‖ leaf hash of the person's j-th entry)
- head value  = count (8 bytes big-endian) ‖ last index (8 bytes big-endian) ‖ chain (32 bytes)
- map leaf    = SHA-256(0x02 ‖ key ‖ SHA-256(head value))
- map node    = SHA-256(0x03 ‖ left ‖ right)

The tree is binary over the key's bits, most significant bit first. Below the root a subtree with
no leaf hashes to 32 zero bytes and a subtree with exactly one leaf hashes to that leaf's hash
(wherever it sits: no chain of single-child nodes); a subtree with two or more leaves is a node.
The root is always a node (even for 0 or 1 leaves), so every proof has at least one sibling.
About 1.44 stored nodes per person; a proof has ~log₂(persons) siblings.

A proof for key k is the list of sibling hashes from the root down to depth d, and what sits at
depth d on k's path: k's own leaf (membership), nothing (absence), or the leaf of another key
sharing k's first d bits (absence; only that key and the *digest* of its head are revealed, and
the digest hides the head because the chain covers salted leaves).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

KEY_TAG = b"popid-ledger/person-key/v1\n"
EMPTY = bytes(32)
CHAIN_START = bytes(32)
NO_INDEX = (1 << 64) - 1  # last index of an empty head (never stored: heads start at one entry)
MAX_DEPTH = 255


class MapProofError(ValueError):
    """A map proof did not verify (or was malformed); the message says why."""


def person_key(id_number: str) -> bytes:
    return hashlib.sha256(KEY_TAG + id_number.encode()).digest()


def chain_step(chain: bytes, leaf_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x04" + chain + leaf_hash).digest()


def chain_of(leaf_hashes: Sequence[bytes]) -> bytes:
    chain = CHAIN_START
    for leaf in leaf_hashes:
        chain = chain_step(chain, leaf)
    return chain


@dataclass(frozen=True)
class Head:
    count: int
    last_index: int
    chain: bytes

    def value(self) -> bytes:
        return self.count.to_bytes(8, "big") + self.last_index.to_bytes(8, "big") + self.chain

    def digest(self) -> bytes:
        return hashlib.sha256(self.value()).digest()


def head_of(entries: Sequence[tuple[int, bytes]]) -> Head | None:
    """The head over ``(index, leaf hash)`` pairs in person order; None for no entries."""
    if not entries:
        return None
    return Head(count=len(entries), last_index=entries[-1][0], chain=chain_of([leaf for _i, leaf in entries]))


def leaf_hash(key: bytes, value_digest: bytes) -> bytes:
    return hashlib.sha256(b"\x02" + key + value_digest).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x03" + left + right).digest()


def bit(key: bytes, depth: int) -> int:
    """Bit ``depth`` of the key, most significant first (the side taken below depth ``depth``)."""
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


def path_id(key: bytes, depth: int) -> bytes:
    """The stored id of the subtree at ``depth`` on ``key``'s path: one byte of depth, then the
    first ``depth`` bits packed most significant first, the unused bits of the last byte zero."""
    full, rest = divmod(depth, 8)
    prefix = bytearray(key[:full + (1 if rest else 0)])
    if rest:
        prefix[-1] &= (0xFF << (8 - rest)) & 0xFF
    return bytes([depth]) + bytes(prefix)


def child_id(parent: bytes, side: int) -> bytes:
    depth = parent[0]
    prefix = bytearray(parent[1:])
    if depth % 8 == 0:
        prefix.append(0)
    if side:
        prefix[depth >> 3] |= 0x80 >> (depth & 7)
    return bytes([depth + 1]) + bytes(prefix)


ROOT_ID = bytes([0])


@dataclass(frozen=True)
class Child:
    """What hangs below a node on one side: EMPTY, one leaf (``leaf_key`` set) or a stored node."""

    hash: bytes
    leaf_key: bytes | None = None

    @property
    def is_node(self) -> bool:
        return self.leaf_key is None and self.hash != EMPTY


@dataclass(frozen=True)
class NodeRow:
    left: Child
    right: Child

    def hash(self) -> bytes:
        return node_hash(self.left.hash, self.right.hash)


def build(depth: int, node_id: bytes, leaves: Mapping[bytes, bytes], out: dict[bytes, NodeRow]) -> Child:
    """The subtree at ``depth`` (not the root) holding ``leaves`` (key → map leaf hash); every node
    it needs is written to ``out``."""
    if not leaves:
        return Child(EMPTY)
    if len(leaves) == 1:
        ((key, value),) = leaves.items()
        return Child(value, key)
    if depth > MAX_DEPTH:
        raise ValueError("two person keys share 256 bits")
    row = split(depth, node_id, leaves, out)
    return Child(row.hash())


def split(depth: int, node_id: bytes, leaves: Mapping[bytes, bytes], out: dict[bytes, NodeRow]) -> NodeRow:
    sides: tuple[dict[bytes, bytes], dict[bytes, bytes]] = ({}, {})
    for key, value in leaves.items():
        sides[bit(key, depth)][key] = value
    row = NodeRow(build(depth + 1, child_id(node_id, 0), sides[0], out),
                  build(depth + 1, child_id(node_id, 1), sides[1], out))
    out[node_id] = row
    return row


def root_of(leaves: Mapping[bytes, bytes]) -> bytes:
    """Reference: the root over ``leaves`` (key → map leaf hash), built from nothing."""
    return split(0, ROOT_ID, leaves, {}).hash()


def nodes_of(leaves: Mapping[bytes, bytes]) -> dict[bytes, NodeRow]:
    """Every stored node of the map over ``leaves`` (what ``popid ledger verify`` compares)."""
    out: dict[bytes, NodeRow] = {}
    split(0, ROOT_ID, leaves, out)
    return out


@dataclass(frozen=True)
class MapProof:
    siblings: list[bytes]  # from the root down
    terminal_key: bytes | None = None  # None: nothing on the path at the last depth
    terminal_digest: bytes | None = None  # SHA-256 of that leaf's head value


def root_from_proof(key: bytes, proof: MapProof) -> bytes:
    depth = len(proof.siblings)
    if not 1 <= depth <= MAX_DEPTH + 1:
        raise MapProofError("wrong number of siblings")
    if proof.terminal_key is None:
        current = EMPTY
    else:
        if len(proof.terminal_key) != 32 or proof.terminal_digest is None or len(proof.terminal_digest) != 32:
            raise MapProofError("malformed terminal leaf")
        if proof.terminal_key != key and any(bit(proof.terminal_key, d) != bit(key, d) for d in range(depth)):
            raise MapProofError("the other leaf is not on this key's path")
        current = leaf_hash(proof.terminal_key, proof.terminal_digest)
    for d in range(depth - 1, -1, -1):
        sibling = proof.siblings[d]
        if len(sibling) != 32:
            raise MapProofError("sibling must be 32 bytes")
        current = node_hash(current, sibling) if bit(key, d) == 0 else node_hash(sibling, current)
    return current


def verify_head(key: bytes, head: Head | None, proof: MapProof, root: bytes) -> None:
    """Check that ``root`` maps ``key`` to ``head`` (None: to nothing). Raises MapProofError."""
    if root_from_proof(key, proof) != root:
        raise MapProofError("the map proof does not lead to the signed map root")
    if head is None:
        if proof.terminal_key == key:
            raise MapProofError("the signed map has a head for this person, but no entries were given")
        return
    if proof.terminal_key != key:
        raise MapProofError("the signed map has no head for this person")
    if proof.terminal_digest != head.digest():
        raise MapProofError("the signed head differs from the entries given")
