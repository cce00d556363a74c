"""Access ledger at scale: appends per second into the stored tree on PostgreSQL, and inclusion /
consistency proof generation and verification at ``--entries`` leaves (default 10 million),
each against hashing the same leaves alone in the same run.

1. Build: ``--entries`` committed access records with their salts, leaves and every perfect node
   are written with COPY (the bulk of the tree is *loaded*, not appended through the sequencer:
   that would take hours here). The leaves are computed with the ledger's own code
   (``record_content``, ``entry_leaf_hash``, ``CompactRange``); the time of that hashing alone is
   the **hash baseline** (SHA-256 of commitments, leaves and nodes, no database).
2. Appends: ``--append`` new pending access records (as ``record_access`` leaves them), then
   ``services.integrate`` commits them on top of the big tree: appends/s, against hashing the
   same leaves alone (content, commitment, leaf, node hashes) in memory.
3. Proofs at the final size: ``--samples`` random inclusion proofs and consistency proofs served
   from the stored nodes, and their verification (RFC 9162 §2.1.3.2/§2.1.4.2), p50/p99; baseline:
   recomputing the root from all leaf hashes (what a proof saves), measured in step 1.
4. A sample of leaves is recomputed from the database through the real code path and compared,
   so the loaded tree is the tree the ledger would have built.
5. The person map (issue #10): the load also writes every person's head and the map's nodes
   (built in memory with ``personmap``); the appends update it incrementally per batch through
   the real sequencer; ``--samples`` head proofs (completeness) are generated and verified.

Run: .venv/bin/python benchmarks/bench_ledger.py [--entries 10000000] [--append 20000]
Uses its own database (POPID_BENCH_LEDGER_URL, default …/popid_bench_ledger) and data dir.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("POPID_BENCH_DATA_DIR", "/tmp/popid-bench-ledger")  # before common reads it
import psycopg

from common import BENCH_URL, latency_summary, popid, recreate_database, setup_django, write_result

URL = os.environ.get("POPID_BENCH_LEDGER_URL", BENCH_URL.rsplit("/", 1)[0] + "/popid_bench_ledger")

BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
ACTORS = [("cb.hoankiem", "Công an phường Hoàn Kiếm", "console"), ("ngan-hang-demo/ekyc", "Ngân hàng Demo", "ekyc"),
          ("bhxh/tra-cuu", "Bảo hiểm xã hội Việt Nam", "exchange"), ("dvc-demo", "Cổng dịch vụ công", "oidc")]
PURPOSES = ["Tra cứu nghiệp vụ", "Xác thực eKYC mở tài khoản", "Kiểm tra đối tượng hưởng chính sách",
            "Cung cấp thông tin đăng nhập dịch vụ công"]
FIELDS = [["full_name", "birth_date"], ["full_name", "birth_date", "permanent_address"], ["life_status"],
          ["full_name", "id_number", "birth_date", "sex"]]


class Row:
    """Just the attributes ``record_content`` reads, so the real function builds the content."""

    __slots__ = (
        "actor",
        "actor_unit",
        "at",
        "channel",
        "consent_ref",
        "fields",
        "hidden_until",
        "legal_basis",
        "person_id_number",
        "pk",
        "purpose",
    )

    def __init__(self, pk: int, persons: int) -> None:
        kind = pk % len(ACTORS)
        self.pk = pk
        self.at = BASE_TIME + timedelta(microseconds=pk * 997)
        self.actor, self.actor_unit, self.channel = ACTORS[kind]
        self.person_id_number = f"0010{(pk * 7919) % persons:08d}"
        self.purpose = PURPOSES[kind]
        self.legal_basis = "Luật Căn cước 2023, Điều 9"
        self.consent_ref = f"CONSENT-{pk}" if kind == 1 else ""
        self.fields = FIELDS[kind]
        self.hidden_until = None


def build(entries: int, persons: int, chunk: int) -> dict:
    """COPY the records, entries and nodes of a tree of ``entries`` leaves; returns timings."""
    import json

    from popid.ledger import merkle, personmap
    from popid.ledger.commitments import entry_leaf_hash, record_content
    from popid.ledger.models import node_key

    edge = merkle.CompactRange()
    heads: dict[str, personmap.Head] = {}
    hash_seconds = 0.0
    started = time.perf_counter()
    committed = datetime.now(UTC)
    with psycopg.connect(URL) as conn:
        for start in range(0, entries, chunk):
            records, ledger_entries, nodes = [], [], []
            hash_started = time.perf_counter()
            for index in range(start, min(start + chunk, entries)):
                row = Row(index + 1, persons)
                head = heads.get(row.person_id_number)
                seq = head.count if head else 0
                salt = secrets.token_bytes(32)
                leaf = entry_leaf_hash(index, salt, record_content(row, person_seq=seq))
                heads[row.person_id_number] = personmap.Head(seq + 1, index, personmap.chain_step(
                    head.chain if head else personmap.CHAIN_START, leaf))
                nodes.extend((node_key(*node), value) for node, value in edge.append(leaf))
                records.append(row)
                ledger_entries.append((index, row.pk, salt, seq))
            hash_seconds += time.perf_counter() - hash_started
            with conn.cursor() as cur:
                with cur.copy("COPY core_accessrecord (id, at, actor, actor_unit, person_id_number, purpose, "
                              "legal_basis, consent_ref, channel, fields, committed_at) FROM STDIN") as copy:
                    for r in records:
                        copy.write_row((r.pk, r.at, r.actor, r.actor_unit, r.person_id_number, r.purpose,
                                        r.legal_basis, r.consent_ref, r.channel, json.dumps(r.fields), committed))
                with cur.copy("COPY ledger_ledgerentry (index, record_id, salt, person_seq, integrated_at) "
                              "FROM STDIN") as copy:
                    for index, record_id, salt, seq in ledger_entries:
                        copy.write_row((index, record_id, salt, seq, committed))
                with cur.copy("COPY ledger_ledgernode (key, hash) FROM STDIN") as copy:
                    for key, value in nodes:
                        copy.write_row((key, value))
            conn.commit()
            done = min(start + chunk, entries)
            print(f"  loaded {done:,} / {entries:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        map_started = time.perf_counter()
        leaves = {personmap.person_key(p): personmap.leaf_hash(personmap.person_key(p), h.digest())
                  for p, h in heads.items()}
        map_nodes = personmap.nodes_of(leaves)
        map_seconds = time.perf_counter() - map_started
        with conn.cursor() as cur:
            with cur.copy("COPY ledger_ledgerpersonhead (person_id_number, next_seq, last_index, chain, map_key) "
                          "FROM STDIN") as copy:
                for person, head in heads.items():
                    copy.write_row((person, head.count, head.last_index, head.chain, personmap.person_key(person)))
            with cur.copy('COPY ledger_ledgermapnode (path, "left", "right", left_key, right_key) '
                          "FROM STDIN") as copy:
                for path, node in map_nodes.items():
                    copy.write_row((path, node.left.hash, node.right.hash, node.left.leaf_key, node.right.leaf_key))
            cur.execute("INSERT INTO ledger_ledgerstate (id, size, updated_at) VALUES (1, %s, now()) "
                        "ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size", (entries,))
            cur.execute("SELECT setval(pg_get_serial_sequence('core_accessrecord', 'id'), %s)", (entries,))
            cur.execute("ANALYZE")
        conn.commit()
    root_started = time.perf_counter()
    edge.root()
    return {"load_seconds": round(time.perf_counter() - started, 1), "hash_seconds": round(hash_seconds, 2),
            "persons": len(heads), "person_map_nodes": len(map_nodes),
            "person_map_build_seconds": round(map_seconds, 2),
            "person_map_root": map_nodes[personmap.ROOT_ID].hash().hex(),
            "fold_root_seconds": round(time.perf_counter() - root_started, 6), "root": edge.root().hex()}


def rehash_all_leaves(size: int) -> float:
    """Baseline for proofs: recompute MTH from every stored leaf hash (streamed from PostgreSQL)."""
    from popid.ledger import merkle

    started = time.perf_counter()
    edge = merkle.CompactRange()
    with psycopg.connect(URL) as conn, conn.cursor(name="leaves") as cur:
        cur.itersize = 100_000
        cur.execute("SELECT hash FROM ledger_ledgernode WHERE key < %s ORDER BY key", (size,))
        for (value,) in cur:
            edge.append(bytes(value))
    return time.perf_counter() - started


def append_pending(count: int, first_pk: int, persons: int) -> None:
    """Pending access records exactly as record_access leaves them (committed_at NULL)."""
    import json

    with psycopg.connect(URL) as conn, conn.cursor() as cur:
        with cur.copy("COPY core_accessrecord (id, at, actor, actor_unit, person_id_number, purpose, legal_basis, "
                      "consent_ref, channel, fields) FROM STDIN") as copy:
            for pk in range(first_pk, first_pk + count):
                r = Row(pk, persons)
                copy.write_row((r.pk, r.at, r.actor, r.actor_unit, r.person_id_number, r.purpose, r.legal_basis,
                                r.consent_ref, r.channel, json.dumps(r.fields)))
        cur.execute("SELECT setval(pg_get_serial_sequence('core_accessrecord', 'id'), %s)", (first_pk + count - 1,))
        conn.commit()


def hash_only(count: int, first_pk: int, persons: int, start_index: int) -> float:
    """Baseline for appends: the same leaves hashed in memory (content, commitment, leaf, nodes)."""
    from popid.ledger import merkle
    from popid.ledger.commitments import entry_leaf_hash, record_content

    edge = merkle.CompactRange()
    started = time.perf_counter()
    for offset, pk in enumerate(range(first_pk, first_pk + count)):
        leaf = entry_leaf_hash(start_index + offset, secrets.token_bytes(32), record_content(Row(pk, persons),
                                                                                            person_seq=0))
        edge.append(leaf)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--append", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep a tree already built by an earlier run (at least --entries leaves); "
                             "measure appends and proofs on top of it")
    parser.add_argument("--result-name", default="ledger")
    args = parser.parse_args()

    existing = 0
    if args.reuse:
        with contextlib.suppress(psycopg.Error), psycopg.connect(URL) as conn:
            existing = conn.execute("SELECT size FROM ledger_ledgerstate WHERE id = 1").fetchone()[0]
    if existing < args.entries:
        recreate_database(URL)
    popid("migrate", "-v0", "--skip-checks", url=URL)
    setup_django(URL)
    from django.db import connection

    from popid.core.models import AccessRecord
    from popid.ledger import merkle, services
    from popid.ledger.commitments import entry_leaf_hash, record_content
    from popid.ledger.models import LedgerEntry

    if existing >= args.entries:
        start_size = existing
        sample = min(existing, 1_000_000)
        print(f"reusing the ledger of {existing:,} entries; hashing {sample:,} leaves for the baseline", flush=True)
        built = {"reused_entries": existing, "hash_sample_leaves": sample,
                 "hash_seconds": round(hash_only(sample, 1, args.persons, 0), 2)}
        per_leaf_hash_us = built["hash_seconds"] / sample * 1e6
    else:
        print(f"building a ledger of {args.entries:,} entries …", flush=True)
        start_size = args.entries
        built = build(args.entries, args.persons, args.chunk)
        services.create_checkpoint()
        first = services.latest_checkpoint()
        assert bytes(first.root_hash).hex() == built["root"]
        assert bytes(first.map_root).hex() == built["person_map_root"]
        per_leaf_hash_us = built["hash_seconds"] / args.entries * 1e6

    # appends on top of the big tree, through the real sequencer
    first_pk = AccessRecord.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    append_pending(args.append, first_pk, args.persons)
    started = time.perf_counter()
    result = services.integrate(batch_size=args.batch_size, checkpoint=False)
    append_seconds = time.perf_counter() - started
    assert result.added == args.append
    baseline_seconds = hash_only(args.append, first_pk, args.persons, start_size)
    services.create_checkpoint()
    size = services.ledger_size()
    latest = services.latest_checkpoint()
    root = bytes(latest.root_hash)

    # the loaded tree is the tree the ledger builds: recompute sampled leaves through the real code
    rng = random.Random(7)
    for index in rng.sample(range(size), 50):
        entry = LedgerEntry.objects.get(index=index)
        record = AccessRecord.objects.get(pk=entry.record_id)
        leaf = entry_leaf_hash(index, bytes(entry.salt), record_content(record, person_seq=entry.person_seq))
        assert leaf == services.leaf_hash_at(index), index

    gen, ver, cgen, cver = [], [], [], []
    for _ in range(args.samples):
        index = rng.randrange(size)
        leaf = services.leaf_hash_at(index)
        t0 = time.perf_counter()
        path = services.inclusion_proof(index, size)
        t1 = time.perf_counter()
        merkle.verify_inclusion(index, size, leaf, path, root)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        ver.append(t2 - t1)
        old = rng.randrange(1, size)
        old_root = services.tree_root(old)
        t0 = time.perf_counter()
        proof = services.consistency_proof(old, size)
        t1 = time.perf_counter()
        merkle.verify_consistency(old, size, proof, old_root, root)
        t2 = time.perf_counter()
        cgen.append(t1 - t0)
        cver.append(t2 - t1)
    # completeness proofs: a person's head and its sparse-Merkle proof against the signed map root
    from popid.ledger import personmap

    hgen, hver = [], []
    for _ in range(args.samples):
        id_number = Row(rng.randrange(1, size), args.persons).person_id_number
        t0 = time.perf_counter()
        head, proof = services.head_proof(id_number)
        t1 = time.perf_counter()
        personmap.verify_head(personmap.person_key(id_number), head, proof, bytes(latest.map_root))
        hgen.append(t1 - t0)
        hver.append(time.perf_counter() - t1)
    rehash_seconds = rehash_all_leaves(size)
    connection.close()

    write_result(args.result_name, {
        "entries": size, "database": "PostgreSQL", "build": built,
        "append": {"records": args.append, "batch_size": args.batch_size, "seconds": round(append_seconds, 3),
                   "appends_per_second": round(args.append / append_seconds, 1),
                   "hash_only_seconds": round(baseline_seconds, 3),
                   "hash_only_per_second": round(args.append / baseline_seconds, 1),
                   "ratio_vs_hash_only": round(append_seconds / baseline_seconds, 2)},
        "hash_baseline": {"per_leaf_us": round(per_leaf_hash_us, 2),
                          "rehash_all_stored_leaves_seconds": round(rehash_seconds, 2)},
        "inclusion_proof_generation": latency_summary(gen),
        "inclusion_proof_verification": latency_summary(ver),
        "consistency_proof_generation": latency_summary(cgen),
        "consistency_proof_verification": latency_summary(cver),
        "head_proof_generation": latency_summary(hgen),
        "head_proof_verification": latency_summary(hver),
        "ratios": {
            "inclusion_generation_vs_rehash_all_leaves": round(sum(gen) / len(gen) / rehash_seconds, 8),
            "inclusion_generation_vs_hashing_one_leaf": round(sum(gen) / len(gen) / (per_leaf_hash_us / 1e6), 1),
            "inclusion_verification_vs_hashing_one_leaf": round(sum(ver) / len(ver) / (per_leaf_hash_us / 1e6), 2),
        },
        "load_average_at_end": os.getloadavg(),
    })


if __name__ == "__main__":
    main()
