from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "popid.ops"
    label = "ops"
    verbose_name = "Vận hành"
