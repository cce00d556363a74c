"""The access ledger's tables: the log's size, one entry per committed access record, every
perfect subtree hash, signed checkpoints and the public keys that signed them.

Nothing here holds personal data in a leaf: a leaf is ``version ‖ index ‖ commitment`` and the
commitment is SHA-256(salt ‖ canonical record). Salts live in ``LedgerEntry`` beside the leaf so
a citizen can be handed their own record and salt to open the commitment themselves.
"""

from __future__ import annotations

from django.db import models

NODE_LEVEL_FACTOR = 1 << 48  # LedgerNode.key = level * 2**48 + idx (2**48 leaves is plenty)


def node_key(level: int, idx: int) -> int:
    return level * NODE_LEVEL_FACTOR + idx


class LedgerState(models.Model):
    """One row (pk=1): how many leaves the log holds. The sequencer locks it, so integrations
    queue behind each other on PostgreSQL (row lock) and SQLite (IMMEDIATE transactions)."""

    size = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ledger size {self.size}"


class LedgerEntry(models.Model):
    """Leaf ``index`` commits access record ``record_id``. No foreign key on purpose: deleting
    an access record must be *detected* by ``popid ledger verify``, not cascaded away."""

    index = models.BigIntegerField(primary_key=True)
    record_id = models.BigIntegerField(unique=True)
    salt = models.BinaryField(max_length=32)
    # position among the person's ordinary (not "hidden until") entries: 0, 1, 2, … lets the
    # citizen see that no entry between two shown ones was left out; None for hidden entries
    person_seq = models.IntegerField(null=True, blank=True)
    integrated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"leaf {self.index} = record {self.record_id}"


class LedgerNode(models.Model):
    """The hash of one perfect subtree (level 0 = leaf hashes). Every complete subtree is stored
    once, when its last leaf arrives; partial right-edge subtrees are folded at proof time."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node ({self.level}, {self.idx})"

    @property
    def level(self) -> int:
        return self.key // NODE_LEVEL_FACTOR

    @property
    def idx(self) -> int:
        return self.key % NODE_LEVEL_FACTOR


class LedgerPersonHead(models.Model):
    """Each person's head (kept by the sequencer): the count of their ordinary entries (also the
    next ``person_seq``), the index of the last one and the hash chain over their leaves. Its
    digest is the person's leaf in the person map (``personmap``), whose root every checkpoint
    signs; ``map_key`` is the person key (SHA-256 of a tag and the ID number)."""

    person_id_number = models.CharField(max_length=12, primary_key=True)
    next_seq = models.IntegerField(default=0)
    last_index = models.BigIntegerField(null=True, blank=True)
    chain = models.BinaryField(max_length=32, null=True, blank=True)
    map_key = models.BinaryField(max_length=32, null=True, blank=True, unique=True)

    def __str__(self) -> str:
        return f"{self.person_id_number}: {self.next_seq}"


class LedgerMapNode(models.Model):
    """One node of the person map with ≥2 heads below it (and the root, always). ``path`` is one
    byte of depth then the path's bits packed (``personmap.path_id``). Each side is EMPTY, a single
    head's map leaf (``*_key`` = its person key) or a node stored under the child's path; updated
    in place by the sequencer, one transaction per batch, and rebuilt by ``popid ledger verify``."""

    path = models.BinaryField(max_length=33, primary_key=True)
    left = models.BinaryField(max_length=32)
    right = models.BinaryField(max_length=32)
    left_key = models.BinaryField(max_length=32, null=True, blank=True)
    right_key = models.BinaryField(max_length=32, null=True, blank=True)

    def __str__(self) -> str:
        return f"map node at depth {bytes(self.path)[0]}"


class Checkpoint(models.Model):
    """A signed tree head. ``note`` is exactly the signed text plus its signature line, so it
    can be handed out and checked byte for byte (format in docs/ledger.md)."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    # root of the person map at this size (None only for checkpoints signed before the map existed)
    map_root = models.BinaryField(max_length=32, null=True, blank=True)
    timestamp = models.DateTimeField()
    kid = models.CharField(max_length=100)
    signature = models.BinaryField(max_length=64)
    note = models.TextField()

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LedgerPublicKey(models.Model):
    """Every public key that ever signed a checkpoint, kept after the key store prunes it so old
    checkpoints stay verifiable. Auditors should still pin keys from the published JWKS."""

    kid = models.CharField(max_length=100, primary_key=True)
    jwk = models.JSONField()
    first_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.kid


class AccessReveal(models.Model):
    """A "hidden until" access record shown to its person *before* its date, because the reason
    for hiding it has ended (e.g. the police case it was made for is closed). Append-only
    (PostgreSQL trigger): a reveal cannot be withdrawn. The access record itself is unchanged
    (its ``hidden_until`` stays inside its commitment); ``selectors.access_history`` shows a
    hidden record once its date has passed *or* it has a reveal."""

    record_id = models.BigIntegerField(unique=True)  # core.AccessRecord pk (no FK: records are append-only too)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)

    def __str__(self) -> str:
        return f"reveal of record {self.record_id}"
