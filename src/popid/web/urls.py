from django.contrib.auth.views import LogoutView
from django.urls import include, path

from popid.web import views

app_name = "web"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="web:login"), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("danh-muc/", views.portal_menu, name="portal_menu"),
]
