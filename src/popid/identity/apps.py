from importlib import import_module

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "popid.identity"
    label = "identity"
    verbose_name = "Định danh điện tử"

    def import_models(self) -> None:
        """The OpenID Connect provider's models (``identity.oidc.models``) belong to this app: they
        are registered here, so ``identity.models`` itself never imports ``identity.oidc``."""
        super().import_models()
        import_module(f"{self.name}.oidc.models")
