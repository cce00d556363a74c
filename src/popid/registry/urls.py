"""Registry console pages, mounted at the site root by ``popid.urls`` (paths unchanged)."""

from django.urls import path

from popid.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("lookup/", views.lookup, name="lookup"),
    path("persons/<str:id_number>/", views.person, name="person"),
    path("persons/<str:id_number>/<slug:command>/", views.person_command, name="person_command"),
    path("births/new/", views.register_birth, name="register_birth"),
    path("households/<str:code>/", views.household, name="household"),
    path("households/<str:code>/split/", views.split_household, name="split_household"),
    path("quality/", views.quality, name="quality"),
    path("quality/run/", views.quality_run, name="quality_run"),
]
