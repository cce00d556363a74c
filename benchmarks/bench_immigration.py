"""Immigration on PostgreSQL (issue #16): accommodation declarations per second through the API,
one per call and in batches of 100, against raw INSERTs of the same rows in the same run; then
the daily overstay computation over a table of millions of stays.

Declarations: ``POST /api/v1/immigration/accommodation/arrivals`` (one guest) and
``…/arrivals/batch`` (100 guests), called in-process through Django's full stack (middleware,
agency bearer token with the ``accommodation`` scope, the grant re-checked, rate limits,
pydantic validation, MRZ parse and check digits, the declaration rules, the exact watch-list
check against 100 entries, person + document + stay rows, the outbox event), one client, no
HTTP server (no gunicorn, no network): what one worker process sustains. Every guest is new
(a new passport number), so each declaration writes a person, a document and a stay.

Baselines, same database, same run, through psycopg: ``raw_single``: the three INSERTs (person,
document, stay) of one declaration, one transaction each; ``raw_batch``: the same rows for 100
guests per transaction with ``executemany`` (pipelined).

Overstays: ``--stays`` stays (default 5,000,000) for ``--persons`` foreign persons (default
1,000,000: five stays each, the last one still open), one visa each, 0.5 % of them expired,
generated with INSERT … SELECT generate_series (no Python in the loop) over 1,000
establishments; then ``services.compute_overstays`` (one INSERT … SELECT, a window over the
visas and residence cards, the border events, the existing alerts) timed twice: the first run
writes the alerts, the second (idempotent) writes none.

Run: python benchmarks/bench_immigration.py [--singles 1000] [--batches 30] [--stays 5000000]
(database ``popid_bench_immig``, recreated; ``--url`` to change it).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, latency_summary, recreate_database, setup_django, write_result

sys.path.insert(0, str(ROOT))
URL = "postgres://postgres@127.0.0.1:5432/popid_bench_immig"
ARRIVALS_PER_YEAR = 18_000_000  # international arrivals in Vietnam, order of magnitude (pre-2020 peak)


def setup(url: str) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from popid.core import admin_units
    from popid.core.access import Actor
    from popid.exchange import management_services as manage
    from popid.exchange.models import AgencyToken, scope_of
    from popid.identity.oidc.models import digest
    from popid.immigration import services

    admin = Actor.system("bench")
    commune = sorted(admin_units.communes())[0]
    agency = manage.create_agency(actor=admin, code="pms-bench", name="PMS benchmark", kind="company",
                                  rate_per_minute=10_000_000, daily_quota=100_000_000)
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1", "alg": "ES256"}, private=True)
    subsystem = manage.create_subsystem(actor=admin, agency=agency, code="pms", name="PMS",
                                        jwks={"keys": [key.as_dict(private=False)]})
    manage.create_grant(actor=admin, subsystem=subsystem, service="accommodation", legal_basis="Luật 47/2014/QH13",
                        expires_at=timezone.now() + timedelta(days=30), fields=[])
    services.register_establishment(actor=admin, code="ks-bench", name="Khách sạn benchmark", commune_code=commune,
                                    address="1 Hàng Khay", subsystem=subsystem)
    for i in range(100):
        services.add_watch_entry(actor=admin, nationality="USA", document_number=f"W{i:08d}", surname=f"WATCH{i}",
                                 reason="benchmark")
    raw = secrets.token_urlsafe(32)
    AgencyToken.objects.create(subsystem=subsystem, token_hash=digest(raw), scope=scope_of("accommodation"),
                               expires_at=timezone.now() + timedelta(hours=6))
    return {"token": raw, "commune": commune}


def mrz_lines(i: int) -> list[str]:
    from popid.immigration import mrz

    return list(mrz.passport_mrz(document_number=f"B{i:08d}", surname=f"GUEST{i}", given_names="BENCH",
                                 birth_date=date(1950, 1, 1) + timedelta(days=i % 20000), sex="F",
                                 expiry_date=date(2032, 1, 1), issuing_state="USA", nationality="USA"))


def declarations(token: str, singles: int, batches: int) -> dict:
    from django.test import Client
    from django.utils import timezone

    client = Client(headers={"Authorization": f"Bearer {token}", "Host": "127.0.0.1"})
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    zones = [mrz_lines(i) for i in range(singles + batches * 100)]  # parsed by the API, generated here
    for i in range(5):  # warm-up (imports, first queries), not counted: numbers beyond the measured ones
        client.post("/api/v1/immigration/accommodation/arrivals", {"establishment": "ks-bench",
                    "mrz": mrz_lines(90_000_000 + i), "arrival_at": at}, content_type="application/json")
    latencies = []
    start = time.perf_counter()
    for i in range(singles):
        t0 = time.perf_counter()
        response = client.post("/api/v1/immigration/accommodation/arrivals",
                               {"establishment": "ks-bench", "mrz": zones[i], "arrival_at": at, "room": "1"},
                               content_type="application/json")
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 201, response.content
    single_s = time.perf_counter() - start
    batch_latencies = []
    start = time.perf_counter()
    for b in range(batches):
        items = [{"mrz": zones[singles + b * 100 + j], "arrival_at": at, "room": "2"} for j in range(100)]
        t0 = time.perf_counter()
        response = client.post("/api/v1/immigration/accommodation/arrivals/batch",
                               {"establishment": "ks-bench", "arrivals": items}, content_type="application/json")
        batch_latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200 and response.json()["accepted"] == 100, response.content
    batch_s = time.perf_counter() - start
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as single_queries:  # after the timing: SQL statements per call
        client.post("/api/v1/immigration/accommodation/arrivals", {"establishment": "ks-bench",
                    "mrz": mrz_lines(91_000_000), "arrival_at": at}, content_type="application/json")
    with CaptureQueriesContext(connection) as batch_queries:
        client.post("/api/v1/immigration/accommodation/arrivals/batch", {"establishment": "ks-bench", "arrivals": [
            {"mrz": mrz_lines(92_000_000 + j), "arrival_at": at} for j in range(100)]}, content_type="application/json")
    return {"single": {"declarations": singles, "seconds": round(single_s, 2),
                       "per_second": round(singles / single_s, 1), "sql_statements_per_call": len(single_queries),
                       **latency_summary(latencies)},
            "batch_100": {"declarations": batches * 100, "seconds": round(batch_s, 2),
                          "per_second": round(batches * 100 / batch_s, 1),
                          "sql_statements_per_call": len(batch_queries),
                          "per_call": latency_summary(batch_latencies)}}


PERSON_SQL = ("INSERT INTO immigration_foreignperson (nationality, surname, given_names, birth_date, sex, created_at)"
              " VALUES (%s, %s, %s, %s, %s, now()) RETURNING id")
DOCUMENT_SQL = ("INSERT INTO immigration_traveldocument (person_id, kind, nationality, issuing_state, number, "
                "expiry_date, mrz, is_current, recorded_at) VALUES (%s, 'passport', %s, %s, %s, %s, %s, true, now()) "
                "RETURNING id")
STAY_SQL = ("INSERT INTO immigration_stay (person_id, document_id, establishment_id, commune_code, province_code, "
            "room, arrival_at, arrival_declared_at, arrival_late, departure_late, channel, declared_by, warnings) "
            "VALUES "
            "(%s, %s, %s, %s, %s, '1', now() - interval '1 hour', now(), false, false, 'api', 'raw', '[]')")


def raw_inserts(url: str, singles: int, batches: int) -> dict:
    with psycopg.connect(url) as conn:
        est, commune, province = conn.execute(
            "SELECT id, commune_code, province_code FROM immigration_establishment WHERE code = 'ks-bench'").fetchone()

        def guest(i: int) -> tuple:
            lines = mrz_lines(i)
            return ("USA", f"RAW{i}", "BENCH", date(1950, 1, 1) + timedelta(days=i % 20000), "F", f"R{i:08d}",
                    "\n".join(lines))

        rows = [guest(i) for i in range(singles + batches * 100)]
        start = time.perf_counter()
        for nat, surname, given, birth, sex, number, zone in rows[:singles]:
            with conn.transaction():
                person = conn.execute(PERSON_SQL, (nat, surname, given, birth, sex)).fetchone()[0]
                document = conn.execute(DOCUMENT_SQL, (person, nat, nat, number, date(2032, 1, 1), zone)).fetchone()[0]
                conn.execute(STAY_SQL, (person, document, est, commune, province))
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        with conn.cursor() as cur:
            for b in range(batches):
                chunk = rows[singles + b * 100: singles + (b + 1) * 100]
                with conn.transaction():
                    cur.executemany(PERSON_SQL, [r[:5] for r in chunk], returning=True)
                    people = []
                    while True:
                        people.append(cur.fetchone()[0])
                        if not cur.nextset():
                            break
                    cur.executemany(DOCUMENT_SQL, [(p, r[0], r[0], r[5], date(2032, 1, 1), r[6])
                                                   for p, r in zip(people, chunk, strict=True)], returning=True)
                    documents = []
                    while True:
                        documents.append(cur.fetchone()[0])
                        if not cur.nextset():
                            break
                    cur.executemany(STAY_SQL, [(p, d, est, commune, province)
                                               for p, d in zip(people, documents, strict=True)])
        batch_s = time.perf_counter() - start
    return {"raw_single": {"declarations": singles, "seconds": round(single_s, 2),
                           "per_second": round(singles / single_s, 1)},
            "raw_batch_100": {"declarations": batches * 100, "seconds": round(batch_s, 2),
                              "per_second": round(batches * 100 / batch_s, 1)}}


def generate_stays(url: str, persons: int, stays: int) -> dict:
    """persons foreign persons with a document and a visa each, ``stays // persons`` stays each,
    the last one open; 0.5 % of the visas ended 1–30 days ago."""
    per_person = max(1, stays // persons)
    today = date.today()
    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        base = conn.execute("SELECT coalesce(max(id), 0) FROM immigration_foreignperson").fetchone()[0]
        communes = [r[0] for r in conn.execute("SELECT commune_code FROM immigration_establishment LIMIT 1")]
        province = conn.execute("SELECT province_code FROM immigration_establishment LIMIT 1").fetchone()[0]
        steps = [
            ("establishments", f"""INSERT INTO immigration_establishment (code, name, kind, commune_code, province_code,
                address, remote_area, is_active, registered_by, registered_at)
                SELECT 'gen-' || g, 'Cơ sở ' || g, 'hotel', '{communes[0]}', '{province}', 'Địa chỉ', false, true,
                       'bench', now() FROM generate_series(1, 1000) g"""),
            ("persons", f"""INSERT INTO immigration_foreignperson (nationality, surname, given_names, birth_date, sex,
                created_at) SELECT 'USA', 'GEN' || g, 'PERSON', date '1950-01-01' + (g % 20000), 'M', now()
                FROM generate_series(1, {persons}) g"""),
            ("documents", f"""INSERT INTO immigration_traveldocument (person_id, kind, nationality, issuing_state,
                number, expiry_date, mrz, is_current, recorded_at)
                SELECT id, 'passport', 'USA', 'USA', 'G' || id, date '2032-01-01', '', true, now()
                FROM immigration_foreignperson WHERE id > {base}"""),
            ("visas", f"""INSERT INTO immigration_visa (person_id, number, kind, entries, valid_from, valid_until,
                recorded_at)
                SELECT id, 'EV' || id, 'e_visa', 'single', date '{today}' - 60,
                       CASE WHEN id % 200 = 0 THEN date '{today}' - 1 - (id % 30)::int
                            ELSE date '{today}' + 1 + (id % 29)::int END, now()
                FROM immigration_foreignperson WHERE id > {base}"""),
            ("stays", f"""INSERT INTO immigration_stay (person_id, document_id, establishment_id, commune_code,
                province_code, room, arrival_at, arrival_declared_at, arrival_late, departure_at,
                departure_declared_at, departure_late, channel, declared_by, warnings)
                SELECT d.person_id, d.id, e.id, e.commune_code, e.province_code, '1',
                       now() - ((({per_person} - k) * 3 + 1) || ' days')::interval,
                       now() - ((({per_person} - k) * 3 + 1) || ' days')::interval, false,
                       CASE WHEN k < {per_person}
                            THEN now() - ((({per_person} - k) * 3 - 1) || ' days')::interval END,
                       CASE WHEN k < {per_person}
                            THEN now() - ((({per_person} - k) * 3 - 1) || ' days')::interval END,
                       false, 'api', 'bench', '[]'
                FROM immigration_traveldocument d
                CROSS JOIN generate_series(1, {per_person}) k
                JOIN immigration_establishment e ON e.code = 'gen-' || (1 + (d.person_id + k) % 1000)
                WHERE d.person_id > {base}"""),
            ("analyze", "ANALYZE"),
        ]
        for name, sql in steps:
            t0 = time.perf_counter()
            conn.execute(sql)
            timings[name] = round(time.perf_counter() - t0, 1)
            print(f"generated {name} in {timings[name]} s", flush=True)
        counts = conn.execute("SELECT (SELECT count(*) FROM immigration_stay), "
                              "(SELECT count(*) FROM immigration_stay WHERE departure_at IS NULL), "
                              "(SELECT count(*) FROM immigration_visa)").fetchone()
    return {"stays": counts[0], "open_stays": counts[1], "visas": counts[2], "generation_seconds": timings}


def overstays() -> dict:
    from popid.immigration import services

    t0 = time.perf_counter()
    first = services.compute_overstays()
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = services.compute_overstays()
    second_s = time.perf_counter() - t0
    return {"first_run": {"seconds": round(first_s, 1), "alerts_created": first.created},
            "second_run_idempotent": {"seconds": round(second_s, 1), "alerts_created": second.created}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=URL)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--stays", type=int, default=5_000_000)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--skip-overstays", action="store_true")
    args = parser.parse_args()
    recreate_database(args.url)
    setup_django(args.url)
    import logging

    from django.conf import settings

    logging.getLogger("popid.access").setLevel(logging.WARNING)  # one log line per request: not measured here

    assert settings.DATABASES["default"]["NAME"] == args.url.rsplit("/", 1)[1]
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    ctx = setup(args.url)
    api = declarations(ctx["token"], args.singles, args.batches)
    raw = raw_inserts(args.url, args.singles, args.batches)
    result = {"api": api, "raw": raw,
              "ratio_single_to_raw": round(api["single"]["per_second"] / raw["raw_single"]["per_second"], 3),
              "ratio_batch_to_raw_batch": round(api["batch_100"]["per_second"] / raw["raw_batch_100"]["per_second"], 3),
              "national_context": {"arrivals_per_year": ARRIVALS_PER_YEAR,
                                   "arrivals_per_second_average": round(ARRIVALS_PER_YEAR / (365 * 86400), 2)},
              "load_average_before": load_before}
    write_result("immigration_declarations", result)
    if not args.skip_overstays:
        data = generate_stays(args.url, args.persons, args.stays)
        with open("/proc/loadavg") as f:
            data["load_average_before_overstays"] = f.read().split()[:3]
        data.update(overstays())
        write_result("immigration_overstays", data)


if __name__ == "__main__":
    main()
