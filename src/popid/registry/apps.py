from importlib import import_module

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "popid.registry"
    label = "registry"
    verbose_name = "Cơ sở dữ liệu quốc gia về dân cư"

    def import_models(self) -> None:
        """The data-quality engine's models (``registry.quality.models``) belong to this app: they
        are registered here, so ``registry.models`` itself never imports ``registry.quality``."""
        super().import_models()
        import_module(f"{self.name}.quality.models")
