"""Reads of digitised records and the cross-record search. Everything is cut to the officer's
jurisdiction: a commune unit sees its own records, a province unit its own and its communes',
national staff all; outside it a record looks exactly like a missing one. Every registry person
shown (a proposed or confirmed link, a person searched by ID number) is written to the access log.

Police reports and case files are searched through police's own selectors
(``police.selectors.search_reports`` / ``search_cases``): the handling unit, and for a secret case
only its assigned investigators and the supervisors over the unit, decided there; their text is the
accent-free ``search_text`` police keeps up to date (``police.searchtext``). Every list is paged
(``PAGE_SIZE``) in the database."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import fulltext
from popid.core.access import AccessContext, Actor, record_access
from popid.core.admin_units import communes_by_province, province_of_commune
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission
from popid.core.text import normalize_text
from popid.police import searchtext
from popid.police import selectors as police_selectors
from popid.police.models import CasePerson
from popid.records.errors import RecordNotFound
from popid.records.models import LinkState, OcrState, PersonLink, RecordPage, ScannedRecord
from popid.registry.models import Person

LEGAL_BASIS = "Luật Căn cước 2023, Điều 9; Kế hoạch 377 (số hoá hồ sơ)"
PERSON_FIELDS = ("full_name", "birth_date", "id_number", "commune_code")
PAGE_SIZE = 50  # hits per list and page
MAX_PAGE = 200
KINDS = ("pages", "reports", "cases")


def province_of_unit(unit_code: str) -> str:
    return unit_code if len(unit_code) == 2 else (province_of_commune(unit_code) or "")


def unit_q(actor: Actor, prefix: str = "") -> Q:
    """Rows of the actor's units (``unit_code``/``province_code`` columns of records and pages)."""
    if actor.is_citizen:
        return Q(pk__in=[])
    if actor.level == ScopeLevel.NATION:
        return Q()
    if actor.level == ScopeLevel.COMMUNE:
        return Q(**{f"{prefix}unit_code": actor.unit_code})
    return Q(**{f"{prefix}province_code": actor.unit_code})


def units_of(actor: Actor) -> list[str]:
    """Units the officer may upload for: their own; a province unit also its communes."""
    if actor.level == ScopeLevel.COMMUNE:
        return [actor.unit_code]
    if actor.level == ScopeLevel.PROVINCE:
        return [actor.unit_code, *[u.code for u in communes_by_province().get(actor.unit_code, [])]]
    return []  # national staff: any unit


def records_for(*, actor: Actor, state: str = "") -> QuerySet[ScannedRecord]:
    qs = ScannedRecord.objects.filter(unit_q(actor)).defer("content").order_by("-uploaded_at", "-id")
    return qs.filter(ocr_state=state) if state else qs


def record_for_officer(*, actor: Actor, pk: int, for_update: bool = False) -> ScannedRecord:
    qs = ScannedRecord.objects.select_for_update() if for_update else ScannedRecord.objects.all()
    record = qs.filter(pk=pk).first()
    if record is None or not police_selectors.covers_unit(actor, record.unit_code):
        raise RecordNotFound()
    return record


def record_context(actor: Actor, record: ScannedRecord, channel: str = "console") -> AccessContext:
    return AccessContext(actor=actor, purpose=f"Số hoá hồ sơ {record.original_ref or record.pk}: liên kết công dân",
                         legal_basis=LEGAL_BASIS, channel=channel)


def access_record_links(*, actor: Actor, record: ScannedRecord, channel: str = "console") -> list[PersonLink]:
    """The record's proposed and confirmed links with their persons; each person shown is an
    access record (rejected links are listed without the person)."""
    links = list(PersonLink.objects.filter(record=record).select_related("person", "decided_by"))
    shown = [link.person.id_number for link in links if link.state != LinkState.REJECTED]
    if shown:
        record_access(ctx=record_context(actor, record, channel), person_id_numbers=shown, fields=PERSON_FIELDS)
    return links


def person_for_record(*, actor: Actor, record: ScannedRecord, id_number: str, channel: str = "console") -> Person:
    """Look up the person an officer links by number: refused (nothing written) when no registry
    person holds the number; otherwise an access record."""
    from popid.records.linking import person_for_number

    number = (id_number or "").strip()
    person = person_for_number(number) if number.isdigit() and len(number) in {9, 12} else None
    if person is None:
        from popid.core.errors import ValidationFailed

        raise ValidationFailed([{"field": "id_number", "reason": "unknown_person",
                                 "message": _("Không có công dân mang số định danh hoặc CMND này")}])
    record_access(ctx=record_context(actor, record, channel), person_id_numbers=[person.id_number],
                  fields=PERSON_FIELDS)
    return person


# --- progress (Plan 377) ---------------------------------------------------------------------------
@dataclass
class UnitProgress:
    unit_code: str
    records: int = 0
    pages: int = 0
    ocr_done: int = 0
    ocr_waiting: int = 0
    ocr_failed: int = 0
    linked: int = 0  # records with at least one confirmed person link
    proposals: int = 0  # links waiting for an officer

    @property
    def ocr_percent(self) -> float:
        return round(100 * self.ocr_done / self.records, 1) if self.records else 0.0

    @property
    def linked_percent(self) -> float:
        return round(100 * self.linked / self.records, 1) if self.records else 0.0


def progress(*, actor: Actor) -> list[UnitProgress]:
    """Records scanned, OCR done, linked, per unit of the officer's jurisdiction."""
    rows: dict[str, UnitProgress] = {}
    base = ScannedRecord.objects.filter(unit_q(actor))
    for row in base.values("unit_code", "ocr_state").annotate(n=Count("id")).order_by():
        unit = rows.setdefault(row["unit_code"], UnitProgress(row["unit_code"]))
        unit.records += row["n"]
        if row["ocr_state"] == OcrState.DONE:
            unit.ocr_done += row["n"]
        elif row["ocr_state"] == OcrState.FAILED:
            unit.ocr_failed += row["n"]
        else:
            unit.ocr_waiting += row["n"]
    pages = RecordPage.objects.filter(unit_q(actor)).values_list("unit_code").annotate(n=Count("id")).order_by()
    for unit_code, count in pages:
        if unit_code in rows:
            rows[unit_code].pages = count
    linked = (PersonLink.objects.filter(unit_q(actor, "record__"), state=LinkState.CONFIRMED)
              .values_list("record__unit_code").annotate(n=Count("record", distinct=True)).order_by())
    for unit_code, count in linked:
        rows[unit_code].linked = count
    waiting = (PersonLink.objects.filter(unit_q(actor, "record__"), state=LinkState.PROPOSED)
               .values_list("record__unit_code").annotate(n=Count("id")).order_by())
    for unit_code, count in waiting:
        rows[unit_code].proposals = count
    return sorted(rows.values(), key=lambda u: u.unit_code)


# --- search ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchQuery:
    text: str = ""  # free text, with or without diacritics
    person: str = ""  # an ID number (12 or 9 digits) or a name
    place: str = ""  # a commune code (or province code)
    category: str = ""  # a record kind or a report category code
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""  # "" = every list; "pages" | "reports" | "cases" = only that one (its next pages)
    page: int = 1  # 1-based, PAGE_SIZE hits per list

    @property
    def empty(self) -> bool:
        return not (fulltext.query_words(self.text) or self.person.strip() or self.place.strip()
                    or self.category.strip() or self.date_from or self.date_to)


@dataclass
class SearchHit:
    kind: str  # "page" | "report" | "case"
    key: str  # record pk, report code, case number
    title: str
    when: datetime
    unit_code: str
    snippet: str = ""
    page: int | None = None


@dataclass
class SearchResults:
    pages: list[SearchHit] = field(default_factory=list)
    reports: list[SearchHit] = field(default_factory=list)
    cases: list[SearchHit] = field(default_factory=list)
    person: Person | None = None
    seconds: float = 0.0
    page: int = 1
    more: dict[str, bool] = field(default_factory=dict)  # per list: is there a next page?


def text_filter(words: list[str]) -> Q | Any:
    """Pages containing every word (``core.fulltext``): PostgreSQL the stored tsvector of the
    accent-free text (``text_tsv``, GIN index ``records_page_fts``, migration 0002), elsewhere
    substrings of ``text_norm``."""
    return fulltext.words_filter(words, column="text_norm", tsv_sql="records_recordpage.text_tsv")


def search_pages_qs(*, actor: Actor, text: str) -> QuerySet[RecordPage]:
    """Accent-free full-text search of digitised pages in the officer's jurisdiction (the query
    behind the search page and the benchmark)."""
    words = fulltext.query_words(text)
    qs = RecordPage.objects.filter(unit_q(actor))
    if words:
        qs = qs.filter(text_filter(words))
    return qs


def _snippet(text_norm: str, original: str, words: list[str], width: int = 160) -> str:
    at = min((text_norm.find(w) for w in words if w in text_norm), default=0)
    start = max(0, at - width // 3)
    body = " ".join(original.split())
    return ("…" if start else "") + body[start:start + width] + ("…" if start + width < len(body) else "")


def _when(value: date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    return timezone.make_aware(datetime.combine(value, dtime.max if end else dtime.min))


def _page_of(qs: QuerySet[Any], page: int) -> tuple[list[Any], bool]:
    """One page of an ordered queryset in the database (one query: PAGE_SIZE + 1 rows tell whether
    there is a next page)."""
    start = (page - 1) * PAGE_SIZE
    rows = list(qs[start:start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def search(*, actor: Actor, query: SearchQuery, channel: str = "console") -> SearchResults:
    """Digitised pages, crime reports and case files matching every criterion given, within the
    officer's jurisdiction; secret cases only for those who may open them. Each list is one query
    in the database, newest first, ``PAGE_SIZE`` hits a page (``query.page``; ``query.kind``
    restricts the search to one list)."""
    started = time.perf_counter()
    page_no = min(max(query.page, 1), MAX_PAGE)
    results = SearchResults(page=page_no)
    if query.empty:
        return results
    words = fulltext.query_words(query.text)
    wanted = {query.kind} if query.kind in KINDS else set(KINDS)
    person_q = query.person.strip()
    person: Person | None = None
    person_name = ""
    if person_q.isdigit() and len(person_q) in {9, 12}:
        from popid.records.linking import person_for_number

        person = person_for_number(person_q)
        if person is not None:
            record_access(ctx=AccessContext(actor=actor, purpose="Tìm kiếm hồ sơ nghiệp vụ theo công dân",
                                            legal_basis=LEGAL_BASIS, channel=channel),
                          person_id_numbers=[person.id_number], fields=PERSON_FIELDS)
        results.person = person
    elif person_q:
        person_name = normalize_text(person_q)
    start, end = _when(query.date_from), _when(query.date_to, end=True)
    place = query.place.strip()

    if "pages" in wanted:
        results.pages, results.more["pages"] = _search_pages(actor, query, words, person, person_name, place,
                                                             start, end, page_no)
    if actor.has(Permission.POLICE_READ):
        if "reports" in wanted:
            results.reports, results.more["reports"] = _search_reports(actor, query, words, place, start, end,
                                                                       page_no)
        if "cases" in wanted:
            results.cases, results.more["cases"] = _search_cases(actor, query, words, person, person_name, place,
                                                                 start, end, page_no)
    results.seconds = time.perf_counter() - started
    return results


def _search_pages(actor: Actor, query: SearchQuery, words: list[str], person: Person | None, person_name: str,
                  place: str, start: datetime | None, end: datetime | None,
                  page_no: int) -> tuple[list[SearchHit], bool]:
    person_q = query.person.strip()
    pages = search_pages_qs(actor=actor, text=query.text).select_related("record")
    if place:
        pages = pages.filter(province_code=place) if len(place) == 2 else pages.filter(unit_code=place)
    if query.category:
        pages = pages.filter(record__kind=query.category)
    if start:
        pages = pages.filter(record__uploaded_at__gte=start)
    if end:
        pages = pages.filter(record__uploaded_at__lte=end)
    if person_q:
        if person is not None:
            pages = pages.filter(Q(record__links__person=person, record__links__state=LinkState.CONFIRMED)
                                 | Q(text_norm__contains=person_q))
        elif person_name:
            pages = pages.filter(Q(record__links__person__name_norm=person_name,
                                   record__links__state=LinkState.CONFIRMED) | Q(text_norm__contains=person_name))
        else:
            pages = pages.filter(text_norm__contains=person_q)
        pages = pages.distinct()  # a page of a record with several links would otherwise repeat
    rows, more = _page_of(pages.defer("record__content").order_by("-record_id", "number"), page_no)
    return [SearchHit(kind="page", key=str(page.record_id), title=page.record.title, when=page.record.uploaded_at,
                      unit_code=page.unit_code, page=page.number, snippet=_snippet(page.text_norm, page.text, words))
            for page in rows], more


def _search_reports(actor: Actor, query: SearchQuery, words: list[str], place: str, start: datetime | None,
                    end: datetime | None, page_no: int) -> tuple[list[SearchHit], bool]:
    if query.person.strip():
        return [], False  # reports name no registry person (the reporter's account is not searchable here)
    qs = police_selectors.search_reports(actor=actor, words=words)
    if place:
        qs = qs.filter(commune_code__startswith=place) if len(place) == 2 else qs.filter(commune_code=place)
    if query.category:
        qs = qs.filter(category_code=query.category)
    if start:
        qs = qs.filter(occurred_at__gte=start)
    if end:
        qs = qs.filter(occurred_at__lte=end)
    rows, more = _page_of(qs.only("code", "description", "occurred_at", "unit_code").order_by("-received_at", "-id"),
                          page_no)
    return [SearchHit(kind="report", key=report.code, title=report.code, when=report.occurred_at,
                      unit_code=report.unit_code,
                      snippet=_snippet(normalize_text(report.description), report.description, words))
            for report in rows], more


def _search_cases(actor: Actor, query: SearchQuery, words: list[str], person: Person | None, person_name: str,
                  place: str, start: datetime | None, end: datetime | None,
                  page_no: int) -> tuple[list[SearchHit], bool]:
    qs = police_selectors.search_cases(actor=actor, words=words).select_related("report")
    if place:
        qs = (qs.filter(report__commune_code__startswith=place) if len(place) == 2
              else qs.filter(Q(report__commune_code=place) | Q(unit_code=place)))
    if query.category:
        qs = qs.filter(report__category_code=query.category)
    if start:
        qs = qs.filter(opened_at__gte=start)
    if end:
        qs = qs.filter(opened_at__lte=end)
    if person is not None:
        qs = qs.filter(pk__in=CasePerson.objects.filter(person=person).values("case_id"))
    elif person_name:
        qs = qs.filter(pk__in=CasePerson.objects.filter(person__name_norm=person_name).values("case_id"))
    elif query.person.strip():
        return [], False
    rows, more = _page_of(qs.defer("search_text").order_by("-opened_at", "-id"), page_no)
    hits = []
    for case in rows:
        text = searchtext.snippet_source(case)
        hits.append(SearchHit(kind="case", key=case.number, title=f"{case.number} · {case.title}",
                              when=case.opened_at, unit_code=case.unit_code,
                              snippet=_snippet(normalize_text(text), text, words)))
    return hits, more


def report_categories() -> dict[str, Any]:
    from popid.police.catalogue import categories

    return dict(categories())

