from django.apps import AppConfig


class PoliceConfig(AppConfig):
    name = "popid.police"
    label = "police"
    verbose_name = "Nghiệp vụ công an: tố giác, tin báo và hồ sơ vụ việc"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        from popid.police.demo import ensure_demo_police

        return ensure_demo_police()

    def ready(self) -> None:
        from popid.police.catalogue import categories, outcomes

        categories()  # a broken catalogue file stops the process at startup
        outcomes()
