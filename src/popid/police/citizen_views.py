"""Public pages for crime reports (/to-giac/): filing a report logged in with the national
account or anonymously, the receipt with the tracking code (shown once, only its hash is kept),
following a report by tracking code (rate-limited per client IP) or, for a logged-in reporter,
from "my reports". Reporters see the public timeline only, never internal notes."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from popid.core import throttle
from popid.core.errors import DomainError
from popid.identity import auth
from popid.police import selectors, services
from popid.police.catalogue import categories, outcomes
from popid.police.forms import ReportForm, TrackingForm
from popid.police.models import Report
from popid.web.shell import CitizenRequest, apply_domain_error, citizen_view

TRACKING_SCOPE = "police-tracking"


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("citizen", auth.current_account(request))
    return render(request, f"police/citizen/{template}", context, status=status)


def _attachments(uploads: list[UploadedFile[bytes]]) -> list[services.Attachment]:
    services.check_attachment_sizes([(u.name or "", u.size or 0) for u in uploads])  # before reading anything
    return [services.Attachment(name=(u.name or "tep")[:200], content=u.read(),
                                content_type=(u.content_type or "").split(";")[0].strip()) for u in uploads]


@never_cache
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest) -> HttpResponse:
    account = auth.current_account(request)
    form = ReportForm(request.POST or None, allow_anonymous_choice=account is not None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            anonymous = account is None or bool(data.get("anonymous"))
            try:
                report, tracking = services.submit_report(
                    account=None if anonymous else account, anonymous=anonymous,
                    category_code=data["category_code"], commune_code=data["commune_code"].strip(),
                    occurred_at=data["occurred_at"], description=data.get("description") or "",
                    latitude=data.get("latitude"), longitude=data.get("longitude"),
                    attachments=_attachments(request.FILES.getlist("attachments")))
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 404, 409} else 422
            else:
                # The tracking code is shown on this response only: it is not stored in clear.
                return _page(request, "receipt.html", {"report": report, "tracking_code": tracking,
                                                       "category": categories().get(report.category_code)},
                             status=201)
    return _page(request, "form.html", {"form": form}, status=status)


def _status_context(report: Report) -> dict[str, Any]:
    return {"report": report, "category": categories().get(report.category_code),
            "events": [e for e in report.events.all() if e.public],
            "outcome": outcomes().get(report.outcome_code)}


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Follow a report by its tracking code. Each miss counts against the client IP; after a few,
    further tries must wait (core.throttle), so codes cannot be enumerated."""
    form = TrackingForm(request.POST or None)
    if request.method != "POST":
        return _page(request, "track.html", {"form": form})
    ip = throttle.client_ip(request)
    verdict = throttle.check(scope=TRACKING_SCOPE, account="", ip=ip)
    if not verdict.allowed:
        response = _page(request, "track.html", {"form": form, "retry_after": verdict.retry_after}, status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    if form.is_valid():
        try:
            report = selectors.report_by_tracking_code(form.cleaned_data["tracking_code"])
        except DomainError:
            pass
        else:
            return _page(request, "status.html", _status_context(report))
    throttle.record_failure(scope=TRACKING_SCOPE, account="", ip=ip)
    return _page(request, "track.html", {"form": TrackingForm(), "not_found": True}, status=404)


@citizen_view
def my_reports(request: CitizenRequest) -> HttpResponse:
    return _page(request, "mine.html", {"reports": selectors.reports_of_account(request.account),
                                        "categories": categories()})


@citizen_view
def my_report(request: CitizenRequest, code: str) -> HttpResponse:
    try:
        report = selectors.report_of_account(request.account, code)
    except DomainError:
        return _page(request, "track.html", {"form": TrackingForm(), "not_found": True}, status=404)
    return _page(request, "status.html", _status_context(report))
