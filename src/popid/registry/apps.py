from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "popid.registry"
    label = "registry"
    verbose_name = "Cơ sở dữ liệu quốc gia về dân cư"
