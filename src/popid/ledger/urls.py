"""Web pages of popid.ledger (filled in as the app grows)."""

from django.urls import path  # noqa: F401

app_name = "ledger"
urlpatterns: list = []
