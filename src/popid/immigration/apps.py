from django.apps import AppConfig


class ImmigrationConfig(AppConfig):
    name = "popid.immigration"
    label = "immigration"
    verbose_name = "Cơ sở dữ liệu xuất nhập cảnh"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        from popid.immigration.demo import ensure_demo

        return ensure_demo()
