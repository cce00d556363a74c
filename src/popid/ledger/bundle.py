"""Proof bundles: everything a citizen needs to check their access history offline.

A bundle is JSON::

    {"format": "popid-ledger-bundle/1",
     "checkpoint": {"note": "<signed note>", "size": n, "root_hash": "<b64>", "kid": "…"},
     "public_keys": {"keys": [<Ed25519 JWK>, …]},
     "entries": [{"index": i, "salt": "<b64>", "content": {<record content>},
                  "leaf_hash": "<b64>", "audit_path": ["<b64>", …]}, …]}

``verify_bundle`` (documented in docs/ledger.md) needs nothing but this file and, ideally, the
ledger's public keys obtained independently (``trusted_keys``); ``popid ledger verify-bundle FILE``
wraps it. The browser's ledger-verify.js performs the same steps with WebCrypto.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from popid.ledger import merkle
from popid.ledger.commitments import entry_leaf_hash
from popid.ledger.notes import NoteError, ParsedNote, verify_note

FORMAT = "popid-ledger-bundle/1"


@dataclass(frozen=True)
class EntryResult:
    index: int
    ok: bool
    reason: str = ""


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
        return EntryResult(index, False, f"inclusion proof: {exc}")
    return EntryResult(index, True)


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
    return report
