"""Web pages of popid.exchange (filled in as the app grows)."""

from django.urls import path  # noqa: F401

app_name = "exchange"
urlpatterns: list = []
