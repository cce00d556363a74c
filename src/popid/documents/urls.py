"""Web pages of popid.documents: the officer console for licences and the public verifier."""

from django.urls import include, path

from popid.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.licence_list, name="licence_list"),
    path("cong-dan/<str:id_number>/", views.person_documents, name="person_documents"),
    path("gplx/<str:number>/", views.licence_detail, name="licence_detail"),
    path("xe/<str:plate>/", views.vehicle_detail, name="vehicle_detail"),
    path("xe/<str:plate>/doi-dang-ky/", views.vehicle_change, name="vehicle_change"),
    path("gplx/<str:number>/<slug:action>/", views.licence_action, name="licence_action"),
    path("", include("popid.wallet.verifier_urls")),  # the wallet app's public verifier, same names
]
