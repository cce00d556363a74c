"""Reads for the provider and the citizen's account pages."""

from __future__ import annotations

from django.db.models import QuerySet

from popid.identity.models import CitizenAccount
from popid.identity.oidc.models import Consent, RelyingParty


def consents_for(account: CitizenAccount) -> QuerySet[Consent]:
    """The citizen's open consents, newest first, with the client for display
    (public function for the account pages)."""
    return (Consent.objects.select_related("client").filter(account=account, revoked_at__isnull=True)
            .order_by("-updated_at"))


def open_consent(*, account: CitizenAccount, client: RelyingParty) -> Consent | None:
    return Consent.objects.filter(account=account, client=client, revoked_at__isnull=True).first()


def consent_covers(*, account: CitizenAccount, client: RelyingParty, scopes: list[str]) -> bool:
    consent = open_consent(account=account, client=client)
    return consent is not None and set(scopes) <= set(consent.scopes)


def relying_parties() -> QuerySet[RelyingParty]:
    return RelyingParty.objects.order_by("-is_active", "name")
