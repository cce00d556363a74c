"""Deadline reminders (issue #12): the periodic job tells the citizen (inbox) and the officer
handling the dossier (e-mail through the task queue) once per threshold, however often it runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from popid.core import messaging, tasks
from popid.core.access import Actor
from popid.services import dossiers, reminders
from popid.services import tasks as service_tasks
from popid.services.models import DeadlineReminder, Dossier, DossierState, Notification
from tests.services.test_services_workflow import _submitted, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_reminders_go_once_per_threshold_to_the_citizen_and_the_officer(family, officer_hoan_kiem):
    officer_hoan_kiem.email = "cb.hoankiem@congan.vn"
    officer_hoan_kiem.save()
    account = make_account(family["an"])
    dossier = _submitted(account)
    dossiers.claim(actor=Actor.for_user(officer_hoan_kiem), code=dossier.code)
    far = dossier.deadline - timedelta(days=30)
    assert reminders.remind_deadlines(today=far).sent == {"due_soon": 0, "due_today": 0, "overdue": 0}

    soon = dossier.deadline - timedelta(days=1)  # within 2 working days of the deadline
    assert reminders.remind_deadlines(today=soon).sent["due_soon"] == 1
    assert reminders.remind_deadlines(today=soon).sent["due_soon"] == 0  # the job runs again: nothing new
    note = Notification.objects.filter(dossier=dossier).latest("pk")
    assert note.account == account and dossier.code in note.note
    assert dossier.deadline.strftime("%d/%m/%Y") in note.note
    [mail] = messaging.read_outbox(to="cb.hoankiem@congan.vn")
    assert mail["channel"] == "email" and dossier.code in mail["subject"]

    assert reminders.remind_deadlines(today=dossier.deadline).sent["due_today"] == 1
    later = dossier.deadline + timedelta(days=3)
    assert reminders.remind_deadlines(today=later).sent == {"due_soon": 0, "due_today": 0, "overdue": 1}
    assert reminders.remind_deadlines(today=later + timedelta(days=1)).sent["overdue"] == 0
    assert sorted(DeadlineReminder.objects.filter(dossier=dossier).values_list("threshold", flat=True)) == [
        "due_soon", "due_today", "overdue"]
    assert len(messaging.read_outbox(to="cb.hoankiem@congan.vn")) == 3


def test_paused_and_closed_dossiers_get_no_reminder(family):
    account = make_account(family["an"])
    paused, closed = _submitted(account), _submitted(account, address="7 Hàng Đào")
    Dossier.objects.filter(pk=paused.pk).update(state=DossierState.SUPPLEMENT_REQUESTED)
    Dossier.objects.filter(pk=closed.pk).update(state=DossierState.APPROVED)
    run = reminders.remind_deadlines(today=paused.deadline + timedelta(days=10))
    assert run.sent == {"due_soon": 0, "due_today": 0, "overdue": 0}
    assert not DeadlineReminder.objects.exists()


def test_the_reminder_job_is_a_periodic_task(family):
    periodic = tasks.PERIODIC[service_tasks.remind_deadlines.module_path]
    assert periodic.every == 3600
    dossier = _submitted(make_account(family["an"]))
    Dossier.objects.filter(pk=dossier.pk).update(deadline=timezone.localdate())
    assert service_tasks.remind_deadlines.call() == {"due_soon": 0, "due_today": 1, "overdue": 0}
