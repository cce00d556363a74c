"""Pages of popid.notifications, mounted at /thong-bao/."""

from django.urls import path

from popid.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/", views.open_notification, name="open"),
]
