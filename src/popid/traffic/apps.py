from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "popid.traffic"
    label = "traffic"
    verbose_name = "Xử phạt vi phạm giao thông (phạt nguội)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from popid.traffic.catalogue import catalogue

        catalogue()  # a broken violations.yaml fails at startup, naming the entry and the key

    def seed_demo(self) -> list[str]:
        from popid.traffic.demo import seed_demo

        return seed_demo()
