from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "popid.identity"
    label = "identity"
    verbose_name = "Định danh điện tử"
