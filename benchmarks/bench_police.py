"""Police case look-ups on PostgreSQL (issue #15): a person looked up for a case, with its sealed
access record, per second through ``police.selectors.person_for_case`` against the same two
statements in raw SQL in the same run; and the latency of a matcher candidate search
(``police.linking.rank``: indexed candidate queries + Splink scoring) for a name and birth year.

The database ``popid_bench_police`` is created afresh and migrated; ``--persons`` registry persons
with generated Vietnamese names are inserted by ``bulk_create``; one case is opened.
Run: .venv/bin/python benchmarks/bench_police.py [--persons 20000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
URL = os.environ.get("POPID_BENCH_POLICE_URL", "postgres://postgres@127.0.0.1:5432/popid_bench_police")
os.environ["POPID_DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
os.environ.setdefault("POPID_DATA_DIR", "/tmp/popid-bench-police")

from benchmarks.common import recreate_database  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Đức", "Thu", "Ngọc", "Quang", "Hữu", "Thanh", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Phong",
         "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Việt", "Yến", "Khôi", "Hạnh", "Giang"]
COMMUNES = ["00070", "00004", "00008", "00082", "00091"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--searches", type=int, default=30)
    args = parser.parse_args()
    recreate_database(URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from popid.core.access import Actor
    from popid.core.models import StaffRole
    from popid.core.text import normalize_text
    from popid.police import linking, selectors, services
    from popid.registry.models import Person

    rng = random.Random(15)
    persons = []
    for i in range(args.persons):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        commune = rng.choice(COMMUNES)
        persons.append(Person(id_number=f"001{i:09d}", full_name=name, name_norm=normalize_text(name),
                              birth_date=born, birth_year=born.year, sex=rng.choice("MF"), commune_code=commune,
                              province_code="01"))
    Person.objects.bulk_create(persons, batch_size=5000)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="cb.bench", password="x-Bench-12345")
    StaffRole.objects.create(user=user, role="officer", level="commune", unit_code="00070", unit_name="CA Hoàn Kiếm")
    actor = Actor.for_user(user)
    report, _code = services.submit_report(anonymous=True, category_code="trom-cap", commune_code="00070",
                                           occurred_at=timezone.now(),
                                           description="Benchmark: xe máy bị lấy trộm trước cửa nhà.")
    case = services.open_case(actor=actor, report_code=report.code, title="Benchmark")
    numbers = [p.id_number for p in persons]

    def through_selector() -> int:
        n = 0
        deadline = time.perf_counter() + args.seconds
        while time.perf_counter() < deadline:
            with transaction.atomic():
                selectors.person_for_case(actor=actor, case=case, id_number=numbers[n % len(numbers)])
            n += 1
        return n

    def raw_sql() -> int:
        n = 0
        deadline = time.perf_counter() + args.seconds
        purpose = selectors.case_purpose(case)
        while time.perf_counter() < deadline:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id, full_name, birth_date, sex, id_number, commune_code FROM registry_person "
                               "WHERE id_number = %s", [numbers[n % len(numbers)]])
                row = cursor.fetchone()
                cursor.execute("INSERT INTO core_accessrecord (at, actor, actor_unit, person_id_number, purpose, "
                               "legal_basis, consent_ref, channel, fields, hidden_until) "
                               "VALUES (now(), %s, %s, %s, %s, %s, '', 'console', %s::jsonb, %s)",
                               [actor.label, actor.unit_name, row[4], purpose, selectors.CASE_LEGAL_BASIS,
                                '["birth_date","commune_code","full_name","id_number","sex"]', case.sealed_until])
            n += 1
        return n

    raw_sql()  # warm-up
    results = {}
    for name, func in (("raw", raw_sql), ("selector", through_selector), ("raw2", raw_sql),
                       ("selector2", through_selector)):
        results[name] = func() / args.seconds
    raw = (results["raw"] + results["raw2"]) / 2
    sel = (results["selector"] + results["selector2"]) / 2
    print(f"persons={args.persons} seconds={args.seconds} load={os.getloadavg()[0]:.1f}")
    print(f"raw SQL select+insert: {raw:.0f}/s   person_for_case: {sel:.0f}/s   ratio {sel / raw:.2f}")

    # the name as a witness writes it: without diacritics; the birth year and commune known
    sample = rng.sample(persons, args.searches)
    queries = [linking.Query(full_name=normalize_text(p.full_name).title(), birth_year=p.birth_year,
                             commune_code=p.commune_code) for p in sample]
    t0 = time.perf_counter()
    linking.rank(queries[0])  # trains the reference model (no registry model in this database)
    first = time.perf_counter() - t0
    times, hits, scanned = [], 0, []
    for q, p in zip(queries, sample, strict=True):
        t = time.perf_counter()
        ranked = linking.rank(q)
        times.append(time.perf_counter() - t)
        scanned.append(len(linking.registry_candidates(q)))
        # the person is among the equally best-weighted candidates (namesakes born the same year tie)
        top = [c for c in ranked if ranked and c.weight == ranked[0].weight]
        hits += any(c.person.id_number == p.id_number for c in top)
    times.sort()
    print(f"first search (reference model training included): {first:.1f} s")
    print(f"candidate search: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; "
          f"candidates scored per search: median {statistics.median(scanned):.0f}, max {max(scanned)}; "
          f"the person among the top-weighted candidates: {hits}/{len(times)}")


if __name__ == "__main__":
    main()
