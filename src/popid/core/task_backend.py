"""The task backend of ``TASKS["default"]``: django-tasks-db's, plus the request id."""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend

from popid.core import logs

REQUEST_ID_KWARG = "_popid_request_id"


class PopIdDatabaseBackend(DatabaseBackend):
    """Rows in the caller's transaction (the outbox relies on it), carrying the current request id
    into the task's kwargs so the worker logs under the id of the request that caused the work."""

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> Any:
        if (request_id := logs.current_request_id()) and REQUEST_ID_KWARG not in kwargs:
            kwargs = {**kwargs, REQUEST_ID_KWARG: request_id}
        return super().enqueue(task, args, kwargs)
