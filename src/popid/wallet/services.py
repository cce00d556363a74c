"""The built-in web wallet: add a document (through the same issuance code as OpenID4VCI), list,
remove, and make a key-bound presentation of chosen claims for a verifier's nonce."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core.access import AccessContext
from popid.identity.auth import citizen_actor
from popid.identity.models import CitizenAccount
from popid.wallet import sdjwt
from popid.wallet.errors import DocumentUnavailable, WalletLevelRequired
from popid.wallet.holder import holder_key
from popid.wallet.issuance import issue_credential, public_holder_jwk
from popid.wallet.models import WalletCredential

PURPOSE_ISSUE = "Cấp giấy tờ số vào ví giấy tờ của công dân"
MAX_CLAIMS = 30


def wallet_context(account: CitizenAccount, channel: str = "wallet") -> AccessContext:
    return AccessContext(actor=citizen_actor(account), purpose=PURPOSE_ISSUE, channel=channel,
                         legal_basis="Nghị định 69/2024/NĐ-CP; Luật Căn cước 2023")


def require_level2(account: CitizenAccount) -> None:
    if not account.is_level2 or not account.is_active:
        raise WalletLevelRequired()


@transaction.atomic
def add_to_wallet(*, account: CitizenAccount, config_id: str, document_ref: str, base: str,
                  browser_jwk: dict[str, Any] | None = None) -> WalletCredential:
    """Issue the document to the account's server-held key, or to the browser's WebCrypto key when
    ``browser_jwk`` is given; an older copy of the same document is replaced."""
    require_level2(account)
    key_row = None
    if browser_jwk is not None:
        holder_jwk = public_holder_jwk(browser_jwk)
    else:
        key_row, _key = holder_key(account)
        holder_jwk = key_row.public_jwk
    token, record = issue_credential(ctx=wallet_context(account), person=account.person, config_id=config_id,
                                     document_ref=document_ref, holder_jwk=holder_jwk, base=base,
                                     channel="web_wallet")
    WalletCredential.objects.filter(account=account, config_id=config_id, issued__document_ref=record.document_ref,
                                    removed_at__isnull=True).update(removed_at=timezone.now())
    return WalletCredential.objects.create(account=account, issued=record, holder_key=key_row, config_id=config_id,
                                           sd_jwt=token, browser_jwk=holder_jwk if key_row is None else None)


def wallet_credentials(account: CitizenAccount) -> list[WalletCredential]:
    return list(WalletCredential.objects.filter(account=account, removed_at__isnull=True)
                .select_related("issued").order_by("config_id", "-added_at"))


def get_credential(account: CitizenAccount, pk: int) -> WalletCredential:
    credential = WalletCredential.objects.filter(account=account, pk=pk, removed_at__isnull=True).select_related(
        "issued", "holder_key").first()
    if credential is None:
        raise DocumentUnavailable(_("Không tìm thấy giấy tờ trong ví"), field="credential")
    return credential


def remove_from_wallet(*, account: CitizenAccount, pk: int) -> None:
    credential = get_credential(account, pk)
    credential.removed_at = timezone.now()
    credential.save(update_fields=["removed_at"])


def present(*, account: CitizenAccount, pk: int, claims: list[str], nonce: str, audience: str) -> str:
    """A presentation of exactly ``claims`` bound to the verifier's nonce and audience."""
    credential = _checked(account, pk, claims, nonce, audience)
    if credential.holder_key_id is None:
        raise DocumentUnavailable(_("Giấy tờ này gắn với khóa trên trình duyệt"), field="credential")
    _row, key = holder_key(account)
    if _row.pk != credential.holder_key_id:
        raise DocumentUnavailable(_("Giấy tờ này được cấp cho khóa cũ, hãy thêm lại vào ví"), field="credential")
    try:
        return sdjwt.present(credential.sd_jwt, claims=claims, holder_key=key, nonce=nonce, aud=audience)
    except sdjwt.Refused as exc:
        raise DocumentUnavailable(_("Giấy tờ không có thông tin: %(c)s") % {"c": exc.detail}, field="claims") from exc


def _checked(account: CitizenAccount, pk: int, claims: list[str], nonce: str, audience: str) -> WalletCredential:
    require_level2(account)
    credential = get_credential(account, pk)
    if not claims or len(claims) > MAX_CLAIMS:
        raise DocumentUnavailable(_("Chọn ít nhất một thông tin để chia sẻ"), field="claims")
    if not nonce or not audience:
        raise DocumentUnavailable(_("Cần mã phiên xác minh của bên xác minh"), field="session")
    return credential


def prepare_browser_presentation(*, account: CitizenAccount, pk: int, claims: list[str], nonce: str,
                                 audience: str) -> tuple[str, str]:
    """For a browser-held key: the presentation prefix and the KB-JWT signing input the browser signs."""
    credential = _checked(account, pk, claims, nonce, audience)
    if credential.browser_jwk is None:
        raise DocumentUnavailable(_("Giấy tờ này dùng khóa lưu trên máy chủ"), field="credential")
    try:
        prefix = sdjwt.select(credential.sd_jwt, claims=claims)
    except sdjwt.Refused as exc:
        raise DocumentUnavailable(_("Giấy tờ không có thông tin: %(c)s") % {"c": exc.detail}, field="claims") from exc
    return prefix, sdjwt.kb_signing_input(prefix, nonce=nonce, aud=audience)


def finish_browser_presentation(*, account: CitizenAccount, pk: int, prefix: str, signing_input: str,
                                signature: str) -> str:
    """Append the browser's signature; refuse it unless it verifies with the credential's key."""
    from joserfc import jws
    from joserfc.errors import JoseError

    credential = get_credential(account, pk)
    kb = f"{signing_input}.{signature}"
    try:
        jws.deserialize_compact(kb, sdjwt.import_key(credential.browser_jwk or {}), algorithms=["ES256"])
    except (JoseError, ValueError, sdjwt.Refused) as exc:
        raise DocumentUnavailable(_("Chữ ký của thiết bị không khớp với khóa của giấy tờ (giấy tờ được thêm trên "
                                    "thiết bị khác?)"), field="credential") from exc
    return prefix + kb


def credential_claims(credential: WalletCredential) -> dict[str, object]:
    """The claims the holder can choose from (their own credential, decoded locally)."""
    return {name: value for name, (_d, value) in sdjwt.parse(credential.sd_jwt).disclosed().items()}
