"""Officer console pages for the document registries: find a driving licence, see it with its
history, suspend / reinstate / revoke it (officers with jurisdiction over the holder's commune).
The verifier pages (/giay-to/xac-minh/) live in ``wallet.verifier_views``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from popid.core.access import AccessContext
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.documents import selectors, services
from popid.documents.models import DrivingLicence, LicenceStatus
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PURPOSE_VIEW = "Quản lý giấy phép lái xe trên giao diện cán bộ"


class LicenceSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Số GPLX hoặc số định danh"), required=False, max_length=20)
    status = forms.ChoiceField(label=gettext_lazy("Trạng thái"), required=False,
                               choices=[("", gettext_lazy("Tất cả")), *LicenceStatus.choices])


class StatusForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Lý do"), max_length=300)
    legal_ref = forms.CharField(label=gettext_lazy("Căn cứ pháp lý"), max_length=200, required=False,
                                initial=services.LEGAL_REF_SUSPENSION)
    version = forms.IntegerField(widget=forms.HiddenInput)


class DeductForm(StatusForm):
    points = forms.IntegerField(label=gettext_lazy("Số điểm trừ"), min_value=1, max_value=12)
    field_order = ["points", "reason", "legal_ref"]


ACTIONS: dict[str, tuple[Callable[..., DrivingLicence], StrOrPromise]] = {  # each a keyword-only command
    "tam-giu": (services.suspend_licence, gettext_lazy("Đã tạm giữ giấy phép lái xe")),
    "khoi-phuc": (services.reinstate_licence, gettext_lazy("Đã khôi phục giấy phép lái xe")),
    "thu-hoi": (services.revoke_licence, gettext_lazy("Đã thu hồi giấy phép lái xe")),
    "tru-diem": (services.deduct_points, gettext_lazy("Đã trừ điểm giấy phép lái xe")),
}


def _ctx(request: ConsoleRequest) -> AccessContext:
    return AccessContext(actor=request.actor, purpose=PURPOSE_VIEW, channel="console")


@officer_view
@requires(Permission.DOCUMENT_READ)
def licence_list(request: ConsoleRequest) -> HttpResponse:
    form = LicenceSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.list_licences(ctx=_ctx(request), query=data.get("q", ""), status=data.get("status", ""))
    return render(request, "documents/licence_list.html", {"form": form, "rows": rows})


@officer_view
@requires(Permission.DOCUMENT_READ)
def person_documents(request: ConsoleRequest, id_number: str) -> HttpResponse:
    """Every document of one citizen (licences, vehicles, health cards), jurisdiction-checked."""
    from popid.registry.selectors import access_person

    ctx = _ctx(request)
    person = access_person(ctx=ctx, id_number=id_number, fields=["full_name", "documents"])
    docs = selectors.documents_of_person(ctx=ctx, person=person)
    return render(request, "documents/person_documents.html", {"person": person, "docs": docs})


def _detail(request: ConsoleRequest, number: str, form: StatusForm | None = None, status: int = 200,
            deduct_form: DeductForm | None = None) -> HttpResponse:
    licence = selectors.access_licence(ctx=_ctx(request), number=number)
    initial = {"version": licence.version, "legal_ref": services.LEGAL_REF_SUSPENSION}
    return render(request, "documents/licence_detail.html", {
        "licence": licence, "events": selectors.licence_events(licence=licence),
        "form": form or StatusForm(initial=initial),
        "deduct_form": deduct_form or DeductForm(initial=initial, prefix="deduct"),
        "may_write": request.actor.has(Permission.DOCUMENT_WRITE)}, status=status)


@officer_view
@requires(Permission.DOCUMENT_READ)
def licence_detail(request: ConsoleRequest, number: str) -> HttpResponse:
    return _detail(request, number)


@officer_view
@requires(Permission.DOCUMENT_WRITE)
@require_POST
def licence_action(request: ConsoleRequest, number: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return _detail(request, number, status=404)
    command, done = ACTIONS[action]
    form = DeductForm(request.POST, prefix="deduct") if action == "tru-diem" else StatusForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            kwargs = {"legal_ref": data["legal_ref"]} if data.get("legal_ref") else {}
            if "points" in data:
                kwargs["points"] = data["points"]
            command(actor=request.actor, number=number, reason=data["reason"], expected_version=data["version"],
                    **kwargs)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, str(done))
            return redirect("documents:licence_detail", number=number)
    else:
        form.domain_error = {"title": _("Dữ liệu không hợp lệ"), "detail": "", "placed": True,  # type: ignore[attr-defined]
                             "code": "validation_failed"}
    if isinstance(form, DeductForm):
        return _detail(request, number, deduct_form=form, status=422)
    return _detail(request, number, form=form, status=422)


# --- vehicle registrations: registration change (sang tên / đổi địa chỉ) ----------------------------
class VehicleChangeForm(forms.Form):
    new_owner_id_number = forms.CharField(label=gettext_lazy("Số định danh chủ xe mới (sang tên)"), max_length=12,
                                          required=False)
    new_plate = forms.CharField(label=gettext_lazy("Biển số mới (nếu cấp biển mới khi sang tên)"), max_length=15,
                                required=False)
    new_address = forms.CharField(label=gettext_lazy("Địa chỉ chủ xe ghi trên giấy đăng ký"), max_length=300,
                                  required=False)
    reason = forms.CharField(label=gettext_lazy("Căn cứ hồ sơ (hợp đồng mua bán, tờ khai…)"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


def _vehicle(request: ConsoleRequest, plate: str, form: VehicleChangeForm | None = None,
             status: int = 200) -> HttpResponse:
    vehicle = selectors.access_vehicle(ctx=_ctx(request), plate=plate)
    return render(request, "documents/vehicle_detail.html", {
        "vehicle": vehicle, "events": selectors.vehicle_events(vehicle=vehicle),
        "holds": services.vehicle_holds(vehicle),
        "form": form or VehicleChangeForm(initial={"version": vehicle.version}),
        "may_write": request.actor.has(Permission.DOCUMENT_WRITE)}, status=status)


@officer_view
@requires(Permission.DOCUMENT_READ)
def vehicle_detail(request: ConsoleRequest, plate: str) -> HttpResponse:
    return _vehicle(request, plate)


@officer_view
@requires(Permission.DOCUMENT_WRITE)
@require_POST
def vehicle_change(request: ConsoleRequest, plate: str) -> HttpResponse:
    form = VehicleChangeForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            vehicle = services.change_vehicle_registration(
                actor=request.actor, plate=plate, reason=data["reason"],
                new_owner_id_number=data["new_owner_id_number"], new_address=data["new_address"],
                new_plate=data["new_plate"], expected_version=data["version"])
        except DomainError as exc:
            apply_domain_error(form, exc)
            status = exc.status if exc.status in {404, 409} else 422
        else:
            messages.success(request, _("Đã thay đổi đăng ký xe"))
            return redirect("documents:vehicle_detail", plate=vehicle.plate)
    else:
        form.domain_error = {"title": _("Dữ liệu không hợp lệ"), "detail": "", "placed": True,  # type: ignore[attr-defined]
                             "code": "validation_failed"}
    return _vehicle(request, plate, form=form, status=status)
