"""The console frame's own pages: staff login (the rest of the frame is ``web.shell``; each app
owns its pages)."""

from __future__ import annotations

from django.contrib.auth.views import LoginView

from popid.web.forms import StaffLoginForm


# --- login -------------------------------------------------------------------------------------
class StaffLoginView(LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True
