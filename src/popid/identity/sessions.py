"""Ending citizens' browser sessions: the one place the identity commands touch Django's session
store, so ``identity.services`` neither takes a request nor imports the session engine."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.utils import timezone

from popid.identity.models import CitizenSession


def _session_store() -> type[SessionBase]:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def end_sessions(sessions: QuerySet[CitizenSession]) -> int:
    """Delete the stored browser session of every open row in ``sessions`` (the browser is logged
    out at its next request) and mark the rows ended; returns how many were open."""
    store = _session_store()
    count = 0
    for row in sessions.filter(ended_at__isnull=True):
        store(session_key=row.session_key).delete()
        count += 1
    sessions.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    return count
