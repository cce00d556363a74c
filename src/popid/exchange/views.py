"""Pages of the exchange: the administrators' console (agencies, subsystems, grants, dead
letters with replay) and the citizen's consent page. Views are thin: they call the services,
show domain errors next to the field, and redirect after every successful POST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from popid.core.errors import DomainError, PermissionDenied
from popid.core.permissions import Permission, requires
from popid.exchange import management_services as manage
from popid.exchange import selectors, services, throttle, webhooks
from popid.exchange.fields import FIELDS, labels
from popid.exchange.forms import AgencyForm, GrantForm, LimitsForm, SubsystemForm
from popid.exchange.models import Agency, ConsentStatus, Grant, Subsystem
from popid.identity import auth
from popid.notifications import services as notifications
from popid.notifications.models import Kind as NotificationKind
from popid.web.shell import apply_domain_error, officer_view


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Administrators' pages: the console frame plus the declared permission."""
    return officer_view(requires(Permission.EXCHANGE_ADMIN)(view))


def _agency(code: str) -> Agency:
    return manage.get_agency(code)


# --- administrators ---------------------------------------------------------------------------
@admin_only
@require_http_methods(["GET", "POST"])
def agency_list(request: HttpRequest) -> HttpResponse:
    form = AgencyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                agency = manage.create_agency(actor=request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Đã tạo cơ quan %(name)s") % {"name": agency.name})
                return redirect("exchange:agency_detail", code=agency.code)
    agencies = [(a, throttle.usage_today(a)) for a in selectors.agencies()]
    return render(request, "exchange/agency_list.html", {"agencies": agencies, "form": form}, status=status)


def _detail_context(request: HttpRequest, agency: Agency, **forms_: Any) -> dict[str, Any]:
    subsystems = list(agency.subsystems.select_related("client").order_by("code"))
    choices = [(str(s.pk), f"{s.code} — {s.name}") for s in subsystems]
    now = timezone.now()
    grants = [(g, selectors.grant_summary(g)["state"], labels(g.fields))
              for g in Grant.objects.filter(subsystem__agency=agency).select_related("subsystem")
              .order_by("subsystem__code", "service", "-id")]
    return {
        "agency": agency, "subsystems": subsystems, "grants": grants, "now": now,
        "usage": throttle.usage_today(agency),
        "subsystem_form": forms_.get("subsystem_form") or SubsystemForm(prefix="sub"),
        "grant_form": forms_.get("grant_form") or GrantForm(prefix="grant", subsystems=choices),
        "limits_form": forms_.get("limits_form") or LimitsForm(
            prefix="lim", initial={"rate_per_minute": agency.rate_per_minute, "daily_quota": agency.daily_quota}),
    }


@admin_only
@require_http_methods(["GET", "POST"])
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    agency = _agency(code)
    actor = request.actor  # type: ignore[attr-defined]
    action = request.POST.get("action", "")
    bound: dict[str, Any] = {}
    form: Form
    if request.method == "POST":
        try:
            if action == "subsystem":
                form = bound["subsystem_form"] = SubsystemForm(request.POST, prefix="sub")
                if form.is_valid():
                    manage.create_subsystem(actor=actor, agency=agency, code=form.cleaned_data["code"],
                                            name=form.cleaned_data["name"], jwks=form.cleaned_data["jwk"])
                    messages.success(request, _("Đã thêm hệ thống kết nối"))
                    return redirect("exchange:agency_detail", code=agency.code)
            elif action == "grant":
                choices = [(str(s.pk), s.code) for s in agency.subsystems.all()]
                form = bound["grant_form"] = GrantForm(request.POST, prefix="grant", subsystems=choices)
                if form.is_valid():
                    data = form.cleaned_data
                    expires = timezone.make_aware(datetime.combine(data["expires_on"], time(23, 59, 59)))
                    subsystem = Subsystem.objects.get(pk=data["subsystem"], agency=agency)
                    manage.create_grant(actor=actor, subsystem=subsystem,
                                        service=data["service"], fields=data["released_fields"],
                                        event_types=data["event_types"],
                                        legal_basis=data["legal_basis"], expires_at=expires,
                                        confidential_allowed=data["confidential_allowed"])
                    messages.success(request, _("Đã cấp quyền"))
                    return redirect("exchange:agency_detail", code=agency.code)
            elif action == "limits":
                form = bound["limits_form"] = LimitsForm(request.POST, prefix="lim")
                if form.is_valid():
                    manage.update_limits(actor=actor, agency=agency, **form.cleaned_data)
                    messages.success(request, _("Đã cập nhật hạn mức"))
                    return redirect("exchange:agency_detail", code=agency.code)
            elif action == "revoke":
                grant = Grant.objects.filter(pk=request.POST.get("grant", "0") or 0, subsystem__agency=agency).first()
                if grant is not None:
                    manage.revoke_grant(actor=actor, grant=grant)
                    messages.success(request, _("Đã thu hồi quyền"))
                return redirect("exchange:agency_detail", code=agency.code)
            elif action in {"suspend", "resume"}:
                manage.set_agency_active(actor=actor, agency=agency, active=action == "resume")
                messages.success(request, _("Đã cập nhật trạng thái cơ quan"))
                return redirect("exchange:agency_detail", code=agency.code)
        except DomainError as exc:
            for form in bound.values():
                apply_domain_error(form, exc)
            if not bound:
                messages.error(request, str(exc.detail or exc.title))
                return redirect("exchange:agency_detail", code=agency.code)
    context = _detail_context(request, agency, **bound)
    return render(request, "exchange/agency_detail.html", context, status=422 if bound else 200)


@admin_only
def dead_letters(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/dead_letters.html", {"dead": list(selectors.dead_letters()[:200]),
                                                          "recent": selectors.recent_deliveries()})


@admin_only
@require_POST
def replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        webhooks.replay(actor=request.actor, delivery_id=delivery_id)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, str(exc.errors()[0]["message"] if exc.errors() else exc.title))
    else:
        messages.success(request, _("Đã đưa thư vào hàng đợi gửi lại"))
    return redirect("exchange:dead_letters")


# --- citizens --------------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def citizen_consents(request: HttpRequest) -> HttpResponse:
    """The citizen's data-sharing requests from agencies: approve, refuse, revoke."""
    account = auth.current_account(request)
    if account is None:
        return redirect(f"{reverse('identity:login')}?next={request.path}")
    actor = auth.citizen_actor(account)
    if request.method == "POST":
        consent_id = request.POST.get("consent", "")
        decision = request.POST.get("decision", "")
        try:
            if not consent_id.isdigit() or decision not in {"approve", "refuse", "revoke"}:
                raise PermissionDenied(_("Yêu cầu không hợp lệ"))
            if decision == "revoke":
                services.revoke_consent(actor=actor, consent_id=int(consent_id))
                messages.success(request, _("Đã thu hồi sự đồng ý."))
            else:
                consent = services.decide_consent(actor=actor, consent_id=int(consent_id),
                                                  approve=decision == "approve")
                messages.success(request, _("Bạn đã đồng ý chia sẻ.") if consent.status == ConsentStatus.APPROVED
                                 else _("Bạn đã từ chối chia sẻ."))
        except DomainError as exc:
            errors = exc.errors()
            messages.error(request, str(errors[0]["message"] if errors else (exc.detail or exc.title)))
        return redirect("exchange:citizen_consents")
    rows = [(c, labels(c.fields), c.status == ConsentStatus.APPROVED and c.is_expired)
            for c in selectors.consents_for_citizen(actor)]
    notifications.mark_read_about(account=account, kind=NotificationKind.CONSENT_REQUESTED)
    return render(request, "exchange/citizen_consents.html", {
        "rows": rows, "citizen": account, "acting_for": auth.acting_for(request), "fields": FIELDS})
