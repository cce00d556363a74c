from django.urls import path

from popid.services import stats_views, views

urlpatterns = [
    path("statistics/", stats_views.statistics_page, name="statistics"),
    path("dossiers/", views.queue, name="dossier_queue"),
    path("dossiers/<str:code>/", views.dossier_detail, name="dossier_detail"),
    path("dossiers/<str:code>/attachments/<int:pk>/", views.attachment_download, name="dossier_attachment"),
    path("dossiers/<str:code>/<slug:action>/", views.dossier_action, name="dossier_action"),
]
