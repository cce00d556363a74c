"""Background tasks through ``popid worker`` (django-tasks, database backend) on PostgreSQL.

1. No-op tasks: N tasks enqueued in one transaction, then drained by W worker processes
   (tasks/s from the first claim to the last finish); baseline: the same function called N times
   in-process.
2. Webhook deliveries to a local receiver: N deaths recorded with the workers stopped, then the
   workers drain the backlog (each death = outbox consumer task + delivery task: JWS signing,
   HTTP POST, access record); baseline: the same deliveries made in-process by calling the
   consumer and delivery functions in a loop, same receiver.
3. Event-to-delivery latency: deaths recorded one at a time at a steady rate while W workers run;
   latency = the receiver's arrival time − the outbox event's ``created_at``; p50/p99.

Run: .venv/bin/python benchmarks/bench_tasks.py [--noop 3000] [--hooks 300] [--workers 2]
Uses its own database (POPID_BENCH_TASKS_DATABASE_URL, default .../popid_bench_tasks).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, latency_summary, recreate_database, write_result

URL = os.environ.get("POPID_BENCH_TASKS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popid_bench_tasks")
DATA_DIR = Path(os.environ.get("POPID_BENCH_DATA_DIR", "/tmp/popid-bench")) / "tasks"
ENV = {**os.environ, "POPID_DATABASE_URL": URL, "POPID_DATA_DIR": str(DATA_DIR), "POPID_DB_CONN_MAX_AGE": "60",
       "POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS": "1", "POPID_LOG_LEVEL": "WARNING",
       "DJANGO_SETTINGS_MODULE": "popid.settings",
       "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "benchmarks")])}
HOAN_KIEM = "00070"
SYLLABLES = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc",
             "Quang", "Sơn", "Tâm", "Uyên", "Vinh", "Xuân", "Yến"]


def _name(i: int) -> str:
    n = len(SYLLABLES)
    return f"Nguyễn {SYLLABLES[i // n // n % n]} {SYLLABLES[i // n % n]} {SYLLABLES[i % n]}"


class Receiver:
    """Records (event id, arrival time) of every POST; answers 204."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[int, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                payload = body.split(b".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
                outer.arrivals.append((claims["event"]["id"], arrived))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def start_workers(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "from popid.cli import main; main()", "worker", "-v0",
                              "--interval", "0.05", "--no-startup-delay"], env=ENV) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def wait_for(predicate, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.02)


def drain_rate(task: Any, workers: int, count: int) -> dict[str, float]:
    """Enqueue ``count`` tasks in one transaction, start workers on the full queue; tasks/s from the
    first claim to the last finish."""
    from django.db import transaction
    from django.db.models import Max, Min
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        ids = [str(task.enqueue().id) for _ in range(count)]
    rows = DBTaskResult.objects.filter(pk__in=ids)
    expected = count
    procs = start_workers(workers)
    try:
        wait_for(lambda: rows.filter(status=TaskResultStatus.SUCCESSFUL).count() >= expected)
    finally:
        stop_workers(procs)
    span = rows.aggregate(first=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return {"tasks": expected, "seconds": round(seconds, 3), "per_second": round(expected / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--noop", type=int, default=3000)
    parser.add_argument("--hooks", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=5.0, help="deaths per second in the latency run")
    args = parser.parse_args()

    recreate_database(URL)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", "from popid.cli import main; main()", "migrate", "-v0"], env=ENV, check=True)
    os.environ.update(ENV)
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from noop_task import noop  # the module path the workers import
    from popid.core.access import Actor
    from popid.exchange import management_services as manage
    from popid.exchange import webhooks
    from popid.exchange.access import RequestContext
    from popid.exchange.models import Delivery, DeliveryStatus
    from popid.registry import services as registry
    from popid.registry.models import OutboxEvent

    results: dict = {"workers": args.workers}

    # 1. no-op
    started = time.perf_counter()
    for _ in range(args.noop):
        noop.call()
    in_process = args.noop / (time.perf_counter() - started)
    started = time.perf_counter()
    with transaction.atomic():
        for _ in range(args.noop):
            noop.enqueue()
        enqueue_rate = args.noop / (time.perf_counter() - started)
        transaction.set_rollback(True)
    through = {w: drain_rate(noop, w, args.noop) for w in sorted({1, args.workers})}
    results["noop"] = {"in_process_per_second": round(in_process), "enqueue_per_second": round(enqueue_rate, 1),
                       "worker": {str(w): r for w, r in through.items()},
                       "ratio_in_process_over_worker": round(in_process / through[args.workers]["per_second"])}

    # 2. webhooks: backlog drained by workers vs the same work in-process
    admin = Actor.system("bench-admin")
    agency = manage.create_agency(actor=admin, code="bench-hooks", name="Benchmark", kind="bank",
                                  rate_per_minute=10**6, daily_quota=10**9)
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1", "alg": "ES256"}, private=True)
    subsystem = manage.create_subsystem(actor=admin, agency=agency, code="core", name="Core",
                                        jwks={"keys": [key.as_dict(private=False)]})
    manage.create_grant(actor=admin, subsystem=subsystem, service="events", legal_basis="Benchmark",
                        expires_at=timezone.now() + timedelta(days=30), fields=["full_name", "birth_date"],
                        event_types=["death"])
    receiver = Receiver()
    webhooks.subscribe(subsystem=subsystem, rc=RequestContext(purpose="Benchmark", legal_basis="Benchmark",
                                                              official="bench"), url=receiver.url,
                       event_types=["death"])
    total = 2 * args.hooks + 2 * args.hooks + int(args.rate * 30)
    persons = [registry.register_birth(actor=admin, full_name=_name(i), birth_date=date(1950, 1, 1),
                                       sex="M" if i % 2 else "F", birth_place="Hà Nội",
                                       birth_registration_commune_code=HOAN_KIEM, hometown="Hà Nội",
                                       ethnicity_code="01", father_name="Nguyễn Văn Bố", mother_name="Trần Thị Mẹ")
               for i in range(total)]
    pool = iter(persons)

    def die() -> None:
        registry.record_death(actor=admin, id_number=next(pool).id_number, died_on=date(2026, 11, 1), reason="Khai tử")

    # in-process baseline: the consumer and the delivery function called directly (tasks left unrun)
    for _ in range(args.hooks):
        die()
    events = list(OutboxEvent.objects.filter(topic="person.died").order_by("pk"))
    started = time.perf_counter()
    for event in events:
        webhooks.dispatch_event(event)
    for delivery_id in Delivery.objects.values_list("pk", flat=True):
        webhooks.deliver_task(delivery_id)
    in_process_hooks = len(events) / (time.perf_counter() - started)
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == len(events)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the baseline's queued tasks would only find them delivered
    # through the workers: a fresh backlog of deaths
    before = len(receiver.arrivals)
    for _ in range(args.hooks):
        die()
    procs = start_workers(args.workers)
    first = time.perf_counter()
    try:
        wait_for(lambda: len(receiver.arrivals) - before >= args.hooks)
    finally:
        drained = time.perf_counter() - first
        stop_workers(procs)
    results["webhooks"] = {"deliveries": args.hooks, "in_process_per_second": round(in_process_hooks, 1),
                           "worker_per_second_incl_startup": round(args.hooks / drained, 1)}
    # the same measured from the task rows (excludes worker start-up)
    from django.db.models import Max, Min

    span = DBTaskResult.objects.filter(task_path__startswith="popid.exchange.tasks.").aggregate(
        first=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    results["webhooks"]["worker_per_second"] = round(args.hooks / seconds, 1)
    results["webhooks"]["ratio_in_process_over_worker"] = round(in_process_hooks / (args.hooks / seconds), 2)

    # 3. latency at a steady rate with the workers running
    from popid.core import tasks

    procs = start_workers(args.workers)
    wait_for(lambda: len(tasks.live_workers()) >= args.workers, timeout=120)  # booted, polling
    before = len(receiver.arrivals)
    count = int(args.rate * 30)
    try:
        for _ in range(count):
            die()
            time.sleep(1 / args.rate)
        wait_for(lambda: len(receiver.arrivals) - before >= count, timeout=120)
    finally:
        stop_workers(procs)
    created = dict(OutboxEvent.objects.filter(topic="person.died").values_list("pk", "created_at"))
    latencies = [arrived - created[event_id].timestamp() for event_id, arrived in receiver.arrivals[before:]]
    results["latency"] = {"rate_per_second": args.rate, **latency_summary(latencies)}
    write_result("tasks", results)


if __name__ == "__main__":
    main()
