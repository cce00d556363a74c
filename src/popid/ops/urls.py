from django.urls import path

from popid.ops import views as ops_views

app_name = "ops"

urlpatterns = [
    path("tac-vu-loi/", ops_views.failed_tasks, name="failed_tasks"),
    path("tac-vu-loi/<str:task_id>/chay-lai/", ops_views.retry_task, name="retry_task"),
]
