"""Faults (issue #12): a real ``popid worker`` process killed with ``kill -9`` mid-task. The task
runs again on another worker, the webhook is sent again with the SAME delivery and event id, and
the ledger never holds a half-written batch."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from joserfc import jwt
from joserfc.jwk import KeySet

from popid.core import keys
from popid.exchange.models import Delivery, DeliveryStatus
from popid.registry import services as registry
from tests.exchange.test_exchange_services import make_bank
from tests.exchange.test_exchange_webhooks import subscribe

SRC = str(Path(__file__).resolve().parents[2] / "src")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = True


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*extra: str, **env: str) -> subprocess.Popen:
    environ = {**os.environ, "PYTHONPATH": SRC, "DJANGO_SETTINGS_MODULE": "popid.settings",
               "POPID_DATA_DIR": str(settings.DATA_DIR), "POPID_DATABASE_URL": database_url(),
               "POPID_DB_CONN_MAX_AGE": "0", "POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS": "1",
               "POPID_WEBHOOK_TIMEOUT": "2", "POPID_WORKER_STALE_SECONDS": "2",
               "POPID_WORKER_HEARTBEAT_SECONDS": "0.5", **env}
    return subprocess.Popen([sys.executable, "-c", "from popid.cli import main; main()", "worker",
                             "--interval", "0.1", "--no-startup-delay", "-v0", *extra], env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class HangingReceiver:
    """The first POST is held (the worker is killed while it waits); later ones get 204."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if len(outer.requests) == 1:
                    time.sleep(4)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_worker_killed_mid_delivery_the_task_runs_again_with_the_same_event_id(family, admin_actor):
    receiver = HangingReceiver()
    workers: list[subprocess.Popen] = []
    try:
        _agency, subsystem, _key = make_bank()
        subscribe(subsystem, receiver.url, events=("death",))
        registry.record_death(actor=admin_actor, id_number=family["grandma"].id_number, died_on=date(2026, 11, 1),
                              reason="Khai tử")
        workers.append(start_worker())
        wait_until(lambda: len(receiver.requests) == 1, 60, "the first delivery attempt")
        os.kill(workers[0].pid, signal.SIGKILL)  # mid-send: the receiver has not answered yet
        workers[0].wait(timeout=10)
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.SENDING
        stuck = DBTaskResult.objects.get(task_path="popid.exchange.tasks.deliver_webhook")
        assert stuck.status == TaskResultStatus.RUNNING  # nobody will finish it: its worker is dead

        workers.append(start_worker("--with-scheduler"))
        wait_until(lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED, 60, "the redelivery")
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and Delivery.objects.count() == 1
        assert len(receiver.requests) == 2
        keyset = KeySet.import_key_set(keys.public_jwks("exchange"))
        claims = [jwt.decode(body.decode(), keyset, algorithms=["ES256"]).claims for _h, body in receiver.requests]
        assert claims[0]["event"]["id"] == claims[1]["event"]["id"] == delivery.outbox_event_id
        assert claims[0]["jti"] == claims[1]["jti"] == f"delivery-{delivery.pk}"
        assert {h["x-popid-delivery"] for h, _b in receiver.requests} == {str(delivery.pk)}
        stuck.refresh_from_db()
        assert stuck.status == TaskResultStatus.SUCCESSFUL and len(stuck.worker_ids) >= 2
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=20)
        receiver.close()


def test_worker_killed_mid_integration_leaves_no_half_written_batch(family, admin_actor):
    from django.core.management import call_command

    from popid.core.models import AccessRecord
    from popid.ledger import tasks as ledger_tasks
    from popid.ledger.models import LedgerEntry, LedgerState

    ids = [p.id_number for p in family.values()]
    AccessRecord.objects.bulk_create(
        [AccessRecord(actor=admin_actor.label, person_id_number=ids[i % len(ids)], purpose="Kiểm tra tải",
                      channel="console", fields=["full_name"]) for i in range(15_000)], batch_size=5000)
    pending = AccessRecord.objects.filter(committed_at__isnull=True).count()
    ledger_tasks.integrate_ledger.enqueue()
    worker = start_worker()
    try:
        wait_until(LedgerEntry.objects.exists, 120, "the first committed batch")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    size = LedgerState.objects.values_list("size", flat=True).first() or 0
    assert LedgerEntry.objects.count() == size == AccessRecord.objects.filter(committed_at__isnull=False).count()
    print("killed at", size, "of", pending)
    assert size % 5000 == 0 or size == pending  # whole batches only
    # a new worker (with the scheduler requeueing the lost task) finishes the job; the log verifies
    worker = start_worker("--with-scheduler")
    try:
        wait_until(lambda: not AccessRecord.objects.filter(committed_at__isnull=True).exists(), 120,
                   "the remaining records")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert LedgerState.objects.get().size == pending
    call_command("ledger", "verify", stdout=io.StringIO())
