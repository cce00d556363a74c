from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "popid.services"
    label = "public_services"
    verbose_name = "Dịch vụ công trực tuyến"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from popid.services.procedures import catalogue

        catalogue()  # validate every definition at startup: a broken file stops the process
