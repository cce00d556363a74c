from django.urls import path

from popid.services import counter_views, stats_views, views

urlpatterns = [
    path("statistics/", stats_views.statistics_page, name="statistics"),
    path("dossiers/", views.queue, name="dossier_queue"),
    path("counter/", counter_views.counter_intake, name="dossier_counter"),
    path("dossiers/<str:code>/", views.dossier_detail, name="dossier_detail"),
    path("dossiers/<str:code>/attachments/<int:pk>/", views.attachment_download, name="dossier_attachment"),
    path("dossiers/<str:code>/<slug:action>/", views.dossier_action, name="dossier_action"),
]
