"""`popid ledger verify` detects every kind of tampering and names the first bad entry."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from popid.core.access import AccessContext, Actor, record_access
from popid.core.models import AccessRecord
from popid.ledger import services
from popid.ledger.models import Checkpoint, LedgerEntry, LedgerNode, LedgerState, node_key
from popid.ledger.verify import verify_ledger
from tests.ledger.test_ledger_history import insider

SIZE = 20


@pytest.fixture(autouse=True)
def as_insider(db):
    """Every test here is an insider with the database superuser's rights editing rows behind the
    application's back: on PostgreSQL that bypasses the append-only triggers
    (test_ledger_personmap.py shows the triggers refuse everyone else)."""
    with insider():
        yield


@pytest.fixture
def ledger(db):
    actor = Actor(label="cb.hoankiem", role="officer", level="commune", unit_code="00070")
    for i in range(SIZE):
        ctx = AccessContext(actor=actor, purpose=f"Tra cứu hồ sơ {i}", channel="console")
        record_access(ctx=ctx, person_id_numbers=[f"0010900000{i % 7:02d}"], fields=["full_name", "birth_date"])
        if i in (7, 15):
            services.integrate()
            services.create_checkpoint()
    services.integrate()
    services.create_checkpoint()
    assert services.ledger_size() == SIZE and Checkpoint.objects.count() == 3
    return SIZE


def record_at(index: int) -> AccessRecord:
    return AccessRecord.objects.get(pk=LedgerEntry.objects.get(index=index).record_id)


def run_verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ledger", "verify", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_untouched_ledger_verifies(ledger):
    report = verify_ledger(chunk=6)
    assert report.ok and report.entries_checked == SIZE and report.checkpoints_checked == 3
    out, _err = run_verify()
    assert "Toàn vẹn" in out


def test_a_modified_access_record_is_named(ledger):
    AccessRecord.objects.filter(pk=record_at(11).pk).update(purpose="Mục đích khác")
    report = verify_ledger(chunk=6)
    assert report.first.index == 11 and report.first.kind == "leaf_mismatch"
    assert {p.index for p in report.problems if p.kind != "checkpoint"} == {11}
    with pytest.raises(CommandError):
        run_verify()


@pytest.mark.parametrize("field_name", ["fields", "at", "hidden_until", "actor", "consent_ref", "person_id_number"])
def test_every_committed_field_is_covered(ledger, field_name):
    record = record_at(4)
    values = {"fields": ["religion"], "actor": "ke.gia.mao", "consent_ref": "CONSENT-X",
              "person_id_number": "079000000001", "at": record.at.replace(year=2020),
              "hidden_until": record.at.replace(year=2030)}
    AccessRecord.objects.filter(pk=record.pk).update(**{field_name: values[field_name]})
    assert verify_ledger().first.index == 4


def test_a_deleted_access_record_is_named(ledger):
    record_at(9).delete()
    report = verify_ledger(chunk=6)
    assert report.first.index == 9 and report.first.kind == "missing_record"


def test_a_deleted_ledger_entry_is_named(ledger):
    LedgerEntry.objects.filter(index=13).delete()
    report = verify_ledger(chunk=6)
    assert report.first.index == 13 and report.first.kind == "missing_entry"


def test_swapped_entries_are_named_at_the_first_of_the_two(ledger):
    a, b = LedgerEntry.objects.get(index=5), LedgerEntry.objects.get(index=12)
    LedgerEntry.objects.filter(index=5).update(record_id=-1)
    LedgerEntry.objects.filter(index=12).update(record_id=a.record_id, salt=a.salt, person_seq=a.person_seq)
    LedgerEntry.objects.filter(index=5).update(record_id=b.record_id, salt=b.salt, person_seq=b.person_seq)
    report = verify_ledger(chunk=6)
    assert report.first.index == 5
    assert {p.index for p in report.problems if p.kind == "leaf_mismatch"} == {5, 12}


def test_reordered_access_records_are_detected(ledger):
    """Swapping the contents of two committed records (same ids, contents exchanged)."""
    first, second = record_at(2), record_at(3)
    AccessRecord.objects.filter(pk=first.pk).update(purpose=second.purpose)
    AccessRecord.objects.filter(pk=second.pk).update(purpose=first.purpose)
    assert verify_ledger().first.index == 2


def test_a_tampered_stored_node_is_named(ledger):
    key = node_key(2, 1)  # the subtree over leaves 4..7
    LedgerNode.objects.filter(key=key).update(hash=bytes(32))
    report = verify_ledger(chunk=6)
    assert report.first.index == 4 and report.first.kind == "node_mismatch"
    assert "mức 2, vị trí 1" in report.first.message


def test_a_tampered_leaf_node_is_named(ledger):
    LedgerNode.objects.filter(key=node_key(0, 17)).update(hash=bytes(32))
    assert verify_ledger().first.index == 17


@pytest.mark.parametrize("tamper", ["root_column", "note_root", "signature", "size"])
def test_an_edited_checkpoint_is_detected(ledger, tamper):
    checkpoint = Checkpoint.objects.get(size=16)
    if tamper == "root_column":
        Checkpoint.objects.filter(pk=checkpoint.pk).update(root_hash=bytes(32))
    elif tamper == "note_root":
        lines = checkpoint.note.split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()
        Checkpoint.objects.filter(pk=checkpoint.pk).update(note="\n".join(lines))
    elif tamper == "signature":
        body, sig_line = checkpoint.note.rsplit("\n\n", 1)
        Checkpoint.objects.filter(pk=checkpoint.pk).update(note=body.replace("\n16\n", "\n15\n") + "\n\n" + sig_line)
    else:
        Checkpoint.objects.filter(pk=checkpoint.pk).update(size=15)
    report = verify_ledger()
    assert not report.ok
    assert any(p.kind == "checkpoint" for p in report.problems)


def test_a_rewritten_history_with_consistent_nodes_still_fails_against_the_signed_checkpoints(ledger):
    """An attacker who edits a record AND recomputes its leaf and every node above it is caught by
    the signed checkpoints (they cannot re-sign without the key)."""
    from popid.ledger import merkle
    from popid.ledger.commitments import entry_leaf_hash, record_content

    AccessRecord.objects.filter(pk=record_at(6).pk).update(purpose="Che giấu")
    edge = merkle.CompactRange()
    for entry in LedgerEntry.objects.order_by("index"):
        record = AccessRecord.objects.get(pk=entry.record_id)
        leaf = entry_leaf_hash(entry.index, bytes(entry.salt), record_content(record, person_seq=entry.person_seq))
        for (level, idx), value in edge.append(leaf):
            LedgerNode.objects.filter(key=node_key(level, idx)).update(hash=value)
    report = verify_ledger()
    assert not report.ok
    # the person's head (hash chain) and the person map were not recomputed: they disagree too
    assert {p.kind for p in report.problems} == {"checkpoint", "head", "map"}
    assert report.first.index == 7  # the first checkpoint (size 8) that covers the rewritten entry


def test_entries_deleted_from_the_end_are_detected(ledger):
    LedgerEntry.objects.filter(index__gte=18).delete()
    LedgerNode.objects.filter(key__in=[node_key(0, 18), node_key(0, 19), node_key(1, 9)]).delete()
    LedgerState.objects.update(size=18)
    report = verify_ledger()
    assert not report.ok and report.first.kind == "checkpoint" and "chỉ còn 18" in report.first.message


def test_an_inserted_committed_record_is_detected(ledger):
    AccessRecord.objects.create(actor="ke.gia.mao", person_id_number="001090000001", purpose="Giả mạo",
                                committed_at=record_at(0).committed_at)
    report = verify_ledger()
    assert [p.kind for p in report.problems] == ["inserted"]


def _forge_checkpoint_with_own_key(size: int) -> str:
    """An insider with database access signs a rewritten checkpoint with a key of their own and
    records it as a ledger key."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    from popid.ledger.models import LedgerPublicKey
    from popid.ledger.notes import note_body, sign_note

    private = Ed25519PrivateKey.generate()
    jwk = OKPKey.import_key(private.public_key()).as_dict(private=False)
    LedgerPublicKey.objects.create(kid="eddsa-insider", jwk={**jwk, "kid": "eddsa-insider"},
                                   first_used_at=datetime.now(UTC))
    root = bytes(32)
    body = note_body(origin="popid/access-ledger/v1", size=size, root_hash=root, map_root=root,
                     timestamp=datetime.now(UTC))
    note, signature = sign_note(body=body, kid="eddsa-insider", private_key=private)
    Checkpoint.objects.filter(size=size).update(note=note, kid="eddsa-insider", root_hash=root, signature=signature)
    return "eddsa-insider"


def test_a_checkpoint_resigned_with_an_inserted_key_is_refused_when_keys_are_pinned(ledger, tmp_path):
    import json

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(services.public_jwks()))  # published before the insider acts
    _forge_checkpoint_with_own_key(16)
    unpinned = verify_ledger()
    assert any("eddsa-insider" in w for w in unpinned.warnings)
    pinned = verify_ledger(trusted_keys={k["kid"]: k for k in json.loads(jwks.read_text())["keys"]})
    assert not pinned.ok and pinned.first.kind == "checkpoint"
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--jwks", str(jwks), stdout=StringIO(), stderr=StringIO())


def test_editing_the_recorded_public_key_of_a_stored_key_changes_nothing(ledger):
    from popid.ledger.models import LedgerPublicKey

    LedgerPublicKey.objects.update(jwk={"kty": "OKP", "crv": "Ed25519", "x": "A" * 43})
    report = verify_ledger()
    assert report.ok and not report.warnings
