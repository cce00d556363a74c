"""The sequencer, stored tree, checkpoints and the public ledger API."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from popid.core.access import AccessContext, Actor, record_access
from popid.core.models import AccessRecord
from popid.ledger import merkle, services
from popid.ledger.commitments import entry_leaf_hash, record_content
from popid.ledger.models import Checkpoint, LedgerEntry, LedgerNode
from popid.ledger.notes import NoteError, parse_note, verify_note
from tests.ledger.test_ledger_history import insider

AN = "001090000001"
BINH = "031192000002"


def read(id_numbers, *, actor="cb.hoankiem", purpose="Tra cứu nghiệp vụ", hidden_until=None, fields=("full_name",)):
    ctx = AccessContext(actor=Actor(label=actor, role="officer", level="commune", unit_code="00070",
                                    unit_name="Công an phường Hoàn Kiếm"),
                        purpose=purpose, channel="console", hidden_until=hidden_until)
    record_access(ctx=ctx, person_id_numbers=id_numbers, fields=fields)


def stored_leaves() -> list[bytes]:
    return [bytes(h) for h in LedgerNode.objects.filter(key__lt=1 << 48).order_by("key").values_list("hash", flat=True)]


def recomputed_leaves() -> list[bytes]:
    out = []
    for entry in LedgerEntry.objects.order_by("index"):
        record = AccessRecord.objects.get(pk=entry.record_id)
        out.append(entry_leaf_hash(entry.index, bytes(entry.salt), record_content(record, person_seq=entry.person_seq)))
    return out


def b64d(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.mark.django_db
def test_integrate_commits_every_pending_record_in_id_order_with_salted_leaves():
    read([AN, BINH])
    read([AN], hidden_until=timezone.now() + timedelta(days=30), purpose="Điều tra vụ án")
    read([AN])
    assert AccessRecord.objects.filter(committed_at__isnull=True).count() == 4

    result = services.integrate(batch_size=3)  # two batches

    assert result.added == 4 and result.size == 4
    assert not AccessRecord.objects.filter(committed_at__isnull=True).exists()
    entries = list(LedgerEntry.objects.order_by("index"))
    record_ids = list(AccessRecord.objects.order_by("id").values_list("id", flat=True))
    assert [e.record_id for e in entries] == record_ids
    assert len({bytes(e.salt) for e in entries}) == 4 and all(len(bytes(e.salt)) == 32 for e in entries)
    # the citizen's ordinary entries are numbered 0, 1, …; the confidential one stays out of the chain
    by_person = {(AccessRecord.objects.get(pk=e.record_id).person_id_number, e.person_seq) for e in entries}
    assert by_person == {(AN, 0), (BINH, 0), (AN, None), (AN, 1)}
    assert stored_leaves() == recomputed_leaves()
    assert services.tree_root(4) == merkle.root_of(recomputed_leaves())
    assert services.integrate().added == 0  # nothing left: idempotent


@pytest.mark.django_db
def test_leaves_hold_no_personal_data():
    read([AN], purpose="Xác thực eKYC")
    services.integrate()
    leaf = stored_leaves()[0]
    entry = LedgerEntry.objects.get()
    record = AccessRecord.objects.get()
    content = record_content(record, person_seq=entry.person_seq)
    # the leaf is the RFC 9162 hash of version ‖ index ‖ commitment: nothing else goes in
    from popid.ledger.commitments import commitment, leaf_data

    data = leaf_data(0, commitment(bytes(entry.salt), content))
    assert len(data) == 41 and AN.encode() not in data
    assert leaf == merkle.leaf_hash(data)


@pytest.mark.django_db
def test_proofs_from_the_stored_tree_verify_against_a_signed_checkpoint():
    for i in range(37):
        read([f"0010900000{i:02d}"])
    services.integrate()
    checkpoint = services.create_checkpoint() or services.latest_checkpoint()
    assert checkpoint.size == 37
    parsed = verify_note(checkpoint.note, services.verification_keys())
    assert parsed.size == 37 and parsed.root_hash == bytes(checkpoint.root_hash)
    leaves = recomputed_leaves()
    for index in range(37):
        merkle.verify_inclusion(index, 37, leaves[index], services.inclusion_proof(index, 37), parsed.root_hash)
    for first in range(1, 37):
        merkle.verify_consistency(first, 37, services.consistency_proof(first, 37),
                                  merkle.root_of(leaves[:first]), parsed.root_hash)
    batch = services.inclusion_proofs([3, 29, 12], 30)
    assert batch[3] == services.inclusion_proof(3, 30) and batch[29] == services.inclusion_proof(29, 30)


@pytest.mark.django_db
def test_checkpoints_follow_the_policy(monkeypatch):
    monkeypatch.setenv("POPID_LEDGER_CHECKPOINT_ENTRIES", "5")
    monkeypatch.setenv("POPID_LEDGER_CHECKPOINT_SECONDS", "3600")
    read([AN])
    assert services.integrate().checkpoint.size == 1  # the first entries always get one
    read([AN, BINH])
    assert services.integrate().checkpoint is None  # 2 < 5 entries, younger than an hour
    read([f"0010900001{i:02d}" for i in range(3)])
    assert services.integrate().checkpoint.size == 6
    assert services.create_checkpoint() is None  # nothing new to sign
    read([AN])
    with insider():  # the clock moved on: age the checkpoint (rows are otherwise append-only)
        Checkpoint.objects.update(timestamp=timezone.now() - timedelta(hours=2))
    assert services.integrate().checkpoint.size == 7


@pytest.mark.django_db
def test_a_tampered_note_does_not_verify():
    read([AN])
    services.integrate()
    note = services.latest_checkpoint().note
    keys = services.verification_keys()
    verify_note(note, keys)
    lines = note.split("\n")
    lines[1] = "2"
    with pytest.raises(NoteError):
        verify_note("\n".join(lines), keys)
    with pytest.raises(NoteError):
        parse_note("popid\n1\n")
    with pytest.raises(NoteError):
        verify_note(note, {})


def _integrate_in_thread(errors: list[BaseException], rounds: int) -> None:
    try:
        for _ in range(rounds):
            services.integrate(batch_size=7, checkpoint=False)
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)
    finally:
        connection.close()


def _read_in_thread(errors: list[BaseException], prefix: int) -> None:
    try:
        for i in range(25):
            read([f"00109{prefix:03d}{i:04d}"])
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_and_integrators_give_one_gapless_log():
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_read_in_thread, args=(errors, p)) for p in range(3)]
    threads += [threading.Thread(target=_integrate_in_thread, args=(errors, 15)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    services.integrate()
    assert AccessRecord.objects.count() == 75 == services.ledger_size()
    assert sorted(LedgerEntry.objects.values_list("index", flat=True)) == list(range(75))
    assert LedgerEntry.objects.values("record_id").distinct().count() == 75
    assert services.tree_root(75) == merkle.root_of(recomputed_leaves())


# --- API ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_public_api_serves_checkpoints_proofs_and_keys():
    client = Client()
    assert client.get("/api/v1/ledger/checkpoints/latest").status_code == 404  # nothing yet
    for i in range(11):
        read([f"0010900002{i:02d}"])
    latest = client.get("/api/v1/ledger/checkpoints/latest").json()  # integrates lazily
    assert latest["size"] == 11
    jwks = client.get("/api/v1/ledger/keys").json()
    keys = {k["kid"]: k for k in jwks["keys"]}
    assert keys[latest["kid"]]["crv"] == "Ed25519" and "d" not in keys[latest["kid"]]
    parsed = verify_note(latest["note"], keys)
    assert base64.b64encode(parsed.root_hash).decode() == latest["root_hash"]
    assert client.get("/api/v1/ledger/checkpoints/11").json()["note"] == latest["note"]

    proof = client.get("/api/v1/ledger/proofs/inclusion", {"index": 4, "size": 11}).json()
    merkle.verify_inclusion(4, 11, b64d(proof["leaf_hash"]), [b64d(p) for p in proof["audit_path"]],
                            parsed.root_hash)
    read([AN])
    services.integrate()
    services.create_checkpoint()
    newer = client.get("/api/v1/ledger/checkpoints/latest").json()
    consistency = client.get("/api/v1/ledger/proofs/consistency", {"first": 11, "second": newer["size"]}).json()
    merkle.verify_consistency(11, newer["size"], [b64d(p) for p in consistency["consistency_path"]],
                              parsed.root_hash, b64d(newer["root_hash"]))


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "params", "status", "code"), [
    ("/api/v1/ledger/proofs/inclusion", {"index": 3, "size": 3}, 404, "leaf_index_out_of_range"),
    ("/api/v1/ledger/proofs/inclusion", {"index": -1, "size": 3}, 422, "validation_failed"),
    ("/api/v1/ledger/proofs/inclusion", {"index": 0, "size": 99}, 404, "tree_size_not_reached"),
    ("/api/v1/ledger/proofs/inclusion", {"index": "x", "size": 3}, 422, "validation_failed"),
    ("/api/v1/ledger/proofs/inclusion", {"size": 3}, 422, "validation_failed"),
    ("/api/v1/ledger/proofs/consistency", {"first": 3, "second": 2}, 404, "tree_size_out_of_range"),
    ("/api/v1/ledger/proofs/consistency", {"first": 1, "second": 4}, 404, "tree_size_not_reached"),
    ("/api/v1/ledger/checkpoints/2", {}, 404, "checkpoint_not_found"),
    ("/api/v1/ledger/checkpoints/abc", {}, 422, "validation_failed"),
    ("/api/v1/ledger/checkpoints/" + "9" * 30, {}, 404, "checkpoint_not_found"),
    ("/api/v1/ledger/proofs/inclusion", {"index": "9" * 30, "size": 3}, 404, "leaf_index_out_of_range"),
    ("/api/v1/ledger/proofs/consistency", {"first": 1, "second": "9" * 30}, 404, "tree_size_not_reached"),
])
def test_bad_input_is_a_problem_and_changes_nothing(url, params, status, code):
    read([AN, BINH, "001090000003"])
    services.integrate()
    before = (services.ledger_size(), Checkpoint.objects.count(), LedgerNode.objects.count())
    response = Client().get(url, params)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert (services.ledger_size(), Checkpoint.objects.count(), LedgerNode.objects.count()) == before


@pytest.mark.django_db
def test_cli_integrate_and_checkpoint(capsys):
    from django.core.management import call_command

    read([AN, BINH])
    call_command("ledger", "integrate", "--no-checkpoint")
    assert "Đã cam kết 2 bản ghi; sổ cái có 2 mục." in capsys.readouterr().out
    assert Checkpoint.objects.count() == 0
    call_command("ledger", "checkpoint")
    out = capsys.readouterr().out
    assert out.startswith("popid/access-ledger/v1\n2\n") and "— popid-ledger " in out
    call_command("ledger", "checkpoint")
    assert "Không có mục mới" in capsys.readouterr().out
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_seed_demo_commits_everything_and_is_idempotent():
    from django.apps import apps

    read([AN, BINH, "001090000003"])
    config = apps.get_app_config("ledger")
    first = config.seed_demo()
    assert "3 bản ghi truy cập mới" in first[0] and services.ledger_size() == 3
    second = config.seed_demo()
    assert "0 bản ghi truy cập mới" in second[0]
    assert services.ledger_size() == 3 and Checkpoint.objects.count() == 1
