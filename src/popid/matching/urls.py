"""Clerical review pages of popid.matching (officer console)."""

from django.urls import path

from popid.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("cap/<int:pair_id>/", views.pair_detail, name="pair"),
    path("cap/<int:pair_id>/quyet-dinh/", views.decide, name="decide"),
]
