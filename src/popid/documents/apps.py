from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "popid.documents"
    label = "documents"
    verbose_name = "Giấy tờ: giấy phép lái xe, đăng ký xe, thẻ BHYT"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        """Licences, vehicles and health cards for the seeded population and the demo citizens."""
        import json

        from popid.core.demo_accounts import accounts_file
        from popid.documents.demo import seed_documents
        from popid.documents.models import DrivingLicence

        try:
            accounts = json.loads(accounts_file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            accounts = []
        citizens = [a["username"] for a in accounts if a.get("role") == "citizen"]
        counts = seed_documents(demo_id_numbers=citizens)
        lines = [f"  Thêm mới: {counts['licences']} giấy phép lái xe, {counts['vehicles']} đăng ký xe, "
                 f"{counts['health_cards']} thẻ BHYT. Quản lý tại /giay-to/, xác minh tại /giay-to/xac-minh/"]
        for licence in DrivingLicence.objects.filter(person__id_number__in=citizens).select_related("person"):
            lines.append(f"  {licence.person.full_name} ({licence.person.id_number}): GPLX {licence.number}, "
                         f"hạng {', '.join(licence.class_codes)}")
        return lines
