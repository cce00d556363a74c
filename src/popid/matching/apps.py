from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "popid.matching"
    label = "matching"
    verbose_name = "So khớp hồ sơ (entity resolution)"
    default_auto_field = "django.db.models.BigAutoField"
