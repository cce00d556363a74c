"""Registry console pages: thin views that build the access context, call one registry
selector or command, and render. Domain errors from the services are shown on the form next to
the field they name; a failed command writes nothing (the service's transaction). The frame
(login, navigation, error pages) is ``popid.web.shell``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from popid.core.access import Actor
from popid.core.errors import DomainError, PermissionDenied
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission, requires
from popid.registry import display, selectors, services
from popid.registry.forms import (
    BirthForm,
    CorrectPersonForm,
    CurrentResidenceForm,
    DeathForm,
    FindingFilterForm,
    LookupForm,
    MarriageForm,
    PermanentResidenceForm,
    ReissueForm,
    SearchForm,
    SplitHouseholdForm,
    TemporaryResidenceForm,
)
from popid.registry.models import Household, Person, PersonStatus
from popid.registry.quality.models import QualityFinding
from popid.registry.quality.scoring import min_persons as quality_min_persons
from popid.web import charts
from popid.web.shell import (
    ConsoleRequest,
    apply_domain_error,
    commune_datalist,
    console_context,
    officer_view,
    render_page,
)

try:  # the quality engine is a separate module; the console works without it
    from popid.registry.quality import selectors as quality_selectors
except ImportError:  # pragma: no cover
    quality_selectors = None  # type: ignore[assignment]
try:
    from popid.registry.quality.engine import run_quality_check
except ImportError:  # pragma: no cover
    run_quality_check = None  # type: ignore[assignment]

PURPOSE_LOOKUP = "Tra cứu nghiệp vụ trên giao diện cán bộ"
PURPOSE_COMMAND = "Thực hiện lệnh đăng ký dân cư"
SEARCH_PAGE_SIZE = 20
FINDINGS_PAGE_SIZE = 50


# --- home --------------------------------------------------------------------------------------
@officer_view
@requires(Permission.REGISTRY_READ)
def home(request: ConsoleRequest) -> HttpResponse:
    """Dashboard: counts are aggregates (no personal data), cut to the actor's jurisdiction."""
    actor = request.actor
    counts = selectors.jurisdiction_counts(actor=actor)
    run = quality_selectors.latest_run() if quality_selectors else None
    return render_page(request, "registry/home.html", {
        "counts": counts, "run": run, "search_form": SearchForm(), "lookup_form": LookupForm(),
        "jurisdiction": display.jurisdiction_label(actor),
    })


# --- search ------------------------------------------------------------------------------------
@officer_view
@requires(Permission.REGISTRY_READ)
def search(request: ConsoleRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results: list[Person] = []
    total = 0
    page = _page_number(request)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["name"]:
            try:
                results, total = selectors.search_persons(
                    ctx=console_context(request), name=data["name"], birth_year=data["birth_year"],
                    birth_date=data["birth_date"], commune_code=data["commune_code"] or None,
                    limit=SEARCH_PAGE_SIZE, offset=(page - 1) * SEARCH_PAGE_SIZE,
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
        else:
            form.add_error("name", _("Nhập họ tên để tìm kiếm"))
    pages = max(1, -(-total // SEARCH_PAGE_SIZE))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, "registry/search.html", {
        "form": form, "lookup_form": LookupForm(), "results": results, "total": total, "page": page,
        "pages": pages, "query": query.urlencode(), "searched": form.is_bound,
        "communes": commune_datalist(request.actor),
    })


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


@officer_view
@requires(Permission.REGISTRY_READ)
def lookup(request: ConsoleRequest) -> HttpResponse:
    """Direct lookup by ID number (a cancelled number finds the person under the new one)."""
    form = LookupForm(request.GET or None)
    status = 422 if form.is_bound else 200  # a malformed number: fix the typing
    if form.is_valid():
        try:
            person = selectors.access_person(ctx=console_context(request),
                                             id_number=form.cleaned_data["id_number"].strip(),
                                             fields=selectors.SEARCH_FIELDS)
        except DomainError as exc:  # "not found" said once, beside the number
            form.add_error("id_number", str(exc.title))
            status = exc.status
        else:
            return redirect("registry:person", id_number=person.id_number)
    return render_page(request, "registry/search.html", {
        "form": SearchForm(), "lookup_form": form, "results": [], "total": 0, "page": 1, "pages": 1,
        "searched": False, "communes": commune_datalist(request.actor),
    }, status=status)


# --- person ------------------------------------------------------------------------------------
@officer_view
@requires(Permission.REGISTRY_READ)
def person(request: ConsoleRequest, id_number: str) -> HttpResponse:
    ctx = console_context(request)
    detail = selectors.person_detail(ctx=ctx, id_number=id_number)
    if detail.person.id_number != id_number:
        return redirect("registry:person", id_number=detail.person.id_number)
    history = list(selectors.person_history(ctx=ctx, id_number=id_number)[:100])
    findings = []
    if quality_selectors is not None and hasattr(quality_selectors, "findings_for_person"):
        findings = list(quality_selectors.findings_for_person(id_number=id_number, actor=request.actor))
    p = detail.person
    return render_page(request, "registry/person.html", {
        "detail": detail, "p": p,
        "fields": display.person_fields(p),
        "history": [display.history_row(entry) for entry in history],
        "findings": findings,
        "may_write": request.actor.may_write,
        "is_alive": p.status == PersonStatus.ALIVE,
    })


@officer_view
@requires(Permission.REGISTRY_READ)
def household(request: ConsoleRequest, code: str) -> HttpResponse:
    household, members = selectors.access_household(ctx=console_context(request), code=code)
    return render_page(request, "registry/household.html", _household_context(request, household, members))


def _household_context(request: ConsoleRequest, household: Household, members: list[Any], form: Any = None
                       ) -> dict[str, Any]:
    choices = [(m.person.id_number, f"{m.person.full_name} ({m.person.id_number})") for m in members]
    return {
        "household": household, "members": members, "may_write": request.actor.may_write,
        "split_form": form or SplitHouseholdForm(members=choices,
                                                 initial={"legal_ref": "Luật Cư trú 2020, Điều 25"}),
    }


@officer_view
@requires(Permission.REGISTRY_WRITE)
@require_POST
def split_household(request: ConsoleRequest, code: str) -> HttpResponse:
    household, members = selectors.access_household(ctx=console_context(request, PURPOSE_COMMAND), code=code)
    choices = [(m.person.id_number, f"{m.person.full_name} ({m.person.id_number})") for m in members]
    form = SplitHouseholdForm(request.POST, members=choices)
    if form.is_valid():
        data = form.cleaned_data
        try:
            new = services.split_household(
                actor=request.actor, household_code=code, member_id_numbers=data["member_id_numbers"],
                new_head_id_number=data["new_head_id_number"], reason=data["reason"],
                legal_ref=data["legal_ref"] or "Luật Cư trú 2020, Điều 25")
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Đã tách hộ, mã hộ mới %(code)s") % {"code": new.code})
            return redirect("registry:household", code=new.code)
    return render_page(request, "registry/household.html",
                       _household_context(request, household, members, form), status=422)


# --- commands on one person --------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """One registry command offered on the person page: its form, how the form fills the
    service call, and the message after success."""

    slug: str
    title: Any
    form: type[forms.Form]
    call: Callable[[Actor, Person, dict[str, Any], forms.Form], Person | None]
    success: Any
    initial: Callable[[Person], dict[str, Any]] = lambda p: {}
    needs_alive: bool = True


def _version(data: dict[str, Any]) -> int:
    return int(data["version"])


def _call_correct(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> Person:
    changes = form.changes(display.correctable_values(p))  # type: ignore[attr-defined]
    return services.correct_person(actor=actor, id_number=p.id_number, changes=changes, reason=data["reason"],
                                   legal_ref=data["legal_ref"], expected_version=_version(data))


def _call_death(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> Person:
    return services.record_death(actor=actor, id_number=p.id_number, died_on=data["died_on"], reason=data["reason"],
                                 legal_ref=data["legal_ref"], expected_version=_version(data))


def _call_permanent(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> None:
    services.register_permanent_residence(
        actor=actor, id_number=p.id_number, commune_code=data["commune_code"].strip(), address=data["address"],
        valid_from=data["valid_from"], reason=data["reason"],
        legal_ref=data["legal_ref"] or "Luật Cư trú 2020, Điều 20-22",
        household_code=data["household_code"].strip() or None, relationship=data["relationship"],
        expected_version=_version(data))


def _call_temporary(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> None:
    services.register_temporary_residence(
        actor=actor, id_number=p.id_number, commune_code=data["commune_code"].strip(), address=data["address"],
        valid_from=data["valid_from"], valid_until=data["valid_until"], reason=data["reason"],
        legal_ref=data["legal_ref"] or "Luật Cư trú 2020, Điều 27-28", expected_version=_version(data))


def _call_current(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> None:
    services.change_current_residence(
        actor=actor, id_number=p.id_number, commune_code=data["commune_code"].strip(), address=data["address"],
        valid_from=data["valid_from"], reason=data["reason"],
        legal_ref=data["legal_ref"] or "Luật Cư trú 2020, Điều 19", expected_version=_version(data))


def _call_marriage(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> None:
    services.record_marriage(actor=actor, id_number=p.id_number, spouse_id_number=data["spouse_id_number"].strip(),
                             married_on=data["married_on"], reason=data["reason"],
                             legal_ref=data["legal_ref"] or "Luật Hôn nhân và gia đình 2014")


def _call_reissue(actor: Actor, p: Person, data: dict[str, Any], form: forms.Form) -> Person:
    return services.reissue_id_number(
        actor=actor, id_number=p.id_number, reason=data["reason"], legal_ref=data["legal_ref"],
        expected_version=_version(data), sex=data["sex"] or None, birth_date=data["birth_date"],
        birth_registration_commune_code=data["birth_registration_commune_code"].strip() or None)


def _today() -> dict[str, Any]:
    return {"valid_from": date.today()}


COMMANDS: dict[str, Command] = {c.slug: c for c in [
    Command("correct", gettext_lazy("Điều chỉnh thông tin"), CorrectPersonForm, _call_correct,
            gettext_lazy("Đã điều chỉnh thông tin công dân"),
            initial=lambda p: {**display.correctable_values(p), "legal_ref": ""}, needs_alive=False),
    Command("death", gettext_lazy("Đăng ký khai tử"), DeathForm, _call_death, gettext_lazy("Đã đăng ký khai tử"),
            initial=lambda p: {"reason": "Đăng ký khai tử", "legal_ref": "Luật Hộ tịch 2014, Điều 33"}),
    Command("permanent-residence", gettext_lazy("Đăng ký thường trú"), PermanentResidenceForm, _call_permanent,
            gettext_lazy("Đã đăng ký thường trú"),
            initial=lambda p: {**_today(), "reason": "Đăng ký thường trú",
                               "legal_ref": "Luật Cư trú 2020, Điều 20-22"}),
    Command("temporary-residence", gettext_lazy("Đăng ký tạm trú"), TemporaryResidenceForm, _call_temporary,
            gettext_lazy("Đã đăng ký tạm trú"),
            initial=lambda p: {**_today(), "reason": "Đăng ký tạm trú",
                               "legal_ref": "Luật Cư trú 2020, Điều 27-28"}),
    Command("current-residence", gettext_lazy("Cập nhật nơi ở hiện tại"), CurrentResidenceForm, _call_current,
            gettext_lazy("Đã cập nhật nơi ở hiện tại"),
            initial=lambda p: {**_today(), "reason": "Khai báo nơi ở hiện tại",
                               "legal_ref": "Luật Cư trú 2020, Điều 19"}),
    Command("marriage", gettext_lazy("Đăng ký kết hôn"), MarriageForm, _call_marriage,
            gettext_lazy("Đã đăng ký kết hôn"),
            initial=lambda p: {"reason": "Đăng ký kết hôn", "legal_ref": "Luật Hôn nhân và gia đình 2014"}),
    Command("reissue", gettext_lazy("Hủy và cấp lại số định danh"), ReissueForm, _call_reissue,
            gettext_lazy("Đã hủy số cũ và cấp số định danh mới"),
            initial=lambda p: {"legal_ref": "Thông tư 59/2021/TT-BCA, Điều 6"}, needs_alive=False),
]}


@officer_view
@requires(Permission.REGISTRY_WRITE)
@require_http_methods(["GET", "POST"])
def person_command(request: ConsoleRequest, id_number: str, command: str) -> HttpResponse:
    """GET shows the form pre-filled from the record (with its version); POST calls the
    service and redirects to the person page (PRG), or shows the domain error on the form."""
    spec = COMMANDS.get(command)
    if spec is None:
        raise Http404
    purpose = PURPOSE_COMMAND if request.method == "POST" else PURPOSE_LOOKUP
    p = selectors.access_person(ctx=console_context(request, purpose), id_number=id_number,
                                fields=["full_name", "birth_date", "status", "version"])
    status = 200
    if request.method == "POST":
        form = spec.form(request.POST)
        if form.is_valid():
            try:
                result = spec.call(request.actor, p, form.cleaned_data, form)
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = 409 if exc.status == 409 else 422
            else:
                messages.success(request, str(spec.success))
                target = result.id_number if isinstance(result, Person) else p.id_number
                return redirect("registry:person", id_number=target)
        else:
            status = 422
    else:
        form = spec.form(initial={**spec.initial(p), "version": p.version})
    return render_page(request, "registry/command.html", {
        "form": form, "p": p, "command": spec, "communes": commune_datalist(request.actor),
        "stale": getattr(form, "domain_error", {}).get("code") == "stale_version",
    }, status=status)


# --- birth ---------------------------------------------------------------------------------------
@officer_view
@requires(Permission.REGISTRY_WRITE)
@require_http_methods(["GET", "POST"])
def register_birth(request: ConsoleRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = BirthForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                child = services.register_birth(
                    actor=request.actor, full_name=data["full_name"], birth_date=data["birth_date"],
                    sex=data["sex"], birth_place=data["birth_place"],
                    birth_registration_commune_code=data["birth_registration_commune_code"].strip(),
                    hometown=data["hometown"], ethnicity_code=data["ethnicity_code"],
                    religion_code=data["religion_code"], nationality=data["nationality"],
                    father_id_number=data["father_id_number"].strip() or None,
                    mother_id_number=data["mother_id_number"].strip() or None,
                    father_name=data["father_name"], mother_name=data["mother_name"],
                    household_code=data["household_code"].strip() or None,
                    reason=data["reason"], legal_ref=data["legal_ref"])
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = 422
            else:
                messages.success(request, _("Đã đăng ký khai sinh, cấp số định danh %(id)s") % {"id": child.id_number})
                return redirect("registry:person", id_number=child.id_number)
        else:
            status = 422
    else:
        form = BirthForm(initial=_birth_initial(request))
    return render_page(request, "registry/birth.html", {"form": form, "communes": commune_datalist(request.actor)},
                   status=status)


def _birth_initial(request: ConsoleRequest) -> dict[str, Any]:
    """Pre-fill parents from ``?father=``/``?mother=`` (read through the selector, so only
    parents the officer may see are filled in) and the officer's own commune."""
    actor = request.actor
    initial: dict[str, Any] = {"reason": "Đăng ký khai sinh", "legal_ref": "Luật Hộ tịch 2014, Điều 16",
                               "ethnicity_code": "01", "religion_code": "00", "nationality": "VN"}
    if actor.level == ScopeLevel.COMMUNE:
        initial["birth_registration_commune_code"] = actor.unit_code
    for key in ("father", "mother"):
        id_number = request.GET.get(key, "").strip()
        if not id_number:
            continue
        try:
            parent = selectors.access_person(ctx=console_context(request, PURPOSE_COMMAND), id_number=id_number,
                                             fields=["full_name", "hometown", "ethnicity_code"])
        except DomainError:
            continue
        initial[f"{key}_id_number"] = parent.id_number
        if key == "father" or not initial.get("hometown"):
            initial["hometown"] = parent.hometown  # quê quán follows the father by custom
    return initial


# --- quality -------------------------------------------------------------------------------------
@officer_view
@requires(Permission.QUALITY_READ)
def quality(request: ConsoleRequest) -> HttpResponse:
    """Scores per province (per commune for provincial and communal staff), findings by
    principle and by kind, and the findings list, all within the actor's jurisdiction."""
    if quality_selectors is None:
        return render_page(request, "registry/quality.html", {"available": False})
    actor = request.actor
    run = quality_selectors.latest_run()
    if actor.level == ScopeLevel.NATION:
        level, parent = "province", None
    elif actor.level == ScopeLevel.PROVINCE:
        level, parent = "commune", actor.unit_code
    else:
        level, parent = "commune", None
    rows = list(quality_selectors.scores(actor=actor, level=level, parent_code=parent)) if run else []
    by_kind = quality_selectors.summary_by_kind(actor=actor) if run else []
    principles = display.principle_choices()
    kinds = [(k["kind"], display.kind_title(k["kind"])) for k in by_kind] or display.kind_choices()
    filter_form = FindingFilterForm(request.GET or None, principles=principles, kinds=kinds)
    filters: dict[str, str] = {}
    if filter_form.is_valid():
        filters = {k: v for k, v in filter_form.cleaned_data.items() if v}
    findings = quality_selectors.findings(
        actor=actor, commune_code=filters.get("commune_code"), kind=filters.get("kind"),
        principle=filters.get("principle")).select_related("person") if run else QualityFinding.objects.none()
    paginator: Paginator[QualityFinding] = Paginator(findings, FINDINGS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    principle_totals = display.principle_totals(by_kind)
    return render_page(request, "registry/quality.html", {
        "available": True, "run": run, "level": level,
        "rows": [display.score_row(r) for r in rows],
        "score_chart": charts.score_bars(rows, label=lambda r: display.unit_name(r.level, r.unit_code)),
        "principle_chart": charts.count_bars([(display.principle_label(k), n, k) for k, n in principle_totals]),
        "kind_chart": charts.count_bars([(display.kind_title(k["kind"]), k["count"], k["principle"])
                                         for k in by_kind if k["count"]]),
        "by_kind": by_kind, "filter_form": filter_form, "page": page, "query": query.urlencode(),
        "may_run": run_quality_check is not None and actor.has(Permission.QUALITY_RUN),
        "communes": commune_datalist(actor), "min_persons": quality_min_persons(),
    })


@officer_view
@requires(Permission.QUALITY_RUN)
@require_POST
def quality_run(request: ConsoleRequest) -> HttpResponse:
    """Supervisors and administrators start a check; it runs in the request (the task queue
    will take it over when the project has one)."""
    if run_quality_check is None or not request.actor.has(Permission.QUALITY_RUN):
        raise PermissionDenied(_("Chỉ cán bộ giám sát hoặc quản trị được chạy kiểm tra chất lượng"))
    run = run_quality_check()
    messages.success(request, _("Đã kiểm tra %(n)s công dân, %(f)s phát hiện") % {
        "n": run.persons_checked, "f": run.finding_count})
    return redirect(reverse("registry:quality"))
