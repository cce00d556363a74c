"""CT07 pages: the officer's download in the console (jurisdiction-checked like the dossier page)
and the public verification page the QR code points to (no login: whoever holds the paper may
check it; it shows only the summary printed on the paper, with the ID number masked)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from popid.core.access import AccessContext
from popid.core.permissions import Permission, requires
from popid.services import ct07
from popid.services.ct07_http import pdf_response, verify_url_builder
from popid.services.selectors import access_dossier_for_officer
from popid.web.shell import ConsoleRequest, officer_view

PURPOSE = "Cấp giấy xác nhận thông tin về cư trú (CT07)"


@officer_view
@requires(Permission.DOSSIER_READ)
@require_GET
def officer_pdf(request: ConsoleRequest, code: str) -> HttpResponse:
    ctx = AccessContext(actor=request.actor, purpose=PURPOSE, legal_basis="Luật Cư trú 2020; Thông tư 66/2023/TT-BCA",
                        channel="console")
    dossier = access_dossier_for_officer(ctx=ctx, code=code)  # another unit's dossier is a 404
    return pdf_response(dossier, ct07.pdf_for(dossier, ctx=ctx, verify_url_for=verify_url_builder(request)))


class TokenForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("Mã xác minh trên giấy xác nhận"), max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}))


@require_GET
def verify_page(request: HttpRequest, token: str = "") -> HttpResponse:
    form = TokenForm(request.GET or None)
    if not token and form.is_valid():
        token = form.cleaned_data["token"]
    result = ct07.verify(token) if token else None
    status = 422 if result is not None and result.status == "invalid" else 200
    return render(request, "services/ct07_verify.html", {"result": result, "form": TokenForm()}, status=status)


@require_GET
def certificate(request: HttpRequest) -> HttpResponse:
    """The certificate that signs CT07 PDFs, for verifiers to trust in their PDF reader."""
    from popid.services.ct07_signing import certificate_pem

    response = HttpResponse(certificate_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="popid-ct07.pem"'
    return response
