"""Web pages of popid.ledger, mounted at /so-cai/."""

from django.urls import path

from popid.ledger import views

app_name = "ledger"
urlpatterns = [
    path("lich-su-truy-cap/", views.history, name="history"),
    path("lich-su-truy-cap/bang-chung.json", views.bundle, name="bundle"),
]
