"""Pages of popid.exchange under /chia-se/: the citizen's consents and the administrators'
console for agencies and webhook dead letters."""

from django.urls import path

from popid.exchange import views

app_name = "exchange"
urlpatterns = [
    path("dong-y/", views.citizen_consents, name="citizen_consents"),
    path("quan-tri/", views.agency_list, name="agency_list"),
    path("quan-tri/co-quan/<slug:code>/", views.agency_detail, name="agency_detail"),
    path("quan-tri/thu-loi/", views.dead_letters, name="dead_letters"),
    path("quan-tri/thu-loi/<int:delivery_id>/gui-lai/", views.replay, name="replay"),
]
