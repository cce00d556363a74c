from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks


def check_trusted_issuers(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every entry of POPID_TRUSTED_VC_ISSUERS must be an https issuer identifier."""
    from popid.wallet.trusted import SETTING, check_configuration

    return [checks.Error(f"{SETTING}: {entry!r} is not an https URL without query or fragment "
                         "(http only for a loopback host)", id="wallet.E001")
            for entry in check_configuration()]


class WalletConfig(AppConfig):
    name = "popid.wallet"
    label = "wallet"
    verbose_name = "Ví giấy tờ số (SD-JWT VC)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_trusted_issuers)

    def seed_demo(self) -> list[str]:
        """Creates each issuing authority's signing keys (idempotent) and prints where things are."""
        from popid.wallet.issuers import ISSUERS, issuer_base

        base = issuer_base()
        lines = []
        for issuer in ISSUERS.values():
            kid = issuer.jwks()["keys"][0]["kid"] if issuer.jwks()["keys"] else "?"
            lines.append(f"  {issuer.name}: {issuer.iss(base)} (khóa {kid}; iss theo địa chỉ máy chủ, "
                         f"cố định bằng POPID_WALLET_ISSUER_BASE)")
        lines += ["  Ví giấy tờ của công dân mức độ 2: /vi-giay-to/ (đăng nhập + mã bảo vệ)",
                  "  Trang xác minh: /giay-to/xac-minh/ · ngoại tuyến: popid verify --refresh-cache; popid verify <mã>"]
        return lines
