"""API authentication for citizens: the PopID citizen session (``identity.auth.current_account``),
shared by the dossier API (``services.api``) and the submissions API (``services.citizen_api``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security.session import SessionAuth

from popid.core.permissions import CITIZEN_ROLE, mark_principal
from popid.identity.auth import current_account
from popid.identity.models import CitizenAccount


class CitizenSession(SessionAuth):
    """The PopID citizen session; CSRF-checked by ninja."""

    def authenticate(self, request: HttpRequest, key: str | None) -> CitizenAccount | None:
        account = current_account(request)
        if account is not None:
            mark_principal(request, CITIZEN_ROLE)
        return account


CITIZEN_AUTH = [CitizenSession()]
