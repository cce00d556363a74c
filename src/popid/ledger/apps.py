from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "popid.ledger"
    label = "ledger"
    verbose_name = "Sổ cái truy cập (Merkle)"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        """Commit every access record the earlier demos left (this app is last in INSTALLED_APPS)
        and sign a checkpoint; idempotent (nothing pending → nothing added, same size → no new
        checkpoint)."""
        from popid.ledger import services

        result = services.integrate(checkpoint=False)
        services.create_checkpoint()
        latest = services.latest_checkpoint()
        size = latest.size if latest else 0
        return [
            f"  {result.added} bản ghi truy cập mới được cam kết; sổ cái có {result.size} mục, "
            f"điểm kiểm tra đã ký kích thước {size}.",
            "  Công dân xem và tự kiểm chứng tại /so-cai/lich-su-truy-cap/ (đăng nhập tài khoản công dân mẫu).",
            "  Kiểm tra toàn bộ sổ cái: popid ledger verify",
        ]
