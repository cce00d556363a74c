"""The console frame's own pages: staff login (the rest of the frame is ``web.shell``; each app
owns its pages)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView
from django.http import HttpResponse

from popid.core import throttle
from popid.core.net import Client
from popid.web.forms import StaffLoginForm
from popid.web.shell import CitizenRequest, citizen_view, render_citizen_page


# --- login -------------------------------------------------------------------------------------
class StaffLoginView(LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        throttle.remember_device(self.request, response, scope=throttle.CONSOLE_LOGIN,
                                 account=form.cleaned_data.get("username") or "")
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        bits = throttle.pending_challenge_bits(Client.of(self.request), scope=throttle.CONSOLE_LOGIN)
        form.offer_challenge(scope=throttle.CONSOLE_LOGIN, bits=max(bits, form.challenge_bits))
        return context

    def form_invalid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.challenge_bits:
            response.status_code = 429
        return response


# --- the portal's account menu -----------------------------------------------------------------
@citizen_view
def portal_menu(request: CitizenRequest) -> HttpResponse:
    """The fifth entry of the phone's bottom navigation: every account page, grouped, one tap away
    (the top navigation's twelve links do not fit a 390-pixel screen)."""
    return render_citizen_page(request, "web/portal_menu.html", {})
