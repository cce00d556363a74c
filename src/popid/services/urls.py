from django.urls import path

from popid.services import counter_views, ct07_views, reconciliation_views, stats_views, views

app_name = "services"
urlpatterns = [
    path("statistics/", stats_views.statistics_page, name="statistics"),
    path("doi-soat/", reconciliation_views.runs, name="reconciliation"),
    path("doi-soat/<int:pk>/", reconciliation_views.run_detail, name="reconciliation_run"),
    path("dossiers/", views.queue, name="dossier_queue"),
    path("counter/", counter_views.counter_intake, name="counter_intake"),
    path("dossiers/<str:code>/", views.dossier_detail, name="dossier_detail"),
    path("dossiers/<str:code>/ct07.pdf", ct07_views.officer_pdf, name="dossier_ct07"),
    path("xac-minh-cu-tru/", ct07_views.verify_page, name="ct07_verify_form"),
    path("xac-minh-cu-tru/chung-thu.pem", ct07_views.certificate, name="ct07_certificate"),
    path("xac-minh-cu-tru/<str:token>/", ct07_views.verify_page, name="ct07_verify"),
    path("dossiers/<str:code>/attachments/<int:pk>/", views.attachment_download, name="dossier_attachment"),
    path("dossiers/<str:code>/<slug:action>/", views.dossier_action, name="dossier_action"),
]
