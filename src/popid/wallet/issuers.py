"""The issuing authorities and the credential types they sign.

Each authority has its own keyset in the key store (``core.keys``), its own ``iss`` URL, SD-JWT VC
issuer metadata (``/.well-known/jwt-vc-issuer/<iss path>``), JWKS and status list. The ``iss``
origin is ``POPID_WALLET_ISSUER_BASE`` in production (https), the request's origin otherwise
(development and tests, like the OIDC issuer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from popid.core import keys

ISSUER_PATH = "/vi-giay-to/to-chuc/"
ALG = "ES256"


@dataclass(frozen=True)
class Issuer:
    slug: str
    keyset: str
    name: str

    def iss(self, base: str) -> str:
        return f"{base}{ISSUER_PATH}{self.slug}"

    def status_uri(self, base: str, list_id: int) -> str:
        return f"{self.iss(base)}/trang-thai/{list_id}"

    def signing_key(self) -> keys.StoredKey:
        return keys.current_signing_key(ALG, keyset=self.keyset)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return keys.public_jwks(self.keyset, algs=(ALG,))


@dataclass(frozen=True)
class CredentialType:
    config_id: str
    vct: str
    issuer: str
    name: object
    lifetime_days: int


ISSUERS = {
    "c06": Issuer("c06", "issuer-idcard", "Cục Cảnh sát quản lý hành chính về trật tự xã hội (C06), Bộ Công an"),
    "c08": Issuer("c08", "issuer-traffic", "Cục Cảnh sát giao thông (C08), Bộ Công an"),
    "bhxh": Issuer("bhxh", "issuer-health", "Bảo hiểm xã hội Việt Nam"),
    "a08": Issuer("a08", "issuer-immigration", "Cục Quản lý xuất nhập cảnh (A08), Bộ Công an"),
}

CREDENTIAL_TYPES = {
    "can_cuoc": CredentialType("can_cuoc", "urn:vn:popid:can-cuoc:1", "c06", _("Thẻ căn cước điện tử"), 365),
    "giay_phep_lai_xe": CredentialType("giay_phep_lai_xe", "urn:vn:popid:giay-phep-lai-xe:1", "c08",
                                       _("Giấy phép lái xe"), 365),
    "dang_ky_xe": CredentialType("dang_ky_xe", "urn:vn:popid:dang-ky-xe:1", "c08", _("Chứng nhận đăng ký xe"), 365),
    "the_bhyt": CredentialType("the_bhyt", "urn:vn:popid:the-bhyt:1", "bhxh", _("Thẻ bảo hiểm y tế"), 365),
    "ho_chieu": CredentialType("ho_chieu", "urn:vn:popid:ho-chieu:1", "a08", _("Hộ chiếu phổ thông"), 365),
}
VCT_TO_TYPE = {t.vct: t for t in CREDENTIAL_TYPES.values()}

# Claim labels shown by the wallet and the verifier (Vietnamese first).
CLAIM_LABELS = {
    "full_name": _("Họ và tên"), "birth_date": _("Ngày sinh"), "sex": _("Giới tính"),
    "id_number": _("Số định danh cá nhân"), "nationality": _("Quốc tịch"), "hometown": _("Quê quán"),
    "permanent_address": _("Nơi thường trú"), "card_number": _("Số thẻ"), "card_issued_on": _("Ngày cấp thẻ"),
    "card_valid_until": _("Thẻ có giá trị đến"), "age_over_14": _("Trên 14 tuổi"), "age_over_16": _("Trên 16 tuổi"),
    "age_over_18": _("Trên 18 tuổi"), "age_over_21": _("Trên 21 tuổi"), "age_over_65": _("Trên 65 tuổi"),
    "licence_number": _("Số giấy phép lái xe"), "driving_classes": _("Hạng giấy phép lái xe"),
    "licence_issued_on": _("Ngày cấp giấy phép"), "licence_valid_until": _("Giấy phép có giá trị đến"),
    "licence_points": _("Điểm giấy phép lái xe"), "plate": _("Biển số"), "vehicle_type": _("Loại xe"),
    "brand": _("Nhãn hiệu"), "model": _("Số loại"), "colour": _("Màu sơn"), "chassis_number": _("Số khung"),
    "engine_number": _("Số máy"), "owner_name": _("Chủ xe"), "owner_id_number": _("Số định danh chủ xe"),
    "registered_on": _("Ngày đăng ký"), "insurance_number": _("Mã số bảo hiểm xã hội"),
    "benefit_level": _("Mức hưởng"), "initial_clinic": _("Nơi đăng ký khám chữa bệnh ban đầu"),
    "valid_from": _("Giá trị từ ngày"), "valid_until": _("Giá trị đến ngày"),
    "passport_number": _("Số hộ chiếu"), "passport_type": _("Loại hộ chiếu"),
    "passport_issued_on": _("Ngày cấp hộ chiếu"), "passport_valid_until": _("Hộ chiếu có giá trị đến"),
    "passport_authority": _("Cơ quan cấp hộ chiếu"),
}


def issuer_base(request: HttpRequest | None = None) -> str:
    configured = os.environ.get("POPID_WALLET_ISSUER_BASE", "").rstrip("/")
    if configured or request is None:
        return configured or settings.BASE_URL  # what `make run` serves (POPID_BASE_URL)
    return f"{request.scheme}://{request.get_host()}"


def issuer_for_iss(iss: str, base: str) -> Issuer | None:
    """The trusted issuer with this exact ``iss`` under ``base``; None for anything else."""
    prefix = f"{base}{ISSUER_PATH}"
    if not iss.startswith(prefix):
        return None
    return ISSUERS.get(iss[len(prefix):])
