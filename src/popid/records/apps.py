from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "popid.records"
    label = "records"
    verbose_name = "Số hoá hồ sơ giấy và tìm kiếm hồ sơ nghiệp vụ"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        from popid.records.demo import ensure_demo_records

        return ensure_demo_records()
