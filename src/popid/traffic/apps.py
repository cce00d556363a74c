from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "popid.traffic"
    label = "traffic"
    verbose_name = "Xử phạt vi phạm giao thông (phạt nguội)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from popid.traffic.catalogue import catalogue

        catalogue()  # a broken violations.yaml fails at startup, naming the entry and the key

        from popid.documents.services import register_vehicle_hold
        from popid.traffic.services import overdue_fine_holds

        register_vehicle_hold(overdue_fine_holds)  # an overdue fine holds registration changes

        from popid.services.models import PaymentPurpose
        from popid.services.payments.ledger import register_purpose
        from popid.traffic.services import on_fine_notice

        register_purpose(PaymentPurpose.TRAFFIC_FINE, on_fine_notice)  # fines are paid through the shared ledger

    def seed_demo(self) -> list[str]:
        from popid.traffic.demo import seed_demo

        return seed_demo()
