"""Operations pages of the officer console: failed background tasks (dead letters) with a retry
button, for supervisors and administrators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from popid.core import tasks
from popid.core.permissions import Permission, requires
from popid.web.shell import officer_view, render_page


@officer_view
@requires(Permission.TASKS_ADMIN)
def failed_tasks(request: HttpRequest) -> HttpResponse:
    rows = [{"id": str(row.id), "name": row.task_name, "path": row.task_path, "queue": row.queue_name,
             "attempts": len(row.worker_ids), "finished_at": row.finished_at, "enqueued_at": row.enqueued_at,
             "error_class": row.exception_class_path, "error": tasks.error_summary(row)}
            for row in tasks.failed_tasks()]
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
    return render_page(request, "ops/failed_tasks.html", {
        "rows": rows, "queued": queued, "running": running, "workers": len(tasks.live_workers()),
        "schedulers": len(tasks.live_workers(kind="scheduler"))})


@officer_view
@requires(Permission.TASKS_ADMIN)
@require_POST
def retry_task(request: HttpRequest, task_id: str) -> HttpResponse:
    if tasks.retry_failed_task(task_id):
        messages.success(request, _("Đã đưa tác vụ vào hàng đợi chạy lại"))
    else:
        messages.error(request, _("Chỉ chạy lại được tác vụ đã thất bại"))
    return redirect("ops:failed_tasks")
