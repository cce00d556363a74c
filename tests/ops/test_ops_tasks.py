"""Background tasks (issue #12): outbox events and their consumer tasks in one transaction, the
worker delivering webhooks and following deaths, retries with back-off, dead letters and the
supervisors' page, the scheduler's once-per-period enqueueing, orphaned tasks requeued."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from popid.core import outbox, scheduler, tasks
from popid.core.models import PeriodicRun, WorkerHeartbeat
from popid.exchange.models import Delivery, DeliveryStatus
from popid.registry import services as registry
from popid.registry.models import OutboxEvent
from tests.conftest import make_staff
from tests.exchange.test_exchange_services import make_bank
from tests.exchange.test_exchange_webhooks import Receiver, subscribe

FAILURES = {"count": 0}


@tasks.background(max_attempts=2)
def always_fails(tag: str) -> None:
    FAILURES["count"] += 1
    raise RuntimeError(f"receiver unreachable ({tag})")


def run_worker(max_tasks: int | None = None) -> None:
    """A real django-tasks-db worker in batch mode: runs what is ready, then returns (its
    connection recycling is off: the test's transaction holds the connection, as in Django's
    own test client)."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
               max_tasks=max_tasks, worker_id="test-worker", excluded_queue_names=[]).run()


def consumer_paths(event_id: int) -> set[str]:
    return {row.task_path for row in DBTaskResult.objects.all() if row.args_kwargs["args"] == [event_id]}


def die(person, actor):
    return registry.record_death(actor=actor, id_number=person.id_number, died_on=date(2026, 11, 1),
                                 reason="Khai tử")


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = True


def test_event_and_its_consumer_tasks_commit_or_roll_back_together(family, admin_actor):
    events_before, tasks_before = OutboxEvent.objects.count(), DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        die(family["grandma"], admin_actor)
        assert OutboxEvent.objects.count() > events_before and DBTaskResult.objects.count() > tasks_before
        raise RuntimeError("the web process dies before commit")
    assert (OutboxEvent.objects.count(), DBTaskResult.objects.count()) == (events_before, tasks_before)

    die(family["grandma"], admin_actor)
    event = OutboxEvent.objects.get(topic="person.died", aggregate_id=family["grandma"].id_number)
    assert consumer_paths(event.pk) == {"popid.exchange.tasks.dispatch_event",
                                        "popid.wallet.tasks.apply_registry_event"}
    # a topic nobody consumes writes the event and no task
    with transaction.atomic():
        other = outbox.emit(topic="test.nobody", aggregate_id="X1", payload={"when": date(2026, 1, 2)})
    assert other.payload == {"when": "2026-01-02"} and consumer_paths(other.pk) == set()


def test_emit_refuses_bad_input_and_writes_nothing(db):
    before = OutboxEvent.objects.count()
    for topic, aggregate in (("", "X1"), ("t" * 51, "X1"), ("person.died", ""), ("person.died", "9" * 21)):
        with pytest.raises(ValueError):
            outbox.emit(topic=topic, aggregate_id=aggregate)
    assert OutboxEvent.objects.count() == before


def test_worker_delivers_the_webhook_of_a_death_with_no_command(family, admin_actor):
    receiver = Receiver()
    try:
        _agency, subsystem, _key = make_bank()
        subscribe(subsystem, receiver.url)
        die(family["grandma"], admin_actor)
        run_worker()
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
        headers = {k.lower(): v for k, v in receiver.headers[0].items()}
        assert len(receiver.bodies) == 1 and headers["x-popid-delivery"] == str(delivery.pk)
        assert not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists()
        # a replay of the same event (catch-up) creates no second delivery and sends nothing
        assert outbox.replay(from_id=delivery.outbox_event_id, to_id=delivery.outbox_event_id) == 2
        run_worker()
        assert Delivery.objects.count() == 1 and len(receiver.bodies) == 1
    finally:
        receiver.close()


def test_failed_webhook_is_retried_by_its_task_after_the_backoff(family, admin_actor):
    receiver = Receiver()
    receiver.mode = "error"
    try:
        _agency, subsystem, _key = make_bank()
        subscribe(subsystem, receiver.url, events=("death",))
        die(family["grandma"], admin_actor)
        run_worker()
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        waiting = DBTaskResult.objects.get(status=TaskResultStatus.READY, task_path__endswith="deliver_webhook")
        assert waiting.run_after == delivery.next_attempt_at  # the next try is already queued
        receiver.mode = "ok"
        DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        run_worker()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2 and len(receiver.bodies) == 2
    finally:
        receiver.close()


def test_failing_task_backs_off_then_becomes_a_dead_letter_and_can_be_retried(db):
    FAILURES["count"] = 0
    result = always_fails.enqueue("a")
    started = timezone.now()
    run_worker()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY and len(row.worker_ids) == 1
    assert row.run_after >= started + timedelta(seconds=tasks.backoff(1)) - timedelta(seconds=1)
    assert "receiver unreachable" in row.traceback
    run_worker()
    assert FAILURES["count"] == 1  # not due yet: the back-off holds
    DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now())
    run_worker()
    row.refresh_from_db()
    assert FAILURES["count"] == 2 and row.status == TaskResultStatus.FAILED and len(row.worker_ids) == 2
    assert tasks.error_summary(row) == "RuntimeError: receiver unreachable (a)"
    assert [r.pk for r in tasks.failed_tasks()] == [row.pk]
    assert tasks.retry_failed_task(str(row.pk)) and not tasks.retry_failed_task(str(row.pk))
    assert not tasks.retry_failed_task("not-a-uuid")
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY and row.worker_ids == []


def test_backoff_grows_exponentially_and_is_capped():
    assert [tasks.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert tasks.backoff(30) == tasks.MAX_DELAY


def test_scheduler_enqueues_each_job_once_per_period_even_with_two_schedulers(db):
    nightly = tasks.PERIODIC["popid.registry.tasks.nightly_quality_run"]
    midnight_utc = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    now = midnight_utc + timedelta(hours=19, minutes=30)  # 02:30 in Hanoi: inside the nightly window
    assert nightly.due(now) and not nightly.due(now + timedelta(hours=12))
    first = scheduler.tick(now)
    assert "popid.ledger.tasks.integrate_ledger" in first and "popid.registry.tasks.nightly_quality_run" in first
    assert scheduler.tick(now) == []  # a second scheduler in the same period enqueues nothing
    later = scheduler.tick(now + timedelta(seconds=5))
    assert "popid.ledger.tasks.integrate_ledger" in later and "popid.registry.tasks.nightly_quality_run" not in later
    assert DBTaskResult.objects.filter(task_path="popid.ledger.tasks.integrate_ledger").count() == 2
    assert PeriodicRun.objects.filter(name="popid.ledger.tasks.integrate_ledger").count() == 2


def test_periodic_ledger_integration_commits_access_records(family, admin_actor):
    from popid.core.access import AccessContext, record_access
    from popid.core.models import AccessRecord
    from popid.ledger.models import Checkpoint

    record_access(ctx=AccessContext(actor=admin_actor, purpose="Kiểm tra", channel="console"),
                  person_id_numbers=[family["an"].id_number], fields=["full_name"])
    assert AccessRecord.objects.filter(committed_at__isnull=True).exists()
    scheduler.tick()
    run_worker()
    assert not AccessRecord.objects.filter(committed_at__isnull=True).exists()
    assert Checkpoint.objects.exists()


def test_task_of_a_dead_worker_is_requeued_and_a_live_one_is_left_alone(db, settings):
    settings.POPID_WORKER_STALE_SECONDS = 30
    long_ago = timezone.now() - timedelta(minutes=5)
    orphan = always_fails.enqueue("orphan")
    busy = always_fails.enqueue("busy")
    DBTaskResult.objects.filter(pk=orphan.id).update(status=TaskResultStatus.RUNNING, started_at=long_ago,
                                                     worker_ids=["killed-worker"])
    DBTaskResult.objects.filter(pk=busy.id).update(status=TaskResultStatus.RUNNING, started_at=long_ago,
                                                   worker_ids=["live-worker"])
    tasks.beat("live-worker")
    WorkerHeartbeat.objects.create(worker_id="killed-worker", hostname="h", pid=1, started_at=long_ago,
                                   seen_at=long_ago)
    assert tasks.live_workers() == ["live-worker"]
    assert tasks.requeue_orphans() == 1
    assert DBTaskResult.objects.get(pk=orphan.id).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=busy.id).status == TaskResultStatus.RUNNING
    # on its last attempt, a lost run is a dead letter instead
    DBTaskResult.objects.filter(pk=orphan.id).update(status=TaskResultStatus.RUNNING, started_at=long_ago,
                                                     worker_ids=["killed-worker", "killed-worker"])
    assert tasks.requeue_orphans() == 1
    assert DBTaskResult.objects.get(pk=orphan.id).exception_class_path == "popid.core.tasks.WorkerLost"


def test_dead_letter_page_is_for_supervisors_and_retries(client, db):
    result = always_fails.enqueue("page")
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.FAILED, finished_at=timezone.now(),
                                                     exception_class_path="builtins.RuntimeError",
                                                     traceback="Traceback ...\nRuntimeError: boom\n",
                                                     worker_ids=["w", "w"])
    url = reverse("ops:failed_tasks")
    assert client.get(url).status_code == 302  # login first
    client.force_login(make_staff("cb.thuong", role="officer", level="commune", unit_code="00070"))
    assert client.get(url).status_code == 403
    assert client.post(reverse("ops:retry_task", args=[str(result.id)])).status_code == 403
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.FAILED
    client.force_login(make_staff("gs.vanhanh", role="supervisor", level="nation"))
    page = client.get(url)
    assert page.status_code == 200 and "RuntimeError: boom" in page.content.decode()
    assert str(result.id) in page.content.decode()
    bad = client.post(reverse("ops:retry_task", args=["nonsense"]), follow=True)
    assert bad.status_code == 200 and DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.FAILED
    done = client.post(reverse("ops:retry_task", args=[str(result.id)]))
    assert done.status_code == 302 and DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    assert client.get(reverse("ops:retry_task", args=[str(result.id)])).status_code == 405


def test_outbox_replay_command_enqueues_consumers_and_refuses_bad_input(family, admin_actor):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    die(family["grandma"], admin_actor)
    event = OutboxEvent.objects.get(topic="person.died")
    before = DBTaskResult.objects.count()
    out = io.StringIO()
    call_command("outbox", "replay", "--from-id", str(event.pk), "--to-id", str(event.pk),
                 "--consumer", "popid.wallet.tasks.apply_registry_event", stdout=out)
    assert out.getvalue().strip() == "1 consumer tasks enqueued" and DBTaskResult.objects.count() == before + 1
    for bad in (["--from-id", "0"], ["--from-id", "5", "--to-id", "4"], ["--from-id", "1", "--consumer", "nope"]):
        with pytest.raises(CommandError):
            call_command("outbox", "replay", *bad, stdout=io.StringIO())
    assert DBTaskResult.objects.count() == before + 1
    listing = io.StringIO()
    call_command("outbox", "consumers", stdout=listing)
    assert "popid.exchange.tasks.dispatch_event" in listing.getvalue()
