from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "popid.core"
    label = "core"
    verbose_name = "PopID core"
