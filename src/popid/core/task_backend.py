"""The task backend of ``TASKS["default"]``: django-tasks-db's, plus the request id."""

from __future__ import annotations

from typing import Any, ParamSpec, TypeVar

from django_tasks_db.backend import DatabaseBackend, TaskResult

# django-tasks-db's own name for the task class: ``django.tasks.base.Task`` on Django ≥ 6, the
# ``django_tasks`` backport's ``Task`` before (the one ``@background`` makes at run time here).
from django_tasks_db.compat import Task

from popid.core import logs

REQUEST_ID_KWARG = "_popid_request_id"

P = ParamSpec("P")
T = TypeVar("T")


class PopIdDatabaseBackend(DatabaseBackend):
    """Rows in the caller's transaction (the outbox relies on it), carrying the current request id
    into the task's kwargs so the worker logs under the id of the request that caused the work."""

    def enqueue(self, task: Task[P, T], args: Any, kwargs: Any) -> TaskResult[P, T]:
        if (request_id := logs.current_request_id()) and REQUEST_ID_KWARG not in kwargs:
            kwargs = {**kwargs, REQUEST_ID_KWARG: request_id}
        return super().enqueue(task, args, kwargs)
