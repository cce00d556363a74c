"""Deadline reminders: the periodic job ``services.tasks.remind_deadlines`` tells the citizens
concerned (their inbox) and the officer handling the dossier (e-mail, through the task queue) when
an open dossier's legal deadline is near (``DUE_SOON_WORKING_DAYS`` working days or fewer),
today, or past. Each dossier gets each of the three reminders once (``DeadlineReminder`` unique
row, written in the same transaction as the notifications), however often the job runs. Dossiers
waiting for the citizen's supplement are skipped: their deadline is paused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from popid.core import messaging
from popid.services.calendar import add_working_days
from popid.services.models import DeadlineReminder, Dossier, DossierState, Notification, ReminderThreshold

DUE_SOON_WORKING_DAYS = 2
RUNNING_STATES = (DossierState.SUBMITTED, DossierState.IN_REVIEW)


@dataclass
class ReminderRun:
    sent: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in ReminderThreshold})


def _text(threshold: str, dossier: Dossier) -> str:
    when = formats.date_format(dossier.deadline, "d/m/Y")
    if threshold == ReminderThreshold.OVERDUE:
        return _("Hồ sơ %(code)s đã quá hạn giải quyết (hạn %(date)s).") % {"code": dossier.code, "date": when}
    if threshold == ReminderThreshold.DUE_TODAY:
        return _("Hồ sơ %(code)s đến hạn giải quyết hôm nay (%(date)s).") % {"code": dossier.code, "date": when}
    return _("Hồ sơ %(code)s sắp đến hạn giải quyết: %(date)s.") % {"code": dossier.code, "date": when}


def _due(threshold: str, today: date) -> dict[str, date]:
    if threshold == ReminderThreshold.OVERDUE:
        return {"deadline__lt": today}
    if threshold == ReminderThreshold.DUE_TODAY:
        return {"deadline": today}
    return {"deadline__gt": today, "deadline__lte": add_working_days(today, DUE_SOON_WORKING_DAYS)}


def _remind(dossier: Dossier, threshold: str) -> bool:
    """Write the reminder row and the notifications together; False if it was already sent."""
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(dossier=dossier, threshold=threshold, deadline=dossier.deadline)
            text = _text(threshold, dossier)
            recipients = sorted({pk for pk in (dossier.applicant_id, dossier.on_behalf_of_id) if pk})
            Notification.objects.bulk_create([Notification(account_id=pk, dossier=dossier, from_state=dossier.state,
                                                           to_state=dossier.state, note=text) for pk in recipients])
            officer = dossier.claimed_by
            if officer is not None and officer.email:
                messaging.send_email(officer.email, _("PopID: nhắc hạn hồ sơ %(code)s") % {"code": dossier.code},
                                     text)
    except IntegrityError:  # another run of the job sent it first
        return False
    return True


def remind_deadlines(*, today: date | None = None) -> ReminderRun:
    today = today or timezone.localdate()
    run = ReminderRun()
    for threshold in (ReminderThreshold.OVERDUE, ReminderThreshold.DUE_TODAY, ReminderThreshold.DUE_SOON):
        pending = (Dossier.objects.filter(state__in=RUNNING_STATES, **_due(threshold, today))
                   .exclude(deadline_reminders__threshold=threshold).select_related("claimed_by").order_by("deadline"))
        for dossier in list(pending):
            if _remind(dossier, threshold):
                run.sent[threshold] += 1
    return run
