from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "popid.core"
    label = "core"
    verbose_name = "PopID core"

    def ready(self) -> None:
        from popid.core import throttle  # noqa: F401 - registers the deploy check popid.E101
