"""Records digitisation (issue #15): OCR throughput and accuracy, and full-text search at scale.

1. OCR: A4 pages at 300 dpi rendered from known Vietnamese text (household-register lines with
   names, dates and addresses; DejaVu Sans 12 pt, ``records.pagegen``) are read by Tesseract 5
   with its Vietnamese model through ``records.ocr`` (the worker's code path); pages per minute
   and character accuracy (difflib ratio against the rendered text).
2. Search: ``--pages`` digitised pages (default 1,000,000) of generated Vietnamese text are loaded
   with COPY into a fresh database (its own: ``popid_records_bench``), the GIN full-text index of
   migration ``records.0002`` built, then accent-free queries are timed through
   ``records.selectors.search`` (a province officer: jurisdiction filter, join for the title,
   snippets) and as the same WHERE/ORDER/LIMIT in raw SQL, in the same run: p50/p99 and ratio.

Run: .venv/bin/python benchmarks/bench_records.py [--ocr-pages 10] [--pages 1000000] [--queries 300]
     [--skip-ocr] [--skip-search]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import admin_url, db_name, latency_summary, setup_django, write_result

URL = os.environ.get("POPID_RECORDS_BENCH_URL", "postgres://postgres@127.0.0.1:5432/popid_records_bench")
STREETS = ["Hàng Bạc", "Hàng Gai", "Hàng Đào", "Lý Thái Tổ", "Tràng Tiền", "Đinh Tiên Hoàng", "Hàng Bông",
           "Bà Triệu", "Hai Bà Trưng", "Phan Chu Trinh", "Nguyễn Du", "Lê Thái Tổ"]
JOBS = ["thợ kim hoàn", "buôn bán", "giáo viên", "công nhân", "làm ruộng", "bác sĩ", "lái xe", "thợ may"]
RELATIONS = ["vợ", "con", "mẹ", "cháu", "em", "bố"]
WORD_TEXT = ("sổ đăng ký hộ khẩu thường trú tạm trú công an phường xã thành phố tỉnh họ và tên chủ hộ sinh ngày "
         "giới tính nam nữ nghề nghiệp dân tộc kinh quan hệ với ghi chú chuyển đến đi quyết định xử phạt vi phạm "
         "hành chính hồ sơ vụ việc trộm cắp tài sản người bị hại làm chứng tang vật kết quả giải quyết số nhà ngõ "
         "phố đường thôn xóm ấp bản quê quán nơi thường trú căn cước chứng minh nhân dân cấp ngày tại")
WORDS = WORD_TEXT.split()


def vocabulary() -> tuple[list[str], list[str]]:
    from popid.core.admin_units import communes
    from popid.registry.synthetic import names

    given = [n for n, _w in names.MALE_GIVEN] + [n for n, _w in names.FEMALE_GIVEN]
    family = [n for n, _w in names.SURNAMES]
    places = sorted({u.name.split(" ", 1)[1] if " " in u.name else u.name for u in communes().values()})
    return family + given, places


def household_lines(rng: random.Random, people: list[str], places: list[str]) -> list[str]:
    def name() -> str:
        return f"{rng.choice(people)} {rng.choice(people)} {rng.choice(people)}"

    def day() -> str:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2005)}"

    lines = ["SỔ ĐĂNG KÝ HỘ KHẨU THƯỜNG TRÚ", f"Công an phường {rng.choice(places)}",
             f"Số hộ khẩu: {rng.randint(1, 9999):04d}/HK, quyển số {rng.randint(1, 20)}",
             f"Địa chỉ: số {rng.randint(1, 200)} phố {rng.choice(STREETS)}", f"Họ và tên chủ hộ: {name()}",
             f"Sinh ngày: {day()}, giới tính: {rng.choice(['Nam', 'Nữ'])}",
             f"Nghề nghiệp: {rng.choice(JOBS)}, dân tộc: Kinh"]
    for _ in range(rng.randint(3, 6)):
        lines += [f"Quan hệ với chủ hộ: {rng.choice(RELATIONS)}, họ và tên: {name()}", f"Sinh ngày: {day()}",
                  f"Quê quán: xã {rng.choice(places)}"]
    lines.append(f"Ghi chú: chuyển đến từ xã {rng.choice(places)} ngày {day()}")
    return lines


def bench_ocr(pages: int) -> dict:
    from popid.records import ocr, pagegen

    people, places = vocabulary()
    rng = random.Random(7)
    sheets = [household_lines(rng, people, places) for _ in range(pages)]
    images = [pagegen.to_bytes(pagegen.render(lines)) for lines in sheets]
    ocr.recognise_pages(images[0])  # warm-up (model load)
    times, scores, chars = [], [], 0
    for lines, content in zip(sheets, images, strict=True):
        start = time.perf_counter()
        [text] = ocr.recognise_pages(content)
        times.append(time.perf_counter() - start)
        scores.append(pagegen.similarity("\n".join(lines), text))
        chars += len("".join(lines))
    total = sum(times)
    result = {"pages": pages, "seconds": round(total, 2), "pages_per_minute": round(60 * pages / total, 2),
              "seconds_per_page_p50": round(sorted(times)[len(times) // 2], 2),
              "accuracy_mean": round(sum(scores) / len(scores), 4), "accuracy_min": round(min(scores), 4),
              "characters_per_page": round(chars / pages), "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT")}
    print(f"OCR: {pages} pages in {total:.1f} s = {result['pages_per_minute']} pages/min; "
          f"accuracy mean {result['accuracy_mean']}, min {result['accuracy_min']}")
    return result


def load_pages(pages: int, words_per_page: int) -> dict:
    """A fresh migrated database, ``pages`` pages over 1,000 records in 20 units of Hà Nội and
    Hồ Chí Minh City, COPY, then the GIN index (dropped for the load, recreated as in migration
    0002; PostgreSQL fills the stored tsvector column during the COPY)."""
    from popid.core.admin_units import communes_by_province
    from popid.core.text import normalize_text

    with psycopg.connect(admin_url(URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name(URL)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name(URL)}"')
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "popid"), "migrate", "--noinput"],
                   env={**os.environ, "POPID_DATABASE_URL": URL}, check=True, stdout=subprocess.DEVNULL)
    migrated = time.perf_counter() - started
    people, places = vocabulary()
    vocab = WORDS * 20 + people + [p for place in places for p in place.split()]
    vocab_norm = [normalize_text(w) for w in vocab]  # accent-free once per word, not per page
    cum_weights = list(itertools.accumulate(1.0 / (1 + i % 400) for i in range(len(vocab))))  # Zipf-like
    indices = range(len(vocab))
    units = [u.code for u in communes_by_province()["01"][:10]] + [u.code for u in communes_by_province()["79"][:10]]
    unit_province = {u: ("01" if i < 10 else "79") for i, u in enumerate(units)}
    rng = random.Random(3)
    records = 1000
    started = time.perf_counter()
    with psycopg.connect(URL) as conn:
        conn.execute("DROP INDEX IF EXISTS records_page_fts")
        with conn.cursor().copy("COPY records_scannedrecord (id, unit_code, province_code, kind, title, original_ref, "
                                "file_name, content_type, size, sha256, content, uploaded_by, uploaded_at, "
                                "ocr_state, ocr_attempts, ocr_error, page_count, version) FROM STDIN") as copy:
            for rid in range(1, records + 1):
                unit = units[rid % len(units)]
                copy.write_row((rid, unit, unit_province[unit],
                                "household_register", f"Sổ hộ khẩu {rid}", f"HK-{rid}", "scan.png", "image/png",
                                0, "0" * 64, b"", "bench", "2026-12-01T00:00:00Z", "done", 1, "",
                                pages // records + (rid <= pages % records), 1))
        with conn.cursor().copy("COPY records_recordpage (record_id, number, unit_code, province_code, text, "
                                "text_norm) FROM STDIN") as copy:
            for index in range(pages):
                rid = index % records + 1  # round robin: record rid holds pages 1, 2, 3 …
                unit = units[rid % len(units)]
                chosen = rng.choices(indices, cum_weights=cum_weights, k=words_per_page)
                copy.write_row((rid, index // records + 1, unit, unit_province[unit],
                                " ".join([vocab[i] for i in chosen]), " ".join([vocab_norm[i] for i in chosen])))
                if index and index % 100_000 == 0:
                    print(f"  {index:,} pages copied ({time.perf_counter() - started:.0f} s)", flush=True)
        conn.commit()
        copied = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX records_page_fts ON records_recordpage USING gin (text_tsv)")
        conn.commit()
        indexed = time.perf_counter() - started
        conn.execute("ANALYZE records_recordpage")
        conn.execute("ANALYZE records_scannedrecord")
        conn.commit()
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('records_recordpage')), "
                            "pg_size_pretty(pg_relation_size('records_page_fts')), "
                            "avg(length(text))::int FROM records_recordpage").fetchone()
    print(f"loaded {pages:,} pages: copy {copied:.0f} s, GIN index {indexed:.0f} s; table {size[0]}, "
          f"index {size[1]}, {size[2]} characters per page")
    return {"pages": pages, "words_per_page": words_per_page, "migrate_s": round(migrated, 1),
            "copy_s": round(copied, 1), "index_s": round(indexed, 1), "table_size": size[0], "index_size": size[1],
            "characters_per_page": size[2], "units": units, "vocab": vocab, "places": places}


RAW = ("SELECT p.id, p.record_id, p.number, p.text, p.text_norm, r.title, r.uploaded_at "
       "FROM records_recordpage p JOIN records_scannedrecord r ON r.id = p.record_id "
       "WHERE p.province_code = %s AND p.text_tsv @@ to_tsquery('simple'::regconfig, %s) "
       "ORDER BY p.record_id DESC, p.number LIMIT 51")


def bench_search(loaded: dict, queries: int) -> dict:
    from popid.core.access import Actor
    from popid.core.text import normalize_text
    from popid.records import selectors

    rng = random.Random(11)
    places = [p for p in loaded["places"] if len(p.split()) == 2]
    typed = []
    for i in range(queries):  # typed without diacritics: a place name, a name and a word, or two words
        kind = i % 3
        if kind == 0:
            typed.append(normalize_text(rng.choice(places)))
        elif kind == 1:
            typed.append(normalize_text(f"{rng.choice(loaded['vocab'][-2000:])} {rng.choice(WORDS)}"))
        else:
            typed.append(normalize_text(f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)}"))
    actor = Actor(label="bench.records", role="officer", level="province", unit_code="01")
    for q in typed[:20]:
        selectors.search(actor=actor, query=selectors.SearchQuery(text=q))  # warm-up
    selector_times, pages_times, raw_times, hits = [], [], [], []
    with psycopg.connect(URL) as conn:
        for q in typed[:20]:
            conn.execute(RAW, ("01", " & ".join(f"{w}:*" for w in q.split()))).fetchall()
        for q in typed:  # the three measurements interleaved, query by query (no order advantage)
            start = time.perf_counter()
            results = selectors.search(actor=actor, query=selectors.SearchQuery(text=q))
            selector_times.append(time.perf_counter() - start)
            hits.append(len(results.pages))
            start = time.perf_counter()  # the pages part alone through the ORM (no reports/cases, no snippets)
            list(selectors.search_pages_qs(actor=actor, text=q).select_related("record").defer("record__content")
                 .order_by("-record_id", "number")[:selectors.PAGE_SIZE + 1])
            pages_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            conn.execute(RAW, ("01", " & ".join(f"{w}:*" for w in q.split()))).fetchall()
            raw_times.append(time.perf_counter() - start)
    selector = latency_summary(selector_times)
    pages_only = latency_summary(pages_times)
    raw = latency_summary(raw_times)
    ratio = selector["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else None
    pages_ratio = pages_only["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else None
    print(f"search over {loaded['pages']:,} pages, {queries} queries: selector p50 {selector['p50_ms']} ms "
          f"p99 {selector['p99_ms']} ms; raw SQL p50 {raw['p50_ms']} ms p99 {raw['p99_ms']} ms; "
          f"ratio p50 {ratio:.2f}; pages query alone (ORM) p50 {pages_only['p50_ms']} ms p99 "
          f"{pages_only['p99_ms']} ms, ratio {pages_ratio:.2f}; "
          f"queries with hits {sum(1 for h in hits if h)}/{queries}")
    return {"queries": queries, "selector": selector, "pages_query_orm": pages_only, "raw_sql": raw,
            "ratio_p50": round(ratio or 0, 2), "pages_ratio_p50": round(pages_ratio or 0, 2),
            "queries_with_hits": sum(1 for h in hits if h), "mean_hits": round(sum(hits) / len(hits), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ocr-pages", type=int, default=10)
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--words-per-page", type=int, default=100)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--skip-ocr", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    setup_django(URL)
    result: dict = {}
    if not args.skip_ocr:
        result["ocr"] = bench_ocr(args.ocr_pages)
    if not args.skip_search:
        loaded = load_pages(args.pages, args.words_per_page)
        result["search"] = bench_search(loaded, args.queries)
        result["load"] = {k: v for k, v in loaded.items() if k not in {"units", "vocab", "places"}}
    write_result("records", result)


if __name__ == "__main__":
    main()
