"""Scopes → claims, read from the registry through its selectors so every release to a relying
party leaves an access record (actor = the citizen, purpose "Đăng nhập dịch vụ <client>",
channel "oidc"). Names and dates are never copied into the identity tables."""

from __future__ import annotations

from typing import Any

from popid.core import admin_units
from popid.core.access import AccessContext, Actor
from popid.identity.models import CitizenAccount
from popid.identity.oidc.models import RelyingParty
from popid.registry.models import DatePrecision, Person
from popid.registry.selectors import access_loaded_person, current_permanent_residence

SCOPES = ("openid", "profile", "popid.id_number", "address", "phone", "email")
SCOPE_CLAIMS: dict[str, list[str]] = {
    "openid": ["sub"],
    "profile": ["name", "family_name", "given_name", "middle_name", "birthdate", "gender", "acr"],
    "popid.id_number": ["id_number"],
    "address": ["address"],
    "phone": ["phone_number", "phone_number_verified"],
    "email": ["email", "email_verified"],
}
CLAIMS_SUPPORTED = sorted({c for claims in SCOPE_CLAIMS.values() for c in claims} | {"act", "auth_time", "amr"})
# Which registry fields each scope reads, for the access record.
SCOPE_FIELDS = {"profile": ["full_name", "birth_date", "sex"], "popid.id_number": ["id_number"],
                "address": ["permanent_residence"]}


def subject_actor(account: CitizenAccount) -> Actor:
    """The citizen as the actor of a read of their own record, and of nothing else: claims are
    always about the token's subject, so the wards a full citizen actor carries (one more query on
    every userinfo and token answer, issue #18) would never be used."""
    return Actor.citizen(id_number=account.id_number, person_id=account.person_id, user_id=account.user_id)


def _birthdate(person: Person) -> str | None:
    """OIDC allows YYYY-MM-DD or just YYYY; a month-precision record is released as its year."""
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.DAY:
        return person.birth_date.isoformat()
    return f"{person.birth_year:04d}" if person.birth_year else None


def _names(full_name: str) -> dict[str, str]:
    """Vietnamese order: family name first, given name last, middle names between."""
    parts = full_name.split()
    names = {"name": full_name}
    if len(parts) >= 2:
        names["family_name"] = parts[0]
        names["given_name"] = parts[-1]
        if len(parts) > 2:
            names["middle_name"] = " ".join(parts[1:-1])
    return names


def _address(person: Person) -> dict[str, str] | None:
    residence = current_permanent_residence(person)
    if residence is None:
        return None
    commune = admin_units.commune(residence.commune_code)
    province = admin_units.province(residence.province_code or (commune.province_code if commune else "") or "")
    locality = commune.name if commune else residence.commune_code
    lines = [p for p in (residence.address, locality, province.name if province else "") if p]
    return {"formatted": ", ".join(lines), "street_address": residence.address, "locality": locality,
            "region": province.name if province else "", "country": "VN"}


def release_claims(*, account: CitizenAccount, client: RelyingParty, scopes: list[str], acr: str,
                   consent_ref: str = "") -> dict[str, Any]:
    """Claims for ``scopes`` about ``account`` (the subject; a ward when a guardian acts).
    Reads the registry only when a scope needs registry data, and records that read."""
    claims: dict[str, Any] = {}
    fields = sorted({f for scope in scopes for f in SCOPE_FIELDS.get(scope, [])})
    if fields:
        ctx = AccessContext(actor=subject_actor(account), purpose=f"Đăng nhập dịch vụ {client.name}"[:200],
                            legal_basis="Sự đồng ý của công dân (Nghị định 13/2023/NĐ-CP)",
                            consent_ref=consent_ref[:100], channel="oidc",
                            extra={"client_id": client.client_id})
        person = access_loaded_person(ctx=ctx, person=account.person, fields=fields)
        if "profile" in scopes:
            claims.update(_names(person.full_name))
            if birthdate := _birthdate(person):
                claims["birthdate"] = birthdate
            claims["gender"] = {"M": "male", "F": "female"}.get(person.sex, "other")
            claims["acr"] = acr
        if "popid.id_number" in scopes:
            claims["id_number"] = person.id_number
        if "address" in scopes and (address := _address(person)):
            claims["address"] = address
    if "phone" in scopes and account.phone:
        claims["phone_number"] = account.phone
        claims["phone_number_verified"] = account.phone_verified_at is not None
    if "email" in scopes and account.email:
        claims["email"] = account.email
        claims["email_verified"] = False  # e-mail is optional and not confirmed at registration
    return claims
