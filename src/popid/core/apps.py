from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "popid.core"
    label = "core"
    verbose_name = "PopID core"

    def ready(self) -> None:
        # Every app's ``tasks`` module declares its background tasks, outbox consumers and periodic
        # jobs; importing them here registers them in every process (web, worker, scheduler).
        from django.utils.module_loading import autodiscover_modules

        from popid.core import checks, tasks, throttle  # noqa: F401 - checks, throttle register deploy checks

        tasks.connect_signals()
        autodiscover_modules("tasks")
