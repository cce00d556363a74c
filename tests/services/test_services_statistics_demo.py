"""The demo history behind the statistics page (``popid seed``): months of dossiers in several
provinces, online and at the counter, some decided late, built through the workflow services and
then moved back in time consistently; idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from popid.core.access import Actor
from popid.registry.models import HistoryEntry
from popid.services.calendar import LOCAL_TZ, deadline_for
from popid.services.demo import HISTORY_MARK, HISTORY_OFFICER_PREFIX, ensure_history
from popid.services.models import Dossier
from popid.services.statistics import report


def test_seed_builds_a_varied_consistent_history(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed", persons=300, seed=3, no_progress=True)
    history = Dossier.objects.filter(procedure_code__in=["residence_confirmation", "absence_declaration"])
    assert history.count() >= 60
    assert history.values("province_code").distinct().count() >= 4
    assert {"online", "counter"} <= set(history.values_list("channel", flat=True))
    oldest = min(d.received_at for d in history)
    assert timezone.now() - oldest > timedelta(days=120)  # spread over months
    late = [d for d in history.filter(decided_at__isnull=False, state__in=["approved", "rejected"])
            if d.decided_at.astimezone(LOCAL_TZ).date() > d.deadline]
    assert late and len(late) < history.count() / 2
    for dossier in history.prefetch_related("events"):
        events = list(dossier.events.order_by("pk"))
        assert events[0].at == dossier.received_at and events[0].to_state == "submitted"
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert dossier.deadline == deadline_for(dossier.received_at, 1)
        if dossier.decided_at and dossier.state in {"approved", "rejected", "cancelled"}:
            assert events[-1].at == dossier.decided_at >= dossier.received_at
        if dossier.state == "approved" and dossier.procedure_code == "absence_declaration":
            assert HistoryEntry.objects.get(reason__contains=dossier.code).at == dossier.decided_at
    assert all(d.received_by.startswith(HISTORY_OFFICER_PREFIX) for d in history.filter(channel="counter"))
    assert all(d.idempotency_key.startswith(HISTORY_MARK) for d in history.filter(channel="online"))
    figures = report(actor=Actor.system()).totals
    assert figures.online and figures.counter and figures.decided and 0 < figures.on_time_rate < 100
    count = Dossier.objects.count()
    assert ensure_history() == []
    call_command("seed", persons=0, no_progress=True)
    assert Dossier.objects.count() == count
