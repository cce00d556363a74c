"""Pages of the immigration database.

* ``/luu-tru/``: staff of accommodation establishments (citizens logged in with their national
  account and linked to the establishment) declare foreign guests: the MRZ typed or scanned is
  read server-side ("Đọc MRZ") and fills the form (no script needed under the strict CSP);
  departures; CSV batches with the bad lines reported.
* ``/xuat-nhap-canh/``: the police console: foreigners present per commune, overstay alerts,
  watch-list hits to review, a person's stay history (every look-up access-recorded).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from popid.core.access import AccessContext
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.identity.actors import citizen_actor
from popid.immigration import mrz as mrz_lib
from popid.immigration import selectors, services
from popid.immigration.errors import DocumentMismatch, InvalidVisa, NoOpenStay
from popid.immigration.forms import ArrivalForm, CsvForm, DepartureForm, LookupForm, PassportLossForm, ReviewForm
from popid.immigration.models import Channel, Stay
from popid.web.shell import CitizenRequest, apply_domain_error, citizen_view, officer_view

CSV_MAX_BYTES = 5 * 1024 * 1024


# --- establishment staff --------------------------------------------------------------------------
@citizen_view
def my_establishments(request: CitizenRequest) -> HttpResponse:
    return render(request, "immigration/staff_home.html",
                  {"citizen": request.account, "establishments": services.establishments_of(request.account)})


def _establishment(request: CitizenRequest, code: str) -> Any:
    return services.establishment_for(services.Declarant.staff(request.account), code)


def _fill_from_mrz(form: ArrivalForm) -> None:
    """Server-side "Đọc MRZ": parse the zone and put its fields into the form's data."""
    data = cast(QueryDict, form.data).copy()  # bound to request.POST
    try:
        guest = services.guest_from_mrz(form.data.get("mrz", ""))
    except DomainError as exc:
        form.is_valid()
        apply_domain_error(form, exc)
        return
    data.update({"nationality": guest.nationality, "document_number": guest.document_number,
                 "surname": guest.surname, "given_names": guest.given_names, "sex": guest.sex,
                 "birth_date": guest.birth_date.isoformat() if guest.birth_date else "",
                 "document_expiry": guest.document_expiry.isoformat() if guest.document_expiry else ""})
    form.data = data
    form.mrz_read = True  # type: ignore[attr-defined]


def _declare(request: CitizenRequest, form: ArrivalForm, code: str) -> Stay:
    c = form.cleaned_data
    if (c.get("mrz") or "").strip():
        guest = services.guest_from_mrz(c["mrz"])
        typed = (c.get("nationality") or "").upper(), (c.get("document_number") or "").upper()
        if any(typed) and typed != (guest.nationality, guest.document_number):
            raise DocumentMismatch(_("Số hộ chiếu/quốc tịch nhập tay khác với MRZ"), field="document_number")
    else:
        guest = services.guest_from_fields(nationality=c["nationality"], document_number=c["document_number"],
                                           surname=c["surname"], given_names=c["given_names"],
                                           birth_date=c["birth_date"], sex=c["sex"],
                                           document_expiry=c["document_expiry"])
    visa = None
    if (c.get("visa_number") or "").strip():
        if c.get("visa_valid_until") is None:
            raise InvalidVisa(_("Ngày hết hạn thị thực bắt buộc"), field="visa_valid_until")
        visa = services.VisaIn(number=c["visa_number"], kind=c["visa_kind"], entries=c["visa_entries"],
                               valid_from=c.get("visa_valid_from"), valid_until=c["visa_valid_until"])
    return services.declare_arrival(declarant=services.Declarant.staff(request.account, channel=Channel.WEB),
                                    establishment_code=code, guest=guest, arrival_at=c["arrival_at"],
                                    room=c.get("room") or "", visa=visa)


@citizen_view
@require_http_methods(["GET", "POST"])
def establishment(request: CitizenRequest, code: str) -> HttpResponse:
    try:
        place = _establishment(request, code)
    except DomainError as exc:
        return render(request, "web/error.html", {"error": exc, "detail": str(exc.detail)}, status=exc.status)
    status = 200
    form = ArrivalForm(request.POST or None, initial={"arrival_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    if request.method == "POST":
        if request.POST.get("action") == "read":
            _fill_from_mrz(form)
            status = 200 if getattr(form, "mrz_read", False) else 422
        elif form.is_valid():
            try:
                stay = _declare(request, form, code)
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 409} else 422
            else:
                if stay.warnings:
                    messages.warning(request, "; ".join(str(w["message"]) for w in stay.warnings))
                messages.success(request, _("Đã khai báo khách %(name)s đến") % {"name": stay.person.full_name})
                return redirect("immigration:establishment", code=code)
        else:
            status = 422
    present = (Stay.objects.select_related("person", "document").filter(establishment=place, departure_at__isnull=True)
               .order_by("-arrival_at"))
    return render(request, "immigration/establishment.html", {
        "citizen": request.account, "place": place, "form": form, "present": present, "csv_form": CsvForm(),
        "departure_default": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}, status=status)


@citizen_view
@require_POST
def departure(request: CitizenRequest, code: str) -> HttpResponse:
    form = DepartureForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Thời điểm đi không hợp lệ"))
        return redirect("immigration:establishment", code=code)
    stay = (Stay.objects.select_related("document")
            .filter(pk=form.cleaned_data["stay"], establishment__code=code).first())
    try:
        if stay is None:
            raise NoOpenStay()
        services.declare_departure(declarant=services.Declarant.staff(request.account), establishment_code=code,
                                   nationality=stay.document.nationality, document_number=stay.document.number,
                                   departure_at=form.cleaned_data["departure_at"])
    except DomainError as exc:
        messages.error(request, f"{exc.title}: {exc.detail}" if str(exc.detail) != str(exc.title) else str(exc.title))
    else:
        messages.success(request, _("Đã khai báo khách đi"))
    return redirect("immigration:establishment", code=code)


@citizen_view
@require_POST
def csv_upload(request: CitizenRequest, code: str) -> HttpResponse:
    form = CsvForm(request.POST, request.FILES)
    result, error, status = None, "", 200
    if not form.is_valid():
        error, status = _("Chọn một tệp CSV"), 422
    elif form.cleaned_data["file"].size > CSV_MAX_BYTES:
        error, status = _("Tệp quá lớn (tối đa 5 MB)"), 413
    else:
        try:
            text = form.cleaned_data["file"].read().decode("utf-8-sig")
            result = services.import_csv(declarant=services.Declarant.staff(request.account, channel=Channel.CSV),
                                         establishment_code=code, text=text)
        except UnicodeDecodeError:
            error, status = _("Tệp không phải UTF-8"), 422
        except DomainError as exc:
            error, status = f"{exc.title}: {exc.detail}", exc.status
    return render(request, "immigration/csv_result.html", {"citizen": request.account, "code": code,
                                                           "result": result, "error": error,
                                                           "columns": services.CSV_COLUMNS}, status=status)


# --- citizens' passports ----------------------------------------------------------------------------
@citizen_view
@require_http_methods(["GET", "POST"])
def my_passports(request: CitizenRequest) -> HttpResponse:
    """The citizen's passports (and their wards'), the wallet link, and the lost-passport form."""
    actor = citizen_actor(request.account)
    form = PassportLossForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                loss = services.declare_passport_lost(
                    actor=actor, number=request.POST.get("number", ""), lost_on=form.cleaned_data["lost_on"],
                    place=form.cleaned_data["place"], circumstances=form.cleaned_data["circumstances"])
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {404, 409} else 422
            else:
                messages.success(request, _("Đã tiếp nhận trình báo mất hộ chiếu %(n)s: hộ chiếu bị hủy giá trị "
                                            "sử dụng ngay") % {"n": loss.passport.number})
                return redirect("immigration:passports")
        else:
            status = 422
    return render(request, "immigration/passports.html", {
        "citizen": request.account, "passports": services.passports_of(actor, request.account.person),
        "form": form, "today": timezone.localdate()}, status=status)


# --- police console -------------------------------------------------------------------------------
def _ctx(request: HttpRequest, purpose: str) -> AccessContext:
    return AccessContext(actor=request.actor, purpose=purpose,  # type: ignore[attr-defined]
                         legal_basis="Luật Nhập cảnh, xuất cảnh, quá cảnh, cư trú của người nước ngoài tại Việt Nam",
                         channel="console")


@officer_view
@requires(Permission.IMMIGRATION_READ)
def police_home(request: HttpRequest) -> HttpResponse:
    ctx = _ctx(request, "Quản lý cư trú người nước ngoài")
    return render(request, "immigration/police_home.html", {
        "counts": selectors.present_counts(ctx), "alerts": selectors.overstay_alerts(ctx, limit=100),
        "hits": selectors.watch_hits(ctx), "lookup": LookupForm(), "review": ReviewForm()})


@officer_view
@requires(Permission.IMMIGRATION_READ)
def police_commune(request: HttpRequest, commune_code: str) -> HttpResponse:
    stays = selectors.present_in_commune(_ctx(request, "Quản lý cư trú người nước ngoài"), commune_code)
    return render(request, "immigration/police_commune.html", {"stays": stays, "commune_code": commune_code})


@officer_view
@requires(Permission.IMMIGRATION_READ)
@require_POST
def police_lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST)
    if not form.is_valid():
        return render(request, "immigration/police_person.html", {"form": form}, status=422)
    history = selectors.person_history(_ctx(request, "Tra cứu người nước ngoài"),
                                       form.cleaned_data["nationality"], form.cleaned_data["document_number"])
    return render(request, "immigration/police_person.html", {"form": form, "history": history})


@officer_view
@requires(Permission.IMMIGRATION_REVIEW)
@require_POST
def police_review(request: HttpRequest, hit_id: int) -> HttpResponse:
    form = ReviewForm(request.POST)
    if form.is_valid():
        services.review_hit(actor=request.actor, hit_id=hit_id, note=form.cleaned_data["note"])  # type: ignore[attr-defined]
        messages.success(request, _("Đã ghi nhận kết quả xem xét"))
    else:
        messages.error(request, _("Cần ghi kết quả xem xét"))
    return redirect("immigration:police_home")


@officer_view
@requires(Permission.IMMIGRATION_READ)
@require_POST
def police_mrz(request: HttpRequest) -> HttpResponse:
    """A quick MRZ check for officers (e.g. at a counter)."""
    try:
        data = mrz_lib.parse(request.POST.get("mrz", ""))
        result, error = data.as_json(), None
    except mrz_lib.InvalidMrz as exc:
        result, error = None, exc
    return render(request, "immigration/police_mrz.html", {"result": result, "error": error,
                                                           "mrz": request.POST.get("mrz", "")},
                  status=200 if error is None else 422)
