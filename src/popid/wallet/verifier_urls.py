"""The public verifier pages (wallet.verifier_views). Included by ``documents/urls.py`` under
/giay-to/ so their paths and names (``documents:verifier`` …) stay as published."""

from django.urls import path

from popid.wallet import verifier_views

urlpatterns = [
    path("xac-minh/", verifier_views.verifier, name="verifier"),
    path("xac-minh/<str:session_id>/", verifier_views.verifier_session, name="verifier_session"),
    path("xac-minh-the-can-cuoc/", verifier_views.chip_card, name="chip_card"),
]
