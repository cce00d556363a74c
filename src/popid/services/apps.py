from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "popid.services"
    label = "public_services"
    verbose_name = "Dịch vụ công trực tuyến"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self) -> list[str]:
        """Where the citizen portal is; the demo dossiers themselves are printed by services/demo.py."""
        from popid.services.payments.base import gateway_name

        return [f"  Cổng dịch vụ công cho công dân: /dich-vu-cong/ (lệ phí trực tuyến qua cổng thanh toán "
                f"'{gateway_name()}'; đối soát: popid services reconcile)"]

    def ready(self) -> None:
        from popid.services.procedures import catalogue

        catalogue()  # validate every definition at startup: a broken file stops the process

        from popid.services.models import PaymentPurpose
        from popid.services.payments.ledger import register_purpose
        from popid.services.submissions import on_fee_notice

        register_purpose(PaymentPurpose.DOSSIER_FEE, on_fee_notice)
