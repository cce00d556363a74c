from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "popid.analytics"
    label = "analytics"
    verbose_name = "Phân tích, dự báo tình hình"
    default_auto_field = "django.db.models.BigAutoField"
