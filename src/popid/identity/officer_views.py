"""Officer console actions on a citizen's identity account: level-2 activation after checking
the card in person, and lock/unlock with a reason. Same guard as every console page
(``web.shell.officer_view``): staff login, jurisdiction checked by the selectors/services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.identity import selectors, services
from popid.identity.forms import Level2Form, OfficerReasonForm
from popid.web.shell import ConsoleRequest, apply_domain_error, console_context, officer_view

ACTIONS: dict[str, type[forms.Form]] = {"level2": Level2Form, "lock": OfficerReasonForm, "unlock": OfficerReasonForm}


@officer_view
@requires(Permission.REGISTRY_READ)
@require_http_methods(["GET", "POST"])
def officer_account(request: ConsoleRequest, id_number: str, action: str = "") -> HttpResponse:
    if action and action not in ACTIONS:
        raise Http404
    person, account = selectors.account_for_officer(ctx=console_context(request), id_number=id_number)
    bound: dict[str, forms.Form] = {}
    status = 200
    if request.method == "POST":
        if not action or account is None:
            raise Http404
        form = ACTIONS[action](request.POST)
        bound[action] = form
        status = 422
        if form.is_valid():
            try:
                if action == "level2":
                    services.activate_level2(actor=request.actor, account_id=account.pk,
                                             card_number=form.cleaned_data["card_number"])
                    messages.success(request, _("Đã kích hoạt tài khoản định danh điện tử mức độ 2"))
                elif action == "lock":
                    services.lock_by_officer(actor=request.actor, account_id=account.pk,
                                             reason=form.cleaned_data["reason"])
                    messages.success(request, _("Đã khóa tài khoản định danh điện tử"))
                else:
                    services.unlock_by_officer(actor=request.actor, account_id=account.pk,
                                               reason=form.cleaned_data["reason"])
                    messages.success(request, _("Đã mở khóa tài khoản định danh điện tử"))
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 404, 409} else 422
            else:
                return redirect("identity:officer_account", id_number=person.id_number)
    forms_ = {name: bound.get(name) or cls() for name, cls in ACTIONS.items()}
    events = selectors.account_events(account=account, limit=20) if account else []
    return render(request, "identity/officer_account.html", {
        "p": person, "account": account, "forms": forms_, "events": events,
        "may_write": request.actor.has(Permission.ACCOUNT_MANAGE),
        "may_verify": request.actor.has(Permission.ACCOUNT_VERIFY),
    }, status=status)
