"""Web pages of popid.documents (filled in as the app grows)."""

from django.urls import path  # noqa: F401

app_name = "documents"
urlpatterns: list = []
