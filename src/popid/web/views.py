"""The console frame's own pages: staff login, the portal's account menu, the installable app's
manifest, service worker and offline page (the rest of the frame is ``web.shell``; each app
owns its pages)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.views import LoginView
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from popid.core import throttle
from popid.core.net import Client
from popid.web import pwa
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


# --- the installable app: manifest, service worker, offline page, favicon (web/pwa.py) ----------
@require_GET
def web_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, in the language the page that links it asks for (``?lang=en``): the
    browser fetches a manifest without cookies, so it cannot know the citizen's language itself."""
    response = HttpResponse(pwa.manifest_json(request.GET.get("lang", "vi")),
                            content_type="application/manifest+json; charset=utf-8")
    patch_cache_control(response, public=True, max_age=3600)
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: at the site root so its scope covers every portal path (the worker itself lets
    officer pages and the API pass untouched). Never cached by HTTP, so an update is seen at once."""
    config_json = json.dumps(pwa.worker_config(), ensure_ascii=False)
    source = render_to_string("web/sw.js", {"config_json": config_json, "version": ""})
    body = render_to_string("web/sw.js", {"config_json": config_json, "version": pwa.worker_version(source)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows when a portal page is neither reachable nor kept. It is
    cached for everyone on the device, so it carries no personal data (no ``citizen`` here)."""
    return render(request, "web/offline.html", {"citizen": None, "offline_page": True, "offline_links": [
        (reverse("wallet:index"), _("Ví giấy tờ")),
        (reverse("ledger:history"), _("Lịch sử truy cập dữ liệu")),
        (reverse("dvc:dossiers"), _("Hồ sơ của tôi và biên nhận")),
        (reverse("notifications:list"), _("Thông báo")),
    ]})


@require_GET
def favicon(request: HttpRequest) -> FileResponse:
    """``/favicon.ico`` (browsers ask for it whatever the page links), drawn by scripts/make_app_icons.py."""
    path = finders.find("web/icons/favicon.ico")
    if not path:
        raise Http404
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115 - FileResponse closes it
    patch_cache_control(response, public=True, max_age=86400)
    return response
