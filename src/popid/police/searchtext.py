"""What the free-text search of reports and case files matches: the accent-free copy
(``search_text``) of a report and of a case file, built in one place for the services (after every
write), the data migration (existing rows) and the search (``selectors.search_reports`` /
``search_cases``, used by the records app's cross-record search too).

Works on live and on migration (historical) models alike: it reads only fields and related
managers (``events``, ``notes``, ``documents``, ``evidence``)."""

from __future__ import annotations

from typing import Any

from popid.core.fulltext import search_text


def report_text(report: Any) -> str:
    """Receipt number, description and the officers' notes of the handling steps."""
    notes = report.events.exclude(internal_note="").order_by("id").values_list("internal_note", flat=True)
    return search_text(report.code, report.description, *notes)


def case_text(case: Any) -> str:
    """Case number and title, the report's number and description, notes, document titles and the
    evidence (label and description). Persons are not in it: a person is searched by ID number or
    name through the case's person links, which records an access."""
    report = case.report
    notes = case.notes.order_by("id").values_list("text", flat=True)
    documents = case.documents.order_by("id").values_list("title", flat=True)
    evidence = [f"{label} {description}" for label, description in
                case.evidence.order_by("id").values_list("label", "description")]
    return search_text(case.number, case.title, report.code if report else "", report.description if report else "",
                       *notes, *documents, *evidence)


def snippet_source(case: Any) -> str:
    """The original text a case hit's snippet is cut from (title and the report's description)."""
    return f"{case.title} {case.report.description if case.report else ''}"
