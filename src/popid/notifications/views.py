"""The citizen's notifications page (``/thong-bao/``, the bottom bar's fourth entry): the list,
newest first, mark one or all read, and open one (marks it read, then goes where to act)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from popid.notifications import selectors, services
from popid.notifications.display import shown
from popid.web.shell import CitizenRequest, citizen_view, render_citizen_page


@citizen_view
@require_http_methods(["GET", "POST"])
def notification_list(request: CitizenRequest) -> HttpResponse:
    if request.method == "POST":
        target = request.POST.get("notification", "")
        services.mark_read(account=request.account, pk=int(target) if target.isdigit() else None)
        return redirect("notifications:list")
    items = [shown(n) for n in selectors.notifications_of(request.account)]
    return render_citizen_page(request, "notifications/list.html",
                               {"items": items, "unread": sum(1 for i in items if i.unread)})


@citizen_view
@require_http_methods(["GET"])
def open_notification(request: CitizenRequest, pk: int) -> HttpResponse:
    """Following a notification reads it: mark it read, then go to the dossier, fines or consents page."""
    notification = selectors.notification_of(request.account, pk)
    if notification is None:
        raise Http404
    services.mark_read(account=request.account, pk=pk)
    return redirect(shown(notification).url)

