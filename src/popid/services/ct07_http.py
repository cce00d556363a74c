"""HTTP pieces of the CT07 download shared by the console page (``ct07_views``) and the API
operation (``api``): the verification URL the QR code carries and the PDF response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from popid.identity.oidc.provider import issuer_for
from popid.services.models import Dossier


def verify_url_builder(request: HttpRequest) -> Callable[[str], str]:
    """Absolute verification URLs on the public origin (POPID_OIDC_ISSUER, else the request's)."""
    origin = issuer_for(request)
    return lambda token: origin + reverse("services:ct07_verify", args=[token])


def pdf_response(dossier: Dossier, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="CT07-{dossier.code}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
