"""Free-text search of crime reports and case files in the database (issue #15 item 6).

``--reports`` reports (default 200,000) over 20 communes of Hà Nội and Hồ Chí Minh City, with
generated Vietnamese descriptions (streets, objects, categories), and a case file for every tenth
(one in five of them secret) are loaded by COPY into a fresh database (its own:
``popid_police_search_bench``) with their accent-free ``search_text`` built by
``core.fulltext.search_text`` (as the services write it); the GIN indexes of migration
``police.0004`` are rebuilt after the load. Then queries typed without diacritics are timed, as a
Hà Nội province officer (jurisdiction: the province and its communes), interleaved query by query:

- ``records.selectors.search`` (the search page / API: pages, reports and cases lists, first page,
  snippets; the pages table is empty here);
- the reports query alone through the ORM (``police.selectors.search_reports``, same order/limit);
- raw SQL, the same WHERE / ORDER BY / LIMIT as the reports query (the baseline);
- the cases query through the ORM and in raw SQL;
- for reference, on fewer queries: the previous way (the newest 5,000 reports of the jurisdiction
  loaded and matched in Python).

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_police_search.py [--reports 200000] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import admin_url, db_name, latency_summary, setup_django, write_result

URL = os.environ.get("POPID_POLICE_SEARCH_BENCH_URL", "postgres://postgres@127.0.0.1:5432/popid_police_search_bench")
STREETS = ["Hàng Bạc", "Hàng Gai", "Hàng Đào", "Lý Thái Tổ", "Tràng Tiền", "Đinh Tiên Hoàng", "Hàng Bông",
           "Bà Triệu", "Hai Bà Trưng", "Phan Chu Trinh", "Nguyễn Du", "Lê Thái Tổ", "Nguyễn Huệ", "Lê Lợi",
           "Đồng Khởi", "Pasteur", "Cách Mạng Tháng Tám", "Điện Biên Phủ", "Võ Văn Tần", "Trần Hưng Đạo"]
OBJECTS = ["xe máy", "xe đạp điện", "điện thoại", "ví tiền", "máy tính xách tay", "dây chuyền vàng", "túi xách",
           "đồng hồ", "tiền mặt", "ô tô", "camera", "két sắt"]
TEXT = ("bị lấy trộm trước cửa nhà số ngõ phố đường vào lúc sáng trưa chiều tối đêm khi chủ nhà đi vắng người lạ "
        "đi xe không biển số bỏ chạy về hướng chợ cầu trường học có camera ghi lại hình ảnh đối tượng khoảng tuổi "
        "mặc áo đội mũ bảo hiểm màu đen đỏ xanh trắng gọi điện thoại tự xưng là cán bộ ngân hàng yêu cầu chuyển "
        "khoản lừa đảo đánh nhau gây thương tích đánh bạc trái phép tại quán nước nhà nghỉ tố giác tin báo "
        "đề nghị cơ quan công an xác minh giải quyết")
WORDS = TEXT.split()
CATEGORIES = ["trom-cap", "lua-dao", "co-y-gay-thuong-tich", "danh-bac"]


def description(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 50))]
    words.insert(rng.randrange(len(words)), rng.choice(OBJECTS))
    words.insert(rng.randrange(len(words)), f"phố {rng.choice(STREETS)}")
    words.insert(rng.randrange(len(words)), f"số {rng.randint(1, 300)}")
    return " ".join(words).capitalize() + "."


def load(reports: int) -> dict:
    from popid.core.admin_units import communes_by_province
    from popid.core.fulltext import search_text

    with psycopg.connect(admin_url(URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name(URL)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name(URL)}"')
    subprocess.run([str(Path(sys.executable).parent / "popid"), "migrate", "--noinput"],
                   env={**os.environ, "POPID_DATABASE_URL": URL}, check=True, stdout=subprocess.DEVNULL)
    units = [u.code for u in communes_by_province()["01"][:10]] + [u.code for u in communes_by_province()["79"][:10]]
    rng = random.Random(15)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    with psycopg.connect(URL) as conn:
        conn.execute("DROP INDEX IF EXISTS police_report_fts")
        conn.execute("DROP INDEX IF EXISTS police_case_fts")
        cases = []
        with conn.cursor().copy("COPY police_report (id, code, tracking_hash, channel, anonymous, category_code, "
                                "commune_code, occurred_at, description, received_at, state, unit_code, extensions, "
                                "outcome_code, outcome_legal_ref, version, search_text) FROM STDIN") as copy:
            for rid in range(1, reports + 1):
                unit = units[rid % len(units)]
                at = start + timedelta(minutes=5 * rid)  # newer ids are newer reports
                code = f"TG-{at:%Y%m%d}-{rid:06d}"
                text = description(rng)
                copy.write_row((rid, code, f"{rid:064x}", "online", True, rng.choice(CATEGORIES), unit,
                                at - timedelta(hours=3), text, at, "classified", unit, 0, "", "", 1,
                                search_text(code, text)))
                if rid % 10 == 0:
                    cases.append((rid, unit, at, code, text))
        with conn.cursor().copy("COPY police_case (id, number, report_id, title, unit_code, confidentiality, "
                                "opened_at, sealed_until, search_text) FROM STDIN") as copy:
            for n, (rid, unit, at, code, text) in enumerate(cases, start=1):
                number = f"VV-{unit}-{at.year}-{n:06d}"
                title = f"{rng.choice(OBJECTS).capitalize()} phố {rng.choice(STREETS)}"
                copy.write_row((n, number, rid, title, unit, "secret" if n % 5 == 0 else "normal",
                                at + timedelta(days=1), at + timedelta(days=120),
                                search_text(number, title, code, text)))
        conn.execute("SELECT setval('police_report_id_seq', %s)", [reports])
        conn.execute("SELECT setval('police_case_id_seq', %s)", [max(1, len(cases))])
        conn.commit()
        copied = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("CREATE INDEX police_report_fts ON police_report USING gin (search_tsv)")
        conn.execute("CREATE INDEX police_case_fts ON police_case USING gin (search_tsv)")
        conn.commit()
        indexed = time.perf_counter() - started
        conn.execute("ANALYZE police_report")
        conn.execute("ANALYZE police_case")
        conn.commit()
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('police_report')), "
                            "pg_size_pretty(pg_relation_size('police_report_fts')), "
                            "avg(length(description))::int FROM police_report").fetchone()
    print(f"loaded {reports:,} reports and {len(cases):,} cases: copy {copied:.0f} s, GIN indexes {indexed:.0f} s; "
          f"reports table {size[0]}, index {size[1]}, {size[2]} characters per description", flush=True)
    return {"reports": reports, "cases": len(cases), "copy_s": round(copied, 1), "index_s": round(indexed, 1),
            "table_size": size[0], "index_size": size[1], "characters_per_description": size[2]}


REPORTS_RAW = ("SELECT id, code, description, occurred_at, unit_code FROM police_report "
               "WHERE unit_code = ANY(%s) AND search_tsv @@ to_tsquery('simple'::regconfig, %s) "
               "ORDER BY received_at DESC, id DESC LIMIT 51")
CASES_RAW = ("SELECT c.id, c.number, c.title, c.opened_at, c.unit_code, r.description FROM police_case c "
             "LEFT JOIN police_report r ON r.id = c.report_id "
             "WHERE c.unit_code = ANY(%s) AND c.confidentiality = 'normal' "
             "AND c.search_tsv @@ to_tsquery('simple'::regconfig, %s) ORDER BY c.opened_at DESC, c.id DESC LIMIT 51")


def bench(queries: int, old_queries: int) -> dict:
    from popid.core.access import Actor
    from popid.core.admin_units import communes_by_province
    from popid.core.fulltext import query_words
    from popid.core.text import normalize_text
    from popid.police import selectors as police
    from popid.records import selectors

    rng = random.Random(11)
    typed = []
    for i in range(queries):  # typed without diacritics: a street, an object and a street, or three words
        kind = i % 3
        if kind == 0:
            typed.append(normalize_text(rng.choice(STREETS)))
        elif kind == 1:
            typed.append(normalize_text(f"{rng.choice(OBJECTS)} {rng.choice(STREETS)}"))
        else:
            typed.append(normalize_text(" ".join(rng.sample(WORDS, 3))))
    actor = Actor(label="bench.police", role="officer", level="province", unit_code="01")
    units = ["01", *[u.code for u in communes_by_province()["01"]]]
    for q in typed[:20]:  # warm-up
        selectors.search(actor=actor, query=selectors.SearchQuery(text=q))
    times: dict[str, list[float]] = {"search": [], "reports_orm": [], "reports_raw": [], "cases_orm": [],
                                     "cases_raw": []}
    hits = []
    with psycopg.connect(URL) as conn:
        for q in typed:
            tsquery = " & ".join(f"{w}:*" for w in query_words(q))
            began = time.perf_counter()
            results = selectors.search(actor=actor, query=selectors.SearchQuery(text=q))
            times["search"].append(time.perf_counter() - began)
            hits.append((len(results.reports), len(results.cases)))
            began = time.perf_counter()
            list(police.search_reports(actor=actor, words=query_words(q))
                 .only("code", "description", "occurred_at", "unit_code").order_by("-received_at", "-id")[:51])
            times["reports_orm"].append(time.perf_counter() - began)
            began = time.perf_counter()
            conn.execute(REPORTS_RAW, (units, tsquery)).fetchall()
            times["reports_raw"].append(time.perf_counter() - began)
            began = time.perf_counter()
            list(police.search_cases(actor=actor, words=query_words(q)).select_related("report")
                 .defer("search_text").order_by("-opened_at", "-id")[:51])
            times["cases_orm"].append(time.perf_counter() - began)
            began = time.perf_counter()
            conn.execute(CASES_RAW, (units, tsquery)).fetchall()
            times["cases_raw"].append(time.perf_counter() - began)
    old = []
    for q in typed[:old_queries]:  # the previous way: the newest 5,000 matched in Python
        words = query_words(q)
        began = time.perf_counter()
        found = []
        for report in police.report_queue(actor=actor).order_by("-received_at")[:5000]:
            norm = normalize_text(report.description)
            if all(w in norm for w in words):
                found.append(report.code)
                if len(found) >= 100:
                    break
        old.append(time.perf_counter() - began)
    summary = {name: latency_summary(values) for name, values in times.items()}
    summary["old_python_newest_5000"] = latency_summary(old)
    raw = summary["reports_raw"]["p50_ms"]
    result = {"queries": queries, "latency": summary,
              "ratio_p50_search_vs_reports_raw": round(summary["search"]["p50_ms"] / raw, 2),
              "ratio_p50_reports_orm_vs_raw": round(summary["reports_orm"]["p50_ms"] / raw, 2),
              "ratio_p50_cases_orm_vs_raw": round(summary["cases_orm"]["p50_ms"] / summary["cases_raw"]["p50_ms"], 2),
              "queries_with_report_hits": sum(1 for r, _c in hits if r),
              "mean_report_hits": round(sum(r for r, _c in hits) / len(hits), 1),
              "mean_case_hits": round(sum(c for _r, c in hits) / len(hits), 1),
              "load_average": os.getloadavg()}
    for name, value in summary.items():
        print(f"{name:24} p50 {value['p50_ms']:9.1f} ms  p99 {value['p99_ms']:9.1f} ms  "
              f"mean {value['mean_ms']:9.1f} ms")
    print({k: v for k, v in result.items() if k != "latency"}, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--old-queries", type=int, default=30)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    setup_django(URL)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    result: dict = {"load_average_start": os.getloadavg()}
    if not args.skip_load:
        result["load"] = load(args.reports)
    result["search"] = bench(args.queries, args.old_queries)
    write_result("police_search", result)


if __name__ == "__main__":
    main()
