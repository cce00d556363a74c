from django.urls import path

from popid.demo_rp import views

app_name = "demo_rp"
urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("callback", views.callback, name="callback"),
    path("logout", views.logout, name="logout"),
]
