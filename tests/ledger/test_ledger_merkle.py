"""RFC 9162 tree math: the certificate-transparency vectors, the RFC's recursive definitions,
and properties (every proof verifies; any flipped bit fails)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popid.ledger import merkle

# The 8-leaf test tree of certificate-transparency (also transparency-dev/merkle's testonly).
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
CT_INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
CT_CONSISTENCY = {
    (1, 8): CT_INCLUSION[(0, 8)],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
CT_HASHES = [merkle.leaf_hash(d) for d in CT_LEAVES]


def _hex(items: list[bytes]) -> list[str]:
    return [h.hex() for h in items]


def _stored(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect node, as the ledger's node table holds them."""
    nodes: dict[tuple[int, int], bytes] = {}
    edge = merkle.CompactRange()
    for h in leaves:
        nodes.update(edge.append(h))
    return nodes


def _from_store(ranges, leaves):
    return merkle.range_hashes(ranges, _stored(leaves).__getitem__)


def test_empty_tree_root_is_sha256_of_nothing():
    assert merkle.root_of([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.CompactRange().root() == merkle.EMPTY_ROOT


def test_certificate_transparency_roots():
    edge = merkle.CompactRange()
    for size in range(1, 9):
        assert merkle.root_of(CT_HASHES[:size]) == CT_ROOTS[size - 1]
        edge.append(CT_HASHES[size - 1])
        assert edge.root() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), list(CT_INCLUSION))
def test_certificate_transparency_inclusion_proofs(index, size):
    want = CT_INCLUSION[(index, size)]
    assert _hex(merkle.reference_inclusion_path(index, CT_HASHES[:size])) == want
    assert _hex(_from_store(merkle.inclusion_ranges(index, size), CT_HASHES[:size])) == want
    merkle.verify_inclusion(index, size, CT_HASHES[index], [bytes.fromhex(h) for h in want], CT_ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second"), list(CT_CONSISTENCY))
def test_certificate_transparency_consistency_proofs(first, second):
    want = CT_CONSISTENCY[(first, second)]
    assert _hex(merkle.reference_consistency_proof(first, CT_HASHES[:second])) == want
    assert _hex(_from_store(merkle.consistency_ranges(first, second), CT_HASHES[:second])) == want
    merkle.verify_consistency(first, second, [bytes.fromhex(h) for h in want],
                              CT_ROOTS[first - 1], CT_ROOTS[second - 1])


def test_wrong_root_index_or_size_fails_on_the_vectors():
    proof = [bytes.fromhex(h) for h in CT_INCLUSION[(5, 8)]]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(4, 8, CT_HASHES[5], proof, CT_ROOTS[7])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(5, 8, CT_HASHES[5], proof, CT_ROOTS[6])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(8, 8, CT_HASHES[5], proof, CT_ROOTS[7])
    consistency = [bytes.fromhex(h) for h in CT_CONSISTENCY[(6, 8)]]
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 8, consistency, CT_ROOTS[4], CT_ROOTS[7])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 8, [], CT_ROOTS[5], CT_ROOTS[7])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 8, [*consistency, CT_ROOTS[0]], CT_ROOTS[5], CT_ROOTS[7])


def test_trivial_consistency_cases():
    merkle.verify_consistency(3, 3, [], CT_ROOTS[2], CT_ROOTS[2])
    merkle.verify_consistency(0, 5, [], merkle.EMPTY_ROOT, CT_ROOTS[4])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, 3, [], CT_ROOTS[2], CT_ROOTS[3])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 3, [], CT_ROOTS[4], CT_ROOTS[2])


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"{salt}-{i}".encode()) for i in range(n)]


def _flip(items: list[bytes], which: int, bit: int) -> list[bytes]:
    out = list(items)
    target = bytearray(out[which])
    target[bit // 8] ^= 1 << (bit % 8)
    out[which] = bytes(target)
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=300))
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(data, size):
    leaves = _leaves(size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    root = merkle.root_of(leaves)
    path = _from_store(merkle.inclusion_ranges(index, size), leaves)
    assert path == merkle.reference_inclusion_path(index, leaves)
    merkle.verify_inclusion(index, size, leaves[index], path, root)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, _flip([leaves[index]], 0, bit)[0], path, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaves[index], path, _flip([root], 0, bit)[0])
    if path:
        which = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], _flip(path, which, bit), root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], path[:-1], root)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), second=st.integers(min_value=2, max_value=300))
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(data, second):
    leaves = _leaves(second, salt=1)
    first = data.draw(st.integers(min_value=1, max_value=second - 1))
    root1, root2 = merkle.root_of(leaves[:first]), merkle.root_of(leaves)
    proof = _from_store(merkle.consistency_ranges(first, second), leaves)
    assert proof == merkle.reference_consistency_proof(first, leaves)
    merkle.verify_consistency(first, second, proof, root1, root2)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, _flip(proof, which, bit), root1, root2)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, proof, _flip([root1], 0, bit)[0], root2)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, proof, root1, _flip([root2], 0, bit)[0])
    # a rewritten history (one old leaf changed) is not consistent with the new root
    rewritten = _flip(leaves, data.draw(st.integers(min_value=0, max_value=first - 1)), bit)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, proof, merkle.root_of(rewritten[:first]), root2)


@given(size=st.integers(min_value=0, max_value=2000))
def test_compact_range_matches_the_recursive_root_and_stores_every_perfect_node(size):
    leaves = _leaves(size, salt=2)
    edge = merkle.CompactRange()
    created = {}
    for h in leaves:
        created.update(edge.append(h))
    assert edge.root() == merkle.root_of(leaves)
    assert len(created) == 2 * size - size.bit_count()  # every complete subtree exactly once
    for level, idx in merkle.CompactRange.edge_nodes(size):
        width = 1 << level
        assert created[(level, idx)] == merkle.root_of(leaves[idx * width:(idx + 1) * width])


@given(a=st.integers(min_value=0, max_value=10**9), length=st.integers(min_value=0, max_value=10**6))
def test_perfect_cover_is_aligned_and_exact(a, length):
    position = a
    for level, idx in merkle.perfect_cover(a, a + length):
        assert idx << level == position
        position += 1 << level
    assert position == a + length
