from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "popid.web"
    label = "web"
    verbose_name = "PopID web console"
