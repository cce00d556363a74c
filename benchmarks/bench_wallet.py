"""Document wallet: presentations verified per second on one core, as a ratio against bare
ES256 signature verifications measured in the same run, and credentials issued per second.

- Baselines (one process, one core): ECDSA P-256/SHA-256 verifications with ``cryptography``
  (OpenSSL, the floor the issue quotes) and JWS ES256 verifications through joserfc (the same
  JOSE library the wallet uses), over a 600-byte payload.
- Presentation verification, offline (``verify_presentation`` with a ``CachedTrust``: the issuer
  signature, the key-binding signature, ``sd_hash``, three disclosures, status from the cached
  list): no database, what ``popid verify`` does. Two ES256 verifications are the floor, so the
  ideal ratio against one bare verification is 0.5.
- Presentation verification online (``verifier.verify_in_session``: same checks plus the
  verifier session's nonce, used once, and the live status from the database).
- Issuance: ``issuance.issue_credential`` (claims from the registry and the licence registry, an
  access record, a random status-list slot, an SD-JWT signed ES256) per second.

Uses its own PostgreSQL database (POPID_BENCH_WALLET_URL, default popid_wallet_bench), recreated
and migrated each run, with a small named family. Run: .venv/bin/python benchmarks/bench_wallet.py
[--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POPID, latency_summary, licence_holder, recreate_database, write_result

URL = os.environ.get("POPID_BENCH_WALLET_URL", "postgres://postgres@127.0.0.1:5432/popid_wallet_bench")
DATA_DIR = Path(os.environ.get("POPID_BENCH_WALLET_DATA_DIR", "/tmp/popid-bench-wallet"))
BASE = "http://127.0.0.1:8000"
CLAIMS = ["age_over_18", "full_name", "driving_classes"]


def interleaved(fns: dict, seconds: float, slice_s: float = 0.1) -> dict[str, dict]:
    """Ops per CPU-second of this process (``time.process_time``: time spent descheduled by other
    work on the shared machine does not count) and per wall second, with the measures interleaved
    in short slices so that every one sees the same machine load; latencies are wall clock."""
    for fn in fns.values():
        for _ in range(20):
            fn()
    stats = {name: {"ops": 0, "cpu": 0.0, "wall": 0.0, "lat": []} for name in fns}
    end = time.perf_counter() + seconds * len(fns)
    while time.perf_counter() < end:
        for name, fn in fns.items():
            entry = stats[name]
            c0, w0 = time.process_time(), time.perf_counter()
            stop = w0 + slice_s
            while True:
                t0 = time.perf_counter()
                fn()
                t1 = time.perf_counter()
                entry["lat"].append(t1 - t0)
                entry["ops"] += 1
                if t1 >= stop:
                    break
            entry["cpu"] += time.process_time() - c0
            entry["wall"] += time.perf_counter() - w0
    return {name: {"per_cpu_s": e["ops"] / e["cpu"], "per_wall_s": e["ops"] / e["wall"], "lat": e["lat"]}
            for name, e in stats.items()}


def rate(fn, seconds: float) -> tuple[float, list[float]]:
    """Calls per second over ``seconds`` (after a short warm-up), with per-call latencies."""
    for _ in range(20):
        fn()
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - t0)
    return len(latencies) / sum(latencies), latencies


def setup() -> dict:
    recreate_database(URL)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "POPID_DATABASE_URL": URL, "POPID_DATA_DIR": str(DATA_DIR)}
    subprocess.run([POPID, "migrate", "-v", "0"], env=env, check=True)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
    import django

    django.setup()
    return licence_holder("bench-wallet")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    objects = setup()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from joserfc import jws
    from joserfc.jwk import ECKey

    from popid.wallet import issuance, verifier
    from popid.wallet import services as wallet
    from popid.wallet.verify import CachedTrust, build_cache, verify_presentation

    account, licence = objects["account"], objects["licence"]
    seconds = args.seconds

    # baselines and offline verification, interleaved (CPU only, no database)
    private = ec.generate_private_key(ec.SECP256R1())
    message = os.urandom(600)
    signature = private.sign(message, ec.ECDSA(hashes.SHA256()))
    public = private.public_key()
    jose_key = ECKey.generate_key("P-256", private=True)
    token = jws.serialize_compact({"alg": "ES256"}, message, jose_key, algorithms=["ES256"])
    jose_public = ECKey.import_key(jose_key.as_dict(private=False))

    held = wallet.add_to_wallet(account=account, config_id="giay_phep_lai_xe", document_ref=licence.number, base=BASE)
    trust = CachedTrust(json.loads(json.dumps(build_cache(BASE))))
    session = verifier.create_session(base=BASE)
    payload = wallet.present(account=account, pk=held.pk, claims=CLAIMS, nonce=session.nonce,
                             audience=session.audience)

    def offline() -> None:
        result = verify_presentation(payload, trust=trust, audience=session.audience,
                                     nonce_check=lambda n: None, max_age=3600)
        assert result.accepted, result.reason

    cpu = interleaved({
        "openssl": lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())),
        "joserfc": lambda: jws.deserialize_compact(token, jose_public, algorithms=["ES256"]),
        "offline": offline,
    }, seconds)
    openssl_rate, jose_rate = cpu["openssl"]["per_cpu_s"], cpu["joserfc"]["per_cpu_s"]
    offline_rate = cpu["offline"]["per_cpu_s"]

    # issuance (wall clock: claims from the DB, access record, status slot, signature)
    ctx = wallet.wallet_context(account)
    holder_jwk = held.holder_key.public_jwk

    def issue() -> None:
        issuance.issue_credential(ctx=ctx, person=account.person, config_id="giay_phep_lai_xe",
                                  document_ref=licence.number, holder_jwk=holder_jwk, base=BASE, channel="bench")

    issue_rate, issue_lat = rate(issue, seconds)

    # online verification (wall clock): a fresh verifier session per presentation (nonce used once)
    pool_size = max(200, int(seconds * 150))
    pool = []
    for _ in range(pool_size):
        s = verifier.create_session(base=BASE)
        pool.append((s.public_id, wallet.present(account=account, pk=held.pk, claims=CLAIMS, nonce=s.nonce,
                                                 audience=s.audience)))
    online_lat: list[float] = []
    end = time.perf_counter() + seconds
    for public_id, presentation in pool:
        t0 = time.perf_counter()
        result = verifier.verify_in_session(public_id=public_id, payload=presentation, base=BASE)
        online_lat.append(time.perf_counter() - t0)
        assert result.accepted, result.reason
        if time.perf_counter() > end:
            break
    online_rate = len(online_lat) / sum(online_lat)
    size = len(payload)
    load = os.getloadavg()

    write_result("wallet", {
        "seconds_per_measure": seconds, "process": "one Python process (one core)",
        "load_average_1_5_15": [round(x, 2) for x in load],
        "presentation": {"claims": CLAIMS, "bytes": size},
        "cpu_bound_rates": "operations per CPU-second of the process, measures interleaved in 0.1 s slices",
        "baseline_openssl_es256_verify_per_cpu_s": round(openssl_rate),
        "baseline_joserfc_es256_verify_per_cpu_s": round(jose_rate),
        "offline_presentations_verified_per_cpu_s": round(offline_rate),
        "offline_ratio_vs_openssl_verify": round(offline_rate / openssl_rate, 3),
        "offline_ratio_vs_joserfc_verify": round(offline_rate / jose_rate, 3),
        "wall_clock_per_s": {name: round(v["per_wall_s"]) for name, v in cpu.items()},
        "offline_latency": latency_summary(cpu["offline"]["lat"]),
        "online_presentations_verified_per_wall_s": round(online_rate),
        "online_ratio_vs_openssl_verify": round(online_rate / openssl_rate, 3),
        "online_latency": latency_summary(online_lat),
        "issued_per_wall_s": round(issue_rate, 1),
        "issue_latency": latency_summary(issue_lat),
    })


if __name__ == "__main__":
    main()
