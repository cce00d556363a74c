"""Console pages of records digitisation (/cong-an/so-hoa/) and the cross-record search
(/cong-an/tim-kiem/). Thin: the services and selectors decide; a DomainError is shown on the page
and nothing was written; success redirects with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from popid.core.admin_units import communes, provinces
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.records import forms as rf
from popid.records import selectors, services
from popid.records.models import OcrState, RecordKind
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view, render_page


def unit_label(code: str) -> str:
    unit = communes().get(code) or provinces().get(code)
    return f"{unit.name} ({code})" if unit else code


@officer_view
@requires(Permission.RECORDS_READ)
def record_list(request: ConsoleRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in OcrState.values else ""
    records = list(selectors.records_for(actor=request.actor, state=state)[:200])
    for record in records:
        record.unit_label = unit_label(record.unit_code)  # type: ignore[attr-defined]
    return render_page(request, "records/list.html", {"records": records, "states": rf.STATE_CHOICES,
                                                      "state": state})


@officer_view
@requires(Permission.RECORDS_WRITE)
def upload(request: ConsoleRequest) -> HttpResponse:
    form = rf.UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            scan = data["file"]
            try:
                services.check_upload_size(scan.size)  # before the content is read
                record = services.upload_record(
                    actor=request.actor, kind=data["kind"], title=data["title"], content=scan.read(),
                    file_name=scan.name or "", original_ref=data.get("original_ref") or "",
                    unit_code=(data.get("unit_code") or "").strip())
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status if exc.status in {403, 404, 409} else 422
            else:
                messages.success(request, _("Đã lưu hồ sơ quét; văn bản sẽ được nhận dạng trong nền."))
                return redirect("records:record", pk=record.pk)
    return render_page(request, "records/upload.html", {"form": form}, status=status)


@officer_view
@requires(Permission.RECORDS_READ)
def record_detail(request: ConsoleRequest, pk: int) -> HttpResponse:
    record = selectors.record_for_officer(actor=request.actor, pk=pk)
    links = selectors.access_record_links(actor=request.actor, record=record)
    return render_page(request, "records/record.html", {
        "record": record, "unit": unit_label(record.unit_code), "pages": list(record.pages.all()),
        "links": links, "link_form": rf.LinkForm(), "may_write": request.actor.has(Permission.RECORDS_WRITE)})


@officer_view
@requires(Permission.RECORDS_READ)
def scan(request: ConsoleRequest, pk: int) -> HttpResponse:
    record = selectors.record_for_officer(actor=request.actor, pk=pk)
    response = HttpResponse(bytes(record.content), content_type=record.content_type)
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}
    response["Content-Disposition"] = f'attachment; filename="scan-{record.pk}.{extension[record.content_type]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@officer_view
@requires(Permission.RECORDS_WRITE)
@require_POST
def record_action(request: ConsoleRequest, pk: int, action: str) -> HttpResponse:
    try:
        if action == "thu-lai":
            services.retry_ocr(actor=request.actor, pk=pk)
            messages.success(request, _("Đã xếp lại hồ sơ vào hàng đợi nhận dạng."))
        elif action in {"xac-nhan", "bac-bo"}:
            link_pk = int(request.POST.get("link", "0") or 0)
            services.decide_link(actor=request.actor, record_pk=pk, link_pk=link_pk,
                                 decision="confirm" if action == "xac-nhan" else "reject")
            messages.success(request, _("Đã ghi nhận quyết định liên kết."))
        elif action == "lien-ket":
            form = rf.LinkForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Cần số định danh 12 số hoặc CMND 9 số"))
            else:
                services.link_person(actor=request.actor, record_pk=pk, id_number=form.cleaned_data["id_number"])
                messages.success(request, _("Đã liên kết công dân với hồ sơ."))
        else:
            messages.error(request, _("Thao tác không hợp lệ"))
    except (DomainError, ValueError) as exc:
        if isinstance(exc, DomainError) and exc.status == 404:
            raise
        reasons = [e["message"] for e in exc.errors()] if isinstance(exc, DomainError) else []
        messages.error(request, "; ".join([str(getattr(exc, "title", "")), *reasons]).strip("; ")
                       or _("Thao tác không hợp lệ"))
    return redirect("records:record", pk=pk)


@officer_view
@requires(Permission.RECORDS_READ)
def progress(request: ConsoleRequest) -> HttpResponse:
    rows = selectors.progress(actor=request.actor)
    totals = selectors.UnitProgress("")
    for row in rows:
        row.label = unit_label(row.unit_code)  # type: ignore[attr-defined]
        for name in ("records", "pages", "ocr_done", "ocr_waiting", "ocr_failed", "linked", "proposals"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    return render_page(request, "records/progress.html", {"rows": rows, "totals": totals})


def _paging(request: ConsoleRequest, results: selectors.SearchResults) -> dict[str, dict[str, str]]:
    """Per list, the query strings of its previous and next page (the other criteria kept; a paging
    link shows that one list only)."""
    links: dict[str, dict[str, str]] = {}
    for kind in selectors.KINDS:
        pages: dict[str, str] = {}
        for name, number, show in (("prev", results.page - 1, results.page > 1),
                                   ("next", results.page + 1, results.more.get(kind, False))):
            if show:
                params = request.GET.copy()
                params["kind"], params["page"] = kind, str(number)
                pages[name] = params.urlencode()
        links[kind] = pages
    return links


@officer_view
@requires(Permission.RECORDS_READ)
def search(request: ConsoleRequest) -> HttpResponse:
    form = rf.SearchForm(request.GET or None)
    results = None
    status = 200
    if request.GET:
        if form.is_valid():
            data = form.cleaned_data
            query = selectors.SearchQuery(
                text=data.get("text") or "", person=data.get("person") or "", place=data.get("place") or "",
                category=data.get("category") or "", date_from=data.get("date_from"), date_to=data.get("date_to"),
                kind=data.get("kind") or "", page=data.get("page") or 1)
            results = selectors.search(actor=request.actor, query=query)
        else:
            status = 422
    context: dict[str, Any] = {"form": form, "results": results, "kinds": RecordKind.choices,
                               "categories": selectors.report_categories(),
                               "paging": _paging(request, results) if results else {}}
    return render_page(request, "records/search.html", context, status=status)
