"""Web pages of popid.wallet (filled in as the app grows)."""

from django.urls import path  # noqa: F401

app_name = "wallet"
urlpatterns: list = []
