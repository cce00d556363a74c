"""Citizen portal for online public services, mounted at /dich-vu-cong/ (Vietnamese slugs)."""

from django.urls import path

from popid.services import citizen_views as views
from popid.services.payments import sandbox_views

app_name = "dvc"
urlpatterns = [
    path("", views.procedures, name="procedures"),
    path("thu-tuc/<slug:code>/", views.procedure_form, name="procedure"),
    path("cho-nop/<str:public_id>/", views.submission_page, name="submission"),
    path("thanh-toan/<str:order_id>/ket-qua/", views.payment_return, name="payment_return"),
    path("ho-so/", views.dossiers, name="dossiers"),
    path("ho-so/<str:code>/", views.dossier_detail, name="dossier"),
    path("ho-so/<str:code>/bien-nhan/", views.receipt, name="receipt"),
    path("ho-so/<str:code>/huy/", views.dossier_cancel, name="cancel"),
    path("ho-so/<str:code>/bo-sung/", views.dossier_supplement, name="supplement"),
    path("ho-so/<str:code>/tep/<int:pk>/", views.attachment_download, name="attachment"),
    path("thong-bao/", views.inbox, name="inbox"),
    path("ngan-hang-thu-nghiem/<str:order_id>/", sandbox_views.bank_page, name="sandbox_bank"),
]
