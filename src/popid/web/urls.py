from django.contrib.auth.views import LogoutView
from django.urls import include, path

from popid.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="web:login"), name="logout"),
    path("search/", views.search, name="search"),
    path("lookup/", views.lookup, name="lookup"),
    path("persons/<str:id_number>/", views.person, name="person"),
    path("persons/<str:id_number>/<slug:command>/", views.person_command, name="person_command"),
    path("births/new/", views.register_birth, name="register_birth"),
    path("households/<str:code>/", views.household, name="household"),
    path("households/<str:code>/split/", views.split_household, name="split_household"),
    path("quality/", views.quality, name="quality"),
    path("quality/run/", views.quality_run, name="quality_run"),
    path("services/", include("popid.services.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
