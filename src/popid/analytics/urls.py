from django.urls import path

from popid.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.situation, name="situation"),
    path("du-bao/<str:commune>/<str:category>/", views.commune_forecast, name="forecast"),
    path("canh-bao/<int:pk>/xac-nhan/", views.acknowledge, name="acknowledge"),
]
