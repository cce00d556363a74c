"""Shared helpers for the benchmarks: the benchmark database, the machine description,
percentiles and result files. Benchmarks run against PostgreSQL (the production database)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BENCH_URL = os.environ.get("POPID_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popid_bench")
POPID = str(ROOT / ".venv" / "bin" / "popid")
BENCH_DATA_DIR = Path(os.environ.get("POPID_BENCH_DATA_DIR", "/tmp/popid-bench"))


def admin_url(url: str = BENCH_URL) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def db_name(url: str = BENCH_URL) -> str:
    return url.rsplit("/", 1)[1]


def recreate_database(url: str = BENCH_URL) -> None:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name(url)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name(url)}"')


def popid_env(url: str = BENCH_URL) -> dict[str, str]:
    BENCH_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "POPID_DATABASE_URL": url, "POPID_DATA_DIR": str(BENCH_DATA_DIR)}


def popid(*args: str, url: str = BENCH_URL, capture: bool = False) -> str:
    result = subprocess.run([POPID, *args], env=popid_env(url), check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


def setup_django(url: str = BENCH_URL) -> None:
    os.environ.update(popid_env(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "popid.settings")
    import django

    django.setup()


def person_count(url: str = BENCH_URL) -> int:
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM registry_person").fetchone()[0]
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return 0


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    with psycopg.connect(admin_url()) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "python": sys.version.split()[0], "postgresql": pg, "os": platform.platform()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, 50), 3), "p99_ms": round(percentile(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"), "samples": len(ms)}


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    return path


def licence_holder(actor_label: str, number: str = "010123456789", *, password: str = "bench-wallet-1",
                   with_id_card: bool = False) -> dict[str, Any]:
    """The wallet benchmarks' named citizen (Nguyễn Văn An, Hoàn Kiếm) with a driving licence and a
    level-2 account, made once per database (Django must be set up)."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from popid.core.access import Actor
    from popid.documents import services as documents
    from popid.documents.models import DrivingLicence
    from popid.identity.models import CitizenAccount
    from popid.registry import services as registry
    from popid.registry.models import IdentityCard

    licence = DrivingLicence.objects.select_related("person").filter(number=number).first()
    if licence is None:
        admin = Actor.system(actor_label)
        person = registry.register_birth(
            actor=admin, full_name="Nguyễn Văn An", birth_date=date(1990, 5, 12), sex="M", birth_place="Hà Nội",
            birth_registration_commune_code="00070", hometown="Nam Định", ethnicity_code="01",
            father_name="Nguyễn Văn Bình", mother_name="Lê Thị Hoa")
        registry.register_permanent_residence(actor=admin, id_number=person.id_number, commune_code="00070",
                                              address="12 Hàng Bạc", valid_from=date(2016, 1, 1), reason="Thường trú")
        if with_id_card:
            IdentityCard.objects.create(person=person, card_number=person.id_number, issued_on=date(2021, 7, 1),
                                        issued_by="Cục Cảnh sát QLHC về TTXH")
        licence = documents.issue_licence(
            actor=admin, person=person, number=number,
            classes=[{"class": "A1", "issued_on": "2010-06-01"},
                     {"class": "B", "issued_on": "2015-03-01", "valid_until": "2035-03-01"}],
            issued_on=date(2010, 6, 1), valid_until=date(2035, 3, 1), issued_by="Phòng CSGT Hà Nội")
    person = licence.person
    account = CitizenAccount.objects.filter(person=person).first()
    if account is None:
        user = get_user_model().objects.create_user(username=person.id_number, password=password)
        account = CitizenAccount.objects.create(user=user, person=person, level=2, phone="0912345678",
                                                phone_verified_at=timezone.now(), level2_activated_at=timezone.now())
    return {"account": account, "licence": licence}
