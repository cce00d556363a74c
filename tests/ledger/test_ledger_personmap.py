"""The person map (sparse Merkle tree of per-person heads, root in every checkpoint): proofs of
presence and absence, incremental updates equal to a rebuild, and completeness of a citizen's
history — a deleted, reordered or hidden newest entry fails `verify-bundle` and `popid ledger
verify`, naming why. Also: the append-only triggers and the `popid_app` role on PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from popid.core.models import AccessRecord
from popid.ledger import personmap, selectors, services
from popid.ledger.bundle import verify_bundle
from popid.ledger.models import Checkpoint, LedgerEntry, LedgerMapNode, LedgerPersonHead, LedgerState
from popid.ledger.verify import verify_ledger
from tests.ledger.test_ledger_history import insider, make_account, read

on_postgres = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="triggers and roles are PostgreSQL's")


def _key(i: int) -> bytes:
    return hashlib.sha256(f"k{i}".encode()).digest()


def _leaf(i: int, v: int = 0) -> bytes:
    return personmap.leaf_hash(_key(i), hashlib.sha256(f"v{i}.{v}".encode()).digest())


# --- pure map ------------------------------------------------------------------------------------
def _proof_from_nodes(nodes: dict[bytes, personmap.NodeRow], leaves: dict[bytes, bytes], key: bytes,
                      digests: dict[bytes, bytes]) -> personmap.MapProof:
    row, depth, siblings = nodes[personmap.ROOT_ID], 0, []
    while True:
        own, other = (row.left, row.right) if personmap.bit(key, depth) == 0 else (row.right, row.left)
        siblings.append(other.hash)
        if not own.is_node:
            break
        depth += 1
        row = nodes[personmap.path_id(key, depth)]
    if own.leaf_key is None:
        return personmap.MapProof(siblings)
    return personmap.MapProof(siblings, own.leaf_key, digests[own.leaf_key])


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, 10_000), min_size=0, max_size=60), st.integers(0, 10_000))
def test_every_present_key_proves_its_head_and_every_absent_key_its_absence(present, probe):
    digests = {_key(i): hashlib.sha256(f"v{i}".encode()).digest() for i in present}
    leaves = {k: personmap.leaf_hash(k, d) for k, d in digests.items()}
    nodes = personmap.nodes_of(leaves)
    root = personmap.root_of(leaves)
    for key in [*list(leaves)[:10], _key(probe)]:
        proof = _proof_from_nodes(nodes, leaves, key, digests)
        assert personmap.root_from_proof(key, proof) == root
        if key in leaves:
            assert proof.terminal_key == key and proof.terminal_digest == digests[key]
        else:
            assert proof.terminal_key != key


def test_a_proof_cannot_hide_a_present_head_or_show_a_changed_one():
    digests = {_key(i): hashlib.sha256(f"v{i}".encode()).digest() for i in range(50)}
    leaves = {k: personmap.leaf_hash(k, d) for k, d in digests.items()}
    nodes, root = personmap.nodes_of(leaves), personmap.root_of(leaves)
    key = _key(7)
    good = _proof_from_nodes(nodes, leaves, key, digests)
    head = personmap.Head(3, 40, bytes(32))
    with pytest.raises(personmap.MapProofError):  # a different value for the key
        personmap.verify_head(key, head, good, root)
    absent = personmap.MapProof(good.siblings)  # claim "nothing there"
    with pytest.raises(personmap.MapProofError):
        personmap.verify_head(key, None, absent, root)
    other = _key(8)  # another leaf passed off as the terminal on this key's path
    diverging = next(d for d in range(256) if personmap.bit(key, d) != personmap.bit(other, d))
    forged = personmap.MapProof(good.siblings[:diverging + 1] or [bytes(32)], other, digests[other])
    with pytest.raises(personmap.MapProofError):
        personmap.root_from_proof(key, forged)
    flipped = personmap.MapProof([bytes(32), *good.siblings[1:]], key, digests[key])
    with pytest.raises(personmap.MapProofError):
        personmap.verify_head(key, None, flipped, root)
    with pytest.raises(personmap.MapProofError):
        personmap.root_from_proof(key, personmap.MapProof([]))


def test_incremental_updates_equal_a_rebuild(db):
    rng = random.Random(3)
    current: dict[bytes, bytes] = {}
    for batch in range(6):
        changed = {}
        for _ in range(rng.randrange(1, 40)):
            i = rng.randrange(120)
            changed[_key(i)] = _leaf(i, batch)
        root = services.update_person_map(changed)
        current.update(changed)
        assert root == personmap.root_of(current) == services.map_root()
        stored = {bytes(r.path): (bytes(r.left), bytes(r.right)) for r in LedgerMapNode.objects.all()}
        assert stored == {p: (n.left.hash, n.right.hash) for p, n in personmap.nodes_of(current).items()}


# --- the ledger's heads ----------------------------------------------------------------------------
@pytest.fixture
def an_history(family):
    an = family["an"]
    account = make_account(an)
    for purpose in ["Đăng ký thường trú", "Cấp lại thẻ", "Xác thực eKYC"]:
        read(an, purpose=purpose)
        read(family["binh"], purpose="Tra cứu người khác")
    read(an, purpose="Điều tra vụ án", hidden_until=timezone.now() + timedelta(days=90))
    read(an, purpose="Tra cứu mới nhất")
    services.integrate_and_checkpoint()
    return an, account


def _bundle(an):
    return selectors.proof_bundle(selectors.access_history(person=an))


def _keys():
    return {k["kid"]: k for k in services.public_jwks()["keys"]}


def test_the_signed_head_proves_the_history_complete(an_history):
    an, _account = an_history
    bundle = _bundle(an)
    assert len(bundle["entries"]) == 4  # the hidden entry is neither shown nor counted
    (head,) = bundle["heads"]
    assert head["head"]["count"] == 4 and head["proof"]["terminal"]["key"] == head["key"]
    assert "map " in bundle["checkpoint"]["note"] and bundle["checkpoint"]["map_root"]
    report = verify_bundle(bundle, trusted_keys=_keys())
    assert report.ok, (report.problems, report.entries)
    assert verify_ledger().ok


def _last_of_an(an) -> AccessRecord:
    return AccessRecord.objects.filter(person_id_number=an.id_number, purpose="Tra cứu mới nhất").get()


@pytest.mark.parametrize("attack", ["delete_record", "delete_entry", "hide", "reorder"])
def test_a_tampered_newest_entry_fails_verify_bundle_and_verify_naming_why(an_history, attack, tmp_path):
    an, _account = an_history
    last = _last_of_an(an)
    with insider():
        if attack == "delete_record":
            AccessRecord.objects.filter(pk=last.pk).delete()
        elif attack == "delete_entry":
            LedgerEntry.objects.filter(record_id=last.pk).delete()
        elif attack == "hide":
            AccessRecord.objects.filter(pk=last.pk).update(hidden_until=timezone.now() + timedelta(days=365))
        else:  # the newest entry swapped with the one before it, in the records the page reads
            previous = AccessRecord.objects.filter(person_id_number=an.id_number, purpose="Xác thực eKYC").get()
            fields = ("at", "purpose")
            a, b = ({f: getattr(r, f) for f in fields} for r in (last, previous))
            AccessRecord.objects.filter(pk=last.pk).update(**b)
            AccessRecord.objects.filter(pk=previous.pk).update(**a)
    bundle = _bundle(an)
    report = verify_bundle(bundle, trusted_keys=_keys())
    assert not report.ok
    if attack == "reorder":
        assert not all(e.ok for e in report.entries)
    else:  # every shown entry still verifies: only the signed head shows the missing newest one
        assert all(e.ok for e in report.entries)
        assert any("signed head counts 4 entries, the bundle has 3" in p and "deleted or withheld" in p
                   for p in report.problems), report.problems
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify-bundle", str(path), stdout=StringIO(), stderr=err)
    assert an.id_number in err.getvalue() or "KHÔNG hợp lệ" in err.getvalue()
    assert not verify_ledger().ok


def test_a_server_that_drops_the_head_or_lies_about_it_fails(an_history):
    an, _account = an_history
    bundle = _bundle(an)
    no_head = copy.deepcopy(bundle)
    no_head["heads"] = []
    assert any("no signed head" in p for p in verify_bundle(no_head).problems)
    absent = copy.deepcopy(bundle)
    absent["heads"][0]["proof"]["terminal"] = None
    assert any("does not lead" in p for p in verify_bundle(absent).problems)
    shorter = copy.deepcopy(bundle)
    shorter["entries"] = [e for e in shorter["entries"] if e["content"]["purpose"] != "Tra cứu mới nhất"]
    shorter["heads"][0]["head"]["count"] = 3  # the claimed head is not the signed one
    problems = verify_bundle(shorter).problems
    assert problems and all("counts 3" not in p for p in problems)
    legacy = copy.deepcopy(bundle)
    legacy["id_numbers"] = []
    assert not verify_bundle(legacy).ok


def test_a_person_with_no_entries_gets_a_proof_of_absence(family):
    read(family["binh"], purpose="Tra cứu")
    services.integrate_and_checkpoint()
    bundle = _bundle(family["an"])
    assert bundle["entries"] == [] and bundle["heads"][0]["head"] is None
    assert verify_bundle(bundle, trusted_keys=_keys()).ok


def test_an_edited_head_or_map_node_fails_verify(an_history):
    an, _account = an_history
    with insider():
        LedgerPersonHead.objects.filter(person_id_number=an.id_number).update(next_seq=9)
    report = verify_ledger()
    assert {p.kind for p in report.problems} == {"head"}
    with insider():
        LedgerPersonHead.objects.filter(person_id_number=an.id_number).update(next_seq=4)
        LedgerMapNode.objects.filter(path=personmap.ROOT_ID).update(left=b"\x01" * 32, right=b"\x02" * 32)
    assert {p.kind for p in verify_ledger().problems} == {"map"}


def test_integrate_and_checkpoint_is_cheap_and_idempotent(family):
    assert services.integrate_and_checkpoint().added == 0 and not Checkpoint.objects.exists()
    read(family["an"], purpose="Tra cứu")
    first = services.integrate_and_checkpoint()
    assert first.added == 1 and first.checkpoint is not None and first.checkpoint.map_root is not None
    again = services.integrate_and_checkpoint()
    assert again.added == 0 and again.checkpoint is None and Checkpoint.objects.count() == 1


# --- append-only in PostgreSQL ---------------------------------------------------------------------
@on_postgres
def test_access_records_and_ledger_rows_refuse_update_and_delete(family):
    read(family["an"], purpose="Chưa cam kết")
    pending = AccessRecord.objects.get(purpose="Chưa cam kết")
    for attempt in (lambda: AccessRecord.objects.filter(pk=pending.pk).update(purpose="Sửa"),
                    lambda: AccessRecord.objects.filter(pk=pending.pk).delete(),
                    lambda: AccessRecord.objects.filter(pk=pending.pk).update(committed_at=timezone.now(),
                                                                              purpose="Sửa")):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AccessRecord.objects.get(pk=pending.pk).purpose == "Chưa cam kết"
    services.integrate_and_checkpoint()  # the sequencer's own stamp is allowed, once
    committed = AccessRecord.objects.get(pk=pending.pk)
    assert committed.committed_at is not None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessRecord.objects.filter(pk=pending.pk).update(committed_at=None)
    for attempt in (lambda: LedgerEntry.objects.update(person_seq=5), lambda: LedgerEntry.objects.all().delete(),
                    lambda: Checkpoint.objects.all().delete(), lambda: Checkpoint.objects.update(note="x"),
                    lambda: LedgerState.objects.all().delete(), lambda: LedgerState.objects.update(size=0),
                    lambda: LedgerPersonHead.objects.update(next_seq=0),
                    lambda: LedgerMapNode.objects.all().delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert verify_ledger().ok


@on_postgres
def test_the_app_role_cannot_rewrite_history(family):
    """Role creation and grants are transactional in PostgreSQL: the test's rollback undoes them."""
    role = f"popid_app_{connection.settings_dict['NAME']}"[:60]
    owner = f"popid_owner_{connection.settings_dict['NAME']}"[:60]
    read(family["an"], purpose="Chưa cam kết")
    with connection.cursor() as cursor:  # ALTER TABLE … OWNER waits for no deferred FK check of the fixtures
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    call_command("ledger", "db-roles", "--app-role", role, "--owner-role", owner, stdout=out)
    assert f'ALTER TABLE "public"."core_accessrecord" OWNER TO "{owner}"' in out.getvalue()
    call_command("ledger", "db-roles", "--app-role", role, stdout=StringIO())  # idempotent
    with pytest.raises(CommandError):
        call_command("ledger", "db-roles", "--app-role", "x; DROP TABLE core_accessrecord", stdout=StringIO())
    try:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:  # the owner too is held by the trigger
            cursor.execute(f'SET LOCAL ROLE "{owner}"')
            cursor.execute("DELETE FROM core_accessrecord")
        pk = AccessRecord.objects.get(purpose="Chưa cam kết").pk
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'SET LOCAL ROLE "{role}"')
            read(family["an"], purpose="Đọc bằng vai trò ứng dụng")  # may insert
            services.integrate_and_checkpoint()  # may run the sequencer
            assert AccessRecord.objects.filter(committed_at__isnull=True).count() == 0
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
        for statement in ("UPDATE core_accessrecord SET purpose = 'x' WHERE id = %s",
                          "UPDATE core_accessrecord SET committed_at = NULL WHERE id = %s",
                          "DELETE FROM core_accessrecord WHERE id = %s",
                          "TRUNCATE ledger_ledgerentry",
                          "ALTER TABLE core_accessrecord DISABLE TRIGGER USER"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f'SET LOCAL ROLE "{role}"')
                cursor.execute(statement, [pk] if "%s" in statement else None)
        assert verify_ledger().ok
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_the_migration_builds_heads_and_map_for_entries_committed_before_the_map(an_history):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("popid.ledger.migrations.0002_person_map")
    heads = sorted(LedgerPersonHead.objects.values_list("person_id_number", "next_seq", "last_index", "chain",
                                                        "map_key"))
    nodes = sorted(LedgerMapNode.objects.values_list("path", "left", "right", "left_key", "right_key"))
    with insider():  # as before migration 0002: heads without chains, no map
        LedgerMapNode.objects.all().delete()
        LedgerPersonHead.objects.update(last_index=None, chain=None, map_key=None)
    migration.build_person_map(apps, None)
    assert sorted(LedgerPersonHead.objects.values_list("person_id_number", "next_seq", "last_index", "chain",
                                                       "map_key")) == heads
    assert sorted(LedgerMapNode.objects.values_list("path", "left", "right", "left_key", "right_key")) == nodes
    assert verify_ledger().ok
