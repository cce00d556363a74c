from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "popid.exchange"
    label = "exchange"
    verbose_name = "Chia sẻ dữ liệu với cơ quan, tổ chức"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from popid.exchange.tokens import AgencyTokenIssuer
        from popid.identity.oidc.provider import register_service_token_issuer

        register_service_token_issuer(AgencyTokenIssuer())

    def seed_demo(self) -> list[str]:
        from popid.exchange.demo import ensure_demo

        return ensure_demo()
