"""Checkpoint notes: a signed-note-like text (after C2SP tlog-checkpoint), Ed25519-signed.

    popid/access-ledger/v1            ← origin (POPID_LEDGER_ORIGIN)
    1234                              ← tree size, decimal
    3q2+7w…=                          ← root hash, standard base64
    map 9x1Q…=                        ← root of the person map (personmap), standard base64
    time 2026-11-23T08:00:00Z         ← when it was signed (UTC)
                                      ← empty line ends the body
    — popid-ledger ed-20261123-ab12cd34 <base64 Ed25519 signature>

Checkpoints signed before the person map existed have no ``map`` line (``map_root`` None).
The signature covers the body: every byte up to and including the newline of the ``time`` line.
Pure functions, no database: the bundle verifier and the browser use the same rules.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNER_NAME = "popid-ledger"
SIGNATURE_PREFIX = "\u2014 "  # em dash and space, as in signed notes


class NoteError(ValueError):
    """A note that does not parse or whose signature does not verify."""


@dataclass(frozen=True)
class ParsedNote:
    origin: str
    size: int
    root_hash: bytes
    map_root: bytes | None
    timestamp: datetime
    kid: str
    signature: bytes
    body: bytes


def note_body(*, origin: str, size: int, root_hash: bytes, map_root: bytes, timestamp: datetime) -> str:
    when = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\nmap {base64.b64encode(map_root).decode()}\n"
            f"time {when}\n")


def sign_note(*, body: str, kid: str, private_key: Ed25519PrivateKey) -> tuple[str, bytes]:
    signature = private_key.sign(body.encode())
    note = f"{body}\n{SIGNATURE_PREFIX}{SIGNER_NAME} {kid} {base64.b64encode(signature).decode()}\n"
    return note, signature


def parse_note(note: str) -> ParsedNote:
    if not isinstance(note, str) or "\n\n" not in note:
        raise NoteError("not a signed note")
    body, _, signature_block = note.partition("\n\n")
    body += "\n"
    lines = body.split("\n")[:-1]
    map_text = None
    if len(lines) == 5 and lines[3].startswith("map "):
        map_text = lines.pop(3)[4:]
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise NoteError("the note body must have origin, size, root, map and time lines")
    origin, size_text, root_text, time_text = lines
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise NoteError("bad tree size")
    try:
        root_hash = base64.b64decode(root_text, validate=True)
        map_root = None if map_text is None else base64.b64decode(map_text, validate=True)
        timestamp = datetime.strptime(time_text[5:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("bad root hash or time") from exc
    if len(root_hash) != 32 or (map_root is not None and len(map_root) != 32):
        raise NoteError("root hashes must be 32 bytes")
    sig_lines = [line for line in signature_block.split("\n") if line]
    if len(sig_lines) != 1 or not sig_lines[0].startswith(SIGNATURE_PREFIX):
        raise NoteError("exactly one signature line expected")
    parts = sig_lines[0][len(SIGNATURE_PREFIX):].split(" ")
    if len(parts) != 3 or parts[0] != SIGNER_NAME:
        raise NoteError("bad signature line")
    try:
        signature = base64.b64decode(parts[2], validate=True)
    except binascii.Error as exc:
        raise NoteError("bad signature encoding") from exc
    return ParsedNote(origin=origin, size=int(size_text), root_hash=root_hash, map_root=map_root, timestamp=timestamp,
                      kid=parts[1], signature=signature, body=body.encode())


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise NoteError("not an Ed25519 public key")
    try:
        raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("bad Ed25519 public key") from exc


def verify_note(note: str, keys: dict[str, dict[str, Any]]) -> ParsedNote:
    """Parse and check the signature against ``keys`` (kid → public JWK); raises NoteError."""
    parsed = parse_note(note)
    jwk = keys.get(parsed.kid)
    if jwk is None:
        raise NoteError(f"unknown signing key {parsed.kid}")
    try:
        public_key_from_jwk(jwk).verify(parsed.signature, parsed.body)
    except InvalidSignature as exc:
        raise NoteError("signature does not verify") from exc
    return parsed
