"""Proof bundles: everything a citizen needs to check their access history offline.

A bundle is JSON::

    {"format": "popid-ledger-bundle/1",
     "checkpoint": {"note": "<signed note>", "size": n, "root_hash": "<b64>", "kid": "…"},
     "public_keys": {"keys": [<Ed25519 JWK>, …]},
     "entries": [{"index": i, "salt": "<b64>", "content": {<record content>},
                  "leaf_hash": "<b64>", "audit_path": ["<b64>", …]}, …],
     "heads": [{"id_number": "…", "key": "<b64>", "head": {"count": n, "last_index": i, "chain": "<b64>"} | null,
                "proof": {"siblings": ["<b64>", …], "terminal": null | {"key": "<b64>", "digest": "<b64>"}}}, …]}

``verify_bundle`` (documented in docs/ledger.md) needs nothing but this file and, ideally, the
ledger's public keys obtained independently (``trusted_keys``); ``popid ledger verify-bundle FILE``
wraps it. The browser's ledger-verify.js performs the same steps with WebCrypto.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from popid.ledger import merkle, personmap
from popid.ledger.commitments import entry_leaf_hash
from popid.ledger.notes import NoteError, ParsedNote, verify_note

FORMAT = "popid-ledger-bundle/1"


@dataclass(frozen=True)
class EntryResult:
    index: int
    ok: bool
    reason: str = ""
    leaf: bytes | None = None  # recomputed from content, salt and index


@dataclass
class BundleReport:
    checkpoint: ParsedNote | None = None
    entries: list[EntryResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None and not self.problems and all(e.ok for e in self.entries)


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(value, validate=True)


def _keys(jwks: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return {}
    return {k["kid"]: k for k in jwks["keys"] if isinstance(k, dict) and isinstance(k.get("kid"), str)}


def verify_entry(entry: Any, checkpoint: ParsedNote) -> EntryResult:
    """One entry: recompute its leaf from content + salt + index, then walk the audit path to the
    checkpoint's root (RFC 9162 §2.1.3.2)."""
    index = entry.get("index") if isinstance(entry, dict) else None
    if not isinstance(index, int) or isinstance(index, bool):
        return EntryResult(-1, False, "malformed entry")
    try:
        salt = _b64(entry["salt"])
        path = [_b64(p) for p in entry["audit_path"]]
        content = entry["content"]
        if not isinstance(content, dict):
            raise ValueError("content must be an object")
        leaf = entry_leaf_hash(index, salt, content)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return EntryResult(index, False, f"malformed entry: {exc}")
    if "leaf_hash" in entry and entry["leaf_hash"] != base64.b64encode(leaf).decode():
        return EntryResult(index, False, "record content does not match the committed leaf")
    try:
        merkle.verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root_hash)
    except merkle.ProofError as exc:
        return EntryResult(index, False, f"inclusion proof: {exc}", leaf=leaf)
    return EntryResult(index, True, leaf=leaf)


def verify_bundle(bundle: Any, *, trusted_keys: dict[str, dict[str, Any]] | None = None) -> BundleReport:
    """Verify a proof bundle offline.

    ``trusted_keys`` (kid → Ed25519 public JWK) should come from somewhere other than the bundle,
    e.g. the JWKS at /api/v1/ledger/keys fetched earlier; without it the bundle's own keys are
    used, which proves integrity against that key only. Also checks that the person's ordinary
    entries carry ``person_seq`` 0, 1, 2, … with no gap (none withheld between two shown ones)."""
    report = BundleReport()
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        report.problems.append("not a popid-ledger-bundle/1 document")
        return report
    keys = trusted_keys if trusted_keys is not None else _keys(bundle.get("public_keys"))
    note = (bundle.get("checkpoint") or {}).get("note") if isinstance(bundle.get("checkpoint"), dict) else None
    try:
        report.checkpoint = verify_note(note, keys)  # type: ignore[arg-type]
    except NoteError as exc:
        report.problems.append(f"checkpoint: {exc}")
        return report
    entries = bundle.get("entries")
    if not isinstance(entries, list):
        report.problems.append("entries missing")
        return report
    report.entries = [verify_entry(e, report.checkpoint) for e in entries]
    chains: dict[str, list[tuple[int, int]]] = {}
    for entry in entries:  # numbering is checked on every entry; a failing one is reported above
        content = entry.get("content") if isinstance(entry, dict) else None
        if isinstance(content, dict) and isinstance(content.get("person_seq"), int) \
                and isinstance(entry.get("index"), int):
            chains.setdefault(str(content.get("person")), []).append((entry.get("index"), content["person_seq"]))
    for person, chain in chains.items():
        seqs = [seq for _index, seq in sorted(chain)]
        if seqs != list(range(len(seqs))):
            report.problems.append(f"entries of {person} are not numbered 0..{len(seqs) - 1}: some were withheld")
    report.problems.extend(check_heads(bundle, entries, report))
    return report


def _head_entries(entries: list[Any], results: list[EntryResult], id_number: str) -> list[tuple[int, bytes]]:
    """The (index, leaf) of the person's ordinary entries, in person_seq order (leaves recomputed)."""
    mine = []
    for entry, result in zip(entries, results, strict=True):
        content = entry.get("content") if isinstance(entry, dict) else None
        if isinstance(content, dict) and content.get("person") == id_number and isinstance(
                content.get("person_seq"), int) and result.leaf is not None:
            mine.append((content["person_seq"], result.index, result.leaf))
    return [(index, leaf) for _seq, index, leaf in sorted(mine)]


def _parse_proof(item: dict[str, Any]) -> personmap.MapProof:
    proof = item["proof"]
    terminal = proof["terminal"]
    return personmap.MapProof(
        siblings=[_b64(s) for s in proof["siblings"]],
        terminal_key=None if terminal is None else _b64(terminal["key"]),
        terminal_digest=None if terminal is None else _b64(terminal["digest"]))


def check_heads(bundle: dict[str, Any], entries: list[Any], report: BundleReport) -> list[str]:
    """Completeness: for every id number, the head signed in the checkpoint's person map must be
    the head of exactly the bundle's ordinary entries of that number — a deleted, withheld,
    reordered or hidden tail entry fails here and the reason is named."""
    checkpoint = report.checkpoint
    assert checkpoint is not None
    problems: list[str] = []
    id_numbers = bundle.get("id_numbers")
    if not isinstance(id_numbers, list) or not id_numbers or not all(isinstance(n, str) for n in id_numbers):
        return ["id_numbers missing: completeness cannot be checked"]
    if checkpoint.map_root is None:
        return ["the checkpoint signs no person map: completeness cannot be checked"]
    items = {item.get("id_number"): item for item in bundle.get("heads") or [] if isinstance(item, dict)}
    for id_number in id_numbers:
        item = items.get(id_number)
        if item is None:
            problems.append(f"{id_number}: no signed head in the bundle, completeness cannot be checked")
            continue
        mine = _head_entries(entries, report.entries, id_number)
        recomputed = personmap.head_of(mine)
        key = personmap.person_key(id_number)  # never the key the bundle claims
        try:
            proof = _parse_proof(item)
            root = personmap.root_from_proof(key, proof)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            problems.append(f"{id_number}: malformed head proof: {exc}")
            continue
        if root != checkpoint.map_root:
            problems.append(f"{id_number}: the head proof does not lead to the signed person-map root")
        elif proof.terminal_key != key:
            if recomputed is not None:
                problems.append(f"{id_number}: the signed person map has no head, but the bundle has "
                                f"{recomputed.count} entries")
        elif recomputed is None or proof.terminal_digest != recomputed.digest():
            problems.append(f"{id_number}: {_head_reason(item, recomputed, proof.terminal_digest)}")
    return problems


def _head_reason(item: dict[str, Any], recomputed: personmap.Head | None, signed_digest: bytes | None) -> str:
    """Why the signed head differs, named from the head the server sends when it is the signed one."""
    generic = "the entries differ from the signed head: deleted, withheld, reordered or replaced"
    claimed = item.get("head")
    if not isinstance(claimed, dict):  # no head sent (or not an object)
        return generic
    try:
        signed = personmap.Head(int(claimed["count"]), int(claimed["last_index"]), _b64(claimed["chain"]))
    except (KeyError, TypeError, ValueError, binascii.Error):
        return generic
    if signed.digest() != signed_digest:
        return generic
    count = recomputed.count if recomputed else 0
    if signed.count > count:
        return (f"the signed head counts {signed.count} entries, the bundle has {count}: "
                f"{signed.count - count} entries (the last one #{signed.last_index}) were deleted or withheld")
    if signed.count < count:
        return f"the signed head counts {signed.count} entries, the bundle has {count}: entries were added"
    if recomputed is None or signed.last_index != recomputed.last_index:
        return (f"the signed head ends at entry #{signed.last_index}, the bundle at "
                f"#{recomputed.last_index if recomputed else '-'}: entries were reordered or replaced")
    return "the entries differ from the signed head's hash chain: reordered or replaced"
