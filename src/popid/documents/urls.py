"""Web pages of popid.documents: the officer console for licences and the public verifier."""

from django.urls import path

from popid.documents import views
from popid.wallet import verifier_views

app_name = "documents"
urlpatterns = [
    path("", views.licence_list, name="licence_list"),
    path("cong-dan/<str:id_number>/", views.person_documents, name="person_documents"),
    path("gplx/<str:number>/", views.licence_detail, name="licence_detail"),
    path("gplx/<str:number>/<slug:action>/", views.licence_action, name="licence_action"),
    path("xac-minh/", verifier_views.verifier, name="verifier"),
    path("xac-minh/<str:session_id>/", verifier_views.verifier_session, name="verifier_session"),
    path("xac-minh-the-can-cuoc/", verifier_views.chip_card, name="chip_card"),
]
