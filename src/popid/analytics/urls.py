from django.urls import path

from popid.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.situation, name="situation"),
    path("du-bao/<str:commune>/<str:category>/", views.commune_forecast, name="forecast"),
    path("canh-bao/<int:pk>/xac-nhan/", views.acknowledge, name="acknowledge"),
    path("nhan-luc/", views.staffing, name="staffing"),
    path("thong-bao/", views.notices, name="notices"),
    path("thong-bao/<int:pk>/da-doc/", views.notice_read, name="notice_read"),
]
