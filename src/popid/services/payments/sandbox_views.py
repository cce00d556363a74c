"""The sandbox bank's hosted page: the payer sees the merchant, order and amount and confirms or
declines; the bank then calls PopID back (server to server, signed) and sends the browser to the
merchant's return URL. It plays the part of an external site: PopID's login is not required."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from popid.services.models import PaymentState, SandboxCharge
from popid.services.payments.sandbox import SandboxGateway


@never_cache
@require_http_methods(["GET", "POST"])
def bank_page(request: HttpRequest, order_id: str) -> HttpResponse:
    charge = SandboxCharge.objects.filter(order_id=order_id).first()
    if charge is None:
        raise Http404
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in {"pay", "decline"}:
            return render(request, "services/sandbox_bank.html", {"charge": charge, "invalid": True}, status=422)
        charge = SandboxGateway.decide(order_id, paid=decision == "pay")
        if charge.delivered_at is None:
            SandboxGateway.deliver(charge)
        return redirect(charge.return_url)
    return render(request, "services/sandbox_bank.html",
                  {"charge": charge, "pending": charge.state == PaymentState.PENDING})
