"""SMS through the task framework (issue #12): the request only enqueues a sealed task, the worker
hands the message to the gateway, a failing gateway is retried with back-off; a citizen's OTP
reaches the phone through the worker."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from popid.core import messaging, tasks
from popid.identity import services as identity
from popid.identity.models import CitizenAccount
from tests.identity.test_identity_accounts import PHONE, form_data
from tests.ops.test_ops_tasks import run_worker

pytestmark = pytest.mark.django_db
TASK = "popid.core.messaging.deliver_message"


@pytest.fixture(autouse=True)
def _queued(settings, tmp_path, monkeypatch):
    settings.POPID_MESSAGING_TASK_BACKEND = "default"  # the real queue, as in production
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(identity, "_after_commit", lambda callback: callback())  # test transactions never commit
    cache.clear()
    yield
    cache.clear()


def test_an_sms_is_queued_sealed_and_sent_by_the_worker():
    with transaction.atomic():
        messaging.send_sms(PHONE, "PopID: mã xác thực của bạn là 482913")
    assert messaging.read_outbox() == []  # nothing sent in the request
    row = DBTaskResult.objects.get(task_path=TASK)
    stored = json.dumps(row.args_kwargs)
    assert PHONE not in stored and "482913" not in stored  # sealed at rest
    assert messaging.unseal(row.args_kwargs["args"][0])["to"] == PHONE
    run_worker()
    [sent] = messaging.read_outbox(to=PHONE)
    assert sent["channel"] == "sms" and sent["text"].endswith("482913")
    assert DBTaskResult.objects.get(pk=row.pk).status == TaskResultStatus.SUCCESSFUL


def test_a_tampered_task_is_not_delivered():
    messaging.send_sms(PHONE, "PopID: mã 111111")
    row = DBTaskResult.objects.get(task_path=TASK)
    sealed = row.args_kwargs["args"][0]
    forged = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    DBTaskResult.objects.filter(pk=row.pk).update(args_kwargs={"args": [forged], "kwargs": {}})
    run_worker()
    assert messaging.read_outbox() == []
    row.refresh_from_db()
    assert "InvalidTag" in row.traceback


def test_a_failing_gateway_is_retried_with_back_off(settings, tmp_path):
    messaging.send_email("an@example.vn", "PopID", "Hồ sơ của bạn đã được tiếp nhận")
    (tmp_path / "outbox").write_text("")  # the gateway's spool is not a directory: every send fails
    before = timezone.now()
    run_worker()
    row = DBTaskResult.objects.get(task_path=TASK)
    assert row.status == TaskResultStatus.READY and len(row.worker_ids) == 1  # back in the queue
    assert row.run_after >= before + timedelta(seconds=tasks.backoff(1) - 1)
    assert "FileExistsError" in row.traceback or "NotADirectoryError" in row.traceback
    assert messaging.read_outbox() == []

    (tmp_path / "outbox").unlink()  # the gateway is back
    DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now())
    run_worker()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and len(row.worker_ids) == 2
    assert [m["to"] for m in messaging.read_outbox()] == ["an@example.vn"]


def test_a_message_that_keeps_failing_becomes_a_dead_letter(tmp_path):
    messaging.send_sms(PHONE, "PopID: mã 222222")
    (tmp_path / "outbox").write_text("")
    for _ in range(messaging.MAX_ATTEMPTS):
        DBTaskResult.objects.filter(task_path=TASK).update(run_after=timezone.now())
        run_worker()
    row = DBTaskResult.objects.get(task_path=TASK)
    assert row.status == TaskResultStatus.FAILED and len(row.worker_ids) == messaging.MAX_ATTEMPTS
    assert row in tasks.failed_tasks()


def test_a_citizen_registering_gets_the_otp_through_the_worker(client, family):
    an = family["an"]
    response = client.post("/tai-khoan/dang-ky/", form_data(an))
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/xac-thuc-otp/"
    assert messaging.read_outbox(to=PHONE) == []
    run_worker()
    code = re.search(r"\b(\d{6})\b", messaging.read_outbox(to=PHONE)[-1]["text"]).group(1)
    assert client.post("/tai-khoan/xac-thuc-otp/", {"code": code}).status_code == 302
    assert CitizenAccount.objects.get(person=an).phone_verified_at is not None
