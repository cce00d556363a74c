from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "popid.wallet"
    label = "wallet"
    verbose_name = "Ví giấy tờ số (SD-JWT VC)"
    default_auto_field = "django.db.models.BigAutoField"
