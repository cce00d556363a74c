from django.contrib.auth.views import LogoutView
from django.urls import include, path

from popid.web import views

app_name = "web"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="web:login"), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("danh-muc/", views.portal_menu, name="portal_menu"),
    path("manifest.webmanifest", views.web_manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("ngoai-tuyen/", views.offline, name="offline"),
    path("favicon.ico", views.favicon, name="favicon"),
]
