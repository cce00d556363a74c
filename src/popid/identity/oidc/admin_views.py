"""Officer-console pages for relying parties: list, register, disable. Administrators only;
other staff get the console's translated refusal and nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.identity.oidc import selectors, services
from popid.identity.oidc.models import AuthMethod, SigningAlg
from popid.web.shell import apply_domain_error, officer_view


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Administrators' pages: the console frame plus the declared permission."""
    return officer_view(requires(Permission.OIDC_ADMIN)(view))


class ClientForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Tên dịch vụ"), max_length=200)
    redirect_uris = forms.CharField(label=gettext_lazy("Địa chỉ chuyển hướng (mỗi dòng một địa chỉ)"),
                                    widget=forms.Textarea(attrs={"rows": 3}))
    post_logout_redirect_uris = forms.CharField(
        label=gettext_lazy("Địa chỉ sau khi đăng xuất (mỗi dòng một địa chỉ)"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}))
    token_endpoint_auth_method = forms.ChoiceField(label=gettext_lazy("Cách xác thực dịch vụ"),
                                                   choices=AuthMethod.choices)
    jwks = forms.CharField(label=gettext_lazy("JWKS công khai (cho private_key_jwt)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))
    sector_identifier = forms.CharField(label=gettext_lazy("Định danh nhóm dịch vụ (sector)"), required=False)
    id_token_signed_response_alg = forms.ChoiceField(label=gettext_lazy("Thuật toán ký ID token"),
                                                     choices=SigningAlg.choices)
    require_pushed_authorization_requests = forms.BooleanField(
        label=gettext_lazy("Bắt buộc gửi yêu cầu trước (PAR)"), required=False)

    def clean_jwks(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("jwks", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("JWKS không phải JSON hợp lệ")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("JWKS không phải JSON hợp lệ"))
        return value


@admin_only
def client_list(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/oidc/client_list.html", {"clients": selectors.relying_parties()})


@admin_only
def client_register(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, secret = services.register_client(
                name=data["name"], redirect_uris=data["redirect_uris"].split(),
                post_logout_redirect_uris=data["post_logout_redirect_uris"].split(),
                token_endpoint_auth_method=data["token_endpoint_auth_method"], jwks=data["jwks"],
                sector_identifier=data["sector_identifier"],
                id_token_signed_response_alg=data["id_token_signed_response_alg"],
                require_pushed_authorization_requests=data["require_pushed_authorization_requests"],
                created_by=request.user.get_username())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return render(request, "identity/oidc/client_registered.html", {"client": client, "secret": secret})
    return render(request, "identity/oidc/client_form.html", {"form": form}, status=422 if form.is_bound else 200)


@admin_only
@require_POST
def client_disable(request: HttpRequest, client_id: str) -> HttpResponse:
    services.disable_client(client_id=client_id, by=request.user.get_username())
    return redirect("oidc:client_list")
