from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "popid.ledger"
    label = "ledger"
    verbose_name = "Sổ cái truy cập (Merkle)"
    default_auto_field = "django.db.models.BigAutoField"
