"""Wallet QR size (issue #19 item 6): the QR version of a presentation before (the full SD-JWT
presentation in the code) and after (the compact presentation: a short address of it).

For each case it makes the real presentation through ``wallet.services.present`` for a verifier
session, and the compact text through ``wallet.compact.share``, then asks two encoders for the
smallest QR version at error correction L (as the wallet draws it) and M: ``qrcode`` (what the
wallet page uses) and ``segno`` if installed. Sizes are deterministic apart from base64 lengths of
random salts and keys, so one run is enough; the script runs each case 5 times and reports the
range. Modules per side = 17 + 4 × version; 41 means "does not fit in one QR code" (> version
40). No timing is measured.

Uses a throwaway SQLite database under POPID_BENCH_QR_DATA_DIR (default /tmp/popid-bench-wallet-qr),
migrated each run. Run: .venv/bin/python benchmarks/bench_wallet_qr.py [--base http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import licence_holder, write_result

DATA_DIR = Path(os.environ.get("POPID_BENCH_QR_DATA_DIR", "/tmp/popid-bench-wallet-qr"))
CASES = {
    "licence, default claims (over 18, name, classes)": ("giay_phep_lai_xe", ["age_over_18", "full_name",
                                                                             "driving_classes"]),
    "licence, one claim (over 18)": ("giay_phep_lai_xe", ["age_over_18"]),
    "ID card, name + birth date + address": ("can_cuoc", ["full_name", "birth_date", "permanent_address"]),
}


def qr_versions(text: str) -> dict[str, int]:
    import qrcode

    out = {}
    for name, level in (("L", qrcode.constants.ERROR_CORRECT_L), ("M", qrcode.constants.ERROR_CORRECT_M)):
        code = qrcode.QRCode(error_correction=level)
        code.add_data(text)
        try:
            code.make(fit=True)
        except ValueError:  # more than version 40 holds at this level
            out[f"qrcode_{name}"] = 41
            continue
        out[f"qrcode_{name}"] = code.version
    try:
        import segno
    except ImportError:
        return out
    for name in ("L", "M"):
        try:
            out[f"segno_{name}"] = segno.make_qr(text, error=name.lower(), boost_error=False).version
        except segno.DataOverflowError:
            out[f"segno_{name}"] = 41
    return out


def setup(base: str) -> dict:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    env = {**os.environ, "POPID_DATA_DIR": str(DATA_DIR), "POPID_BASE_URL": base}
    env.pop("POPID_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "popid.cli", "migrate", "-v", "0"], env=env, check=True)
    os.environ.update(env)
    os.environ.pop("POPID_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
    import django

    django.setup()
    return licence_holder("bench-wallet-qr", password="bench-wallet-qr-1", with_id_card=True)

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the installation's address (POPID_BASE_URL)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    objects = setup(args.base.rstrip("/"))
    from popid.wallet import compact, verifier
    from popid.wallet import services as wallet

    account, licence = objects["account"], objects["licence"]
    held = {
        "giay_phep_lai_xe": wallet.add_to_wallet(account=account, config_id="giay_phep_lai_xe",
                                                 document_ref=licence.number, base=args.base),
        "can_cuoc": wallet.add_to_wallet(account=account, config_id="can_cuoc", document_ref="", base=args.base),
    }
    results = {}
    for label, (config_id, claims) in CASES.items():
        rows = []
        for _ in range(args.runs):
            session = verifier.create_session(base=args.base)
            full = wallet.present(account=account, pk=held[config_id].pk, claims=claims, nonce=session.nonce,
                                  audience=session.audience)
            short = compact.share(payload=full, audience=session.audience, base=args.base)
            rows.append({"full_chars": len(full), "compact_chars": len(short),
                         "full": qr_versions(full), "compact": qr_versions(short)})
        results[label] = {
            "claims": claims,
            "full_chars": [min(r["full_chars"] for r in rows), max(r["full_chars"] for r in rows)],
            "compact_chars": [min(r["compact_chars"] for r in rows), max(r["compact_chars"] for r in rows)],
            "full_versions": {k: [min(r["full"][k] for r in rows), max(r["full"][k] for r in rows)]
                              for k in rows[0]["full"]},
            "compact_versions": {k: [min(r["compact"][k] for r in rows), max(r["compact"][k] for r in rows)]
                                 for k in rows[0]["compact"]},
        }
    write_result("wallet_qr", {"base": args.base, "runs_per_case": args.runs,
                               "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()], "cases": results})


if __name__ == "__main__":
    main()
