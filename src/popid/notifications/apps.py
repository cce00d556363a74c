from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "popid.notifications"
    label = "notifications"
    verbose_name = "Thông báo cho công dân"
    default_auto_field = "django.db.models.BigAutoField"
