"""Clerical review pages in the officer console: the queue, one pair side by side with the
evidence as a waterfall of match weights, and the three decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from popid.core import admin_units
from popid.core.access import AccessContext
from popid.core.errors import DomainError
from popid.core.permissions import Permission, requires
from popid.matching import selectors, services
from popid.matching.models import CandidatePair
from popid.web.shell import ConsoleRequest, apply_domain_error, officer_view

if TYPE_CHECKING:
    from popid.registry.models import Person

PURPOSE_REVIEW = "Xem xét cặp hồ sơ nghi trùng (so khớp xác suất)"

COMPARISONS = {
    "name": gettext_lazy("Họ tên"), "middle_name": gettext_lazy("Tên đệm"), "birth": gettext_lazy("Ngày sinh"),
    "sex": gettext_lazy("Giới tính"), "document": gettext_lazy("Số giấy tờ"),
    "admin_unit": gettext_lazy("Nơi cư trú"), "phone": gettext_lazy("Số điện thoại"),
    "family": gettext_lazy("Cha mẹ, nơi đăng ký khai sinh, quê quán"),
}
# the model's level labels (engine.py, label_for_charts) as officers read them
LEVELS = {
    "same name with diacritics": gettext_lazy("trùng họ tên có dấu"),
    "same name without diacritics": gettext_lazy("trùng họ tên khi bỏ dấu"),
    "same words in another order": gettext_lazy("cùng các chữ, khác thứ tự"),
    "one letter different": gettext_lazy("khác một chữ cái"),
    "same family and given name, middle name differs or missing":
        gettext_lazy("trùng họ và tên, tên đệm khác hoặc thiếu"),
    "same middle name": gettext_lazy("trùng tên đệm"),
    "same birth date": gettext_lazy("trùng ngày sinh"),
    "day and month swapped": gettext_lazy("ngày và tháng bị đảo"),
    "same year, one side knows only the year": gettext_lazy("trùng năm, một bên chỉ có năm sinh"),
    "one digit different": gettext_lazy("khác một chữ số"),
    "same year and month, another day": gettext_lazy("trùng năm và tháng, khác ngày"),
    "same year": gettext_lazy("trùng năm sinh"),
    "same sex": gettext_lazy("cùng giới tính"),
    "same ID number": gettext_lazy("trùng số định danh"),
    "same old 9-digit ID card number": gettext_lazy("trùng số CMND 9 số"),
    "two different old 9-digit ID card numbers": gettext_lazy("hai số CMND 9 số khác nhau"),
    "same commune": gettext_lazy("cùng xã/phường"),
    "same province": gettext_lazy("cùng tỉnh/thành phố"),
    "same phone": gettext_lazy("trùng số điện thoại"),
    "same parents' names and birth registration commune": gettext_lazy("trùng tên cha mẹ và xã đăng ký khai sinh"),
    "same parents' names": gettext_lazy("trùng tên cha mẹ"),
    "one parent's name the same": gettext_lazy("trùng tên cha hoặc mẹ"),
    "same birth registration commune or hometown": gettext_lazy("trùng xã đăng ký khai sinh hoặc quê quán"),
    "All other comparisons": gettext_lazy("khác nhau"),
    "null": gettext_lazy("thiếu dữ liệu"),
}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("same", gettext_lazy("Cùng một người — hợp nhất")),
                                          ("different", gettext_lazy("Hai người khác nhau")),
                                          ("unsure", gettext_lazy("Chưa chắc chắn — chuyển cấp tỉnh"))],
                                 widget=forms.RadioSelect, label=gettext_lazy("Quyết định"))
    survivor = forms.ChoiceField(choices=[("left", gettext_lazy("Giữ hồ sơ bên trái")),
                                          ("right", gettext_lazy("Giữ hồ sơ bên phải"))],
                                 widget=forms.RadioSelect, initial="left", required=False,
                                 label=gettext_lazy("Hồ sơ giữ lại khi hợp nhất"))
    note = forms.CharField(label=gettext_lazy("Ghi chú"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


@dataclass
class Bar:
    label: str
    level: str
    weight: float
    x: float
    width: float
    y: int
    positive: bool


WATERFALL_WIDTH, WATERFALL_ROW = 560, 26


def waterfall(pair: CandidatePair) -> dict[str, Any]:
    """Server-side SVG geometry: the prior, then each comparison's weight from the running total."""
    steps = [(str(_("Xác suất tiên nghiệm")), "", pair.match_weight - sum(r["weight"] for r in pair.evidence))]
    for row in pair.evidence:
        level = row.get("level", "")
        steps.append((str(COMPARISONS.get(row["comparison"], row["comparison"])), str(LEVELS.get(level, level)),
                      row["weight"]))
    running, points = 0.0, []
    for _label, _level, weight in steps:
        points += [running, running + weight]
        running += weight
    low, high = min([*points, 0.0]), max([*points, 0.0])
    scale = (WATERFALL_WIDTH - 20) / ((high - low) or 1.0)
    bars, running = [], 0.0
    for i, (label, level, weight) in enumerate(steps):
        start, end = sorted((running, running + weight))
        bars.append(Bar(label, level, round(weight, 2), 10 + (start - low) * scale, max(1.0, (end - start) * scale),
                        i * WATERFALL_ROW, weight >= 0))
        running += weight
    return {"bars": bars, "zero": 10 + (0 - low) * scale, "height": len(bars) * WATERFALL_ROW,
            "width": WATERFALL_WIDTH, "total": round(pair.match_weight, 2)}


def _record(person: Person) -> dict[str, str]:
    birth = person.birth_date.isoformat() if person.birth_date and person.birth_date_precision == "day" \
        else str(person.birth_year)
    return {
        str(_("Họ và tên")): person.full_name, str(_("Ngày sinh")): birth,
        str(_("Giới tính")): person.get_sex_display(),
        str(_("Số định danh")): person.id_number, str(_("Số CMND cũ")): person.old_id_number,
        str(_("Nơi sinh")): person.birth_place, str(_("Quê quán")): person.hometown,
        str(_("Nơi cư trú")): admin_units.commune_label(person.commune_code), str(_("Điện thoại")): person.phone,
    }


def _ctx(request: ConsoleRequest) -> AccessContext:
    return AccessContext(actor=request.actor, purpose=PURPOSE_REVIEW, channel="console")


@officer_view
@requires(Permission.MATCH_READ)
def queue(request: ConsoleRequest) -> HttpResponse:
    pairs = selectors.review_queue(actor=request.actor)
    return render(request, "matching/queue.html", {"pairs": pairs})


def _pair_page(request: ConsoleRequest, pair_id: int, form: DecisionForm | None = None,
               status: int = 200) -> HttpResponse:
    pair = selectors.access_pair(ctx=_ctx(request), pair_id=pair_id)
    left, right = _record(pair.left), _record(pair.right)
    rows = [(name, left[name], right[name], left[name] != right[name]) for name in left]
    return render(request, "matching/pair.html", {
        "pair": pair, "rows": rows, "chart": waterfall(pair), "may_write": request.actor.may_write,
        "form": form or DecisionForm(initial={"version": pair.version, "survivor": "left"})}, status=status)


@officer_view
@requires(Permission.MATCH_READ)
def pair_detail(request: ConsoleRequest, pair_id: int) -> HttpResponse:
    return _pair_page(request, pair_id)


@officer_view
@requires(Permission.MATCH_DECIDE)
@require_POST
def decide(request: ConsoleRequest, pair_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            pair = CandidatePair.objects.select_related("left", "right").filter(pk=pair_id).first()
            survivor = None
            if pair is not None:
                survivor = (pair.right if data.get("survivor") == "right" else pair.left).id_number
            services.decide_pair(actor=request.actor, pair_id=pair_id, decision=data["decision"],
                                 expected_version=data["version"], note=data.get("note", ""),
                                 survivor_id_number=survivor)
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _pair_page(request, pair_id, form=form, status=exc.status)
        messages.success(request, _("Đã ghi quyết định cho cặp hồ sơ %(id)d") % {"id": pair_id})
        return redirect("matching:queue")
    return _pair_page(request, pair_id, form=form, status=422)
