"""Quality results over HTTP, mounted at /api/v1/quality. Thin: parse, authorise, call a
selector or the engine, serialise. Every list is cut to ``request.actor``'s jurisdiction."""

# No ``from __future__ import annotations``: @paginate wraps get_findings, and ninja must resolve
# its query parameter types (the published choice lists) from real objects, not strings.
from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.params.functions import Path, Query

from popid.core.access import context_from_request
from popid.core.errors import NotFound, ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.core.schema_types import ID_NUMBER_LOOKUP, OptionalProvinceCode, enum_schema
from popid.registry.quality import selectors
from popid.registry.quality.engine import run_quality_check
from popid.registry.quality.kinds import KINDS, Principle
from popid.registry.quality.models import QualityFinding, QualityRun, QualityScore, ScoreLevel
from popid.registry.selectors import access_person

router = Router(tags=["quality"])

LevelChoice = Annotated[str, enum_schema(ScoreLevel.values)]
KindChoice = Annotated[str, enum_schema(sorted(KINDS))]
PrincipleChoice = Annotated[str, enum_schema(p.value for p in Principle)]


class NoQualityRun(NotFound):
    code = "no_quality_run"
    title = _("Chưa có lần kiểm tra chất lượng nào hoàn thành")


class RunOut(Schema):
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    persons_checked: int
    finding_count: int
    duration_seconds: float | None

    @staticmethod
    def from_run(run: QualityRun) -> "RunOut":
        return RunOut(id=run.pk, started_at=run.started_at, finished_at=run.finished_at, status=run.status,
                      persons_checked=run.persons_checked, finding_count=run.finding_count,
                      duration_seconds=run.duration_seconds)


class ScoreOut(Schema):
    level: str
    unit_code: str
    province_code: str
    persons: int
    persons_with_findings: int
    findings: int
    findings_by_principle: dict[str, int]
    findings_by_kind: dict[str, int]
    score: float
    tier: str
    tier_label: str

    @staticmethod
    def resolve_tier_label(obj: QualityScore) -> str:
        return selectors.tier_label(obj.tier)


class FindingOut(Schema):
    id_number: str
    kind: str
    kind_title: str
    principle: str
    severity: str
    detail: str
    related_id_number: str
    commune_code: str
    province_code: str

    @staticmethod
    def resolve_kind_title(obj: QualityFinding) -> str:
        spec = KINDS.get(obj.kind)
        return spec.title_vi if spec else obj.kind


def _check_choice(value: str | None, allowed: set[str], field: str) -> None:
    if value and value not in allowed:
        raise ValidationFailed([{"field": field, "reason": "invalid_choice",
                                 "message": str(_("Giá trị không hợp lệ")) + f": {value}"}])


@router.get("/runs/latest", response=RunOut)
@operation_requires(Permission.QUALITY_READ)
def get_latest_run(request: HttpRequest) -> RunOut:
    run = selectors.latest_run()
    if run is None:
        raise NoQualityRun()
    return RunOut.from_run(run)


@router.post("/runs", response={201: RunOut})
@operation_requires(Permission.QUALITY_RUN)
def post_run(request: HttpRequest) -> tuple[int, RunOut]:
    """Runs synchronously: fine up to a few million persons, which take minutes."""
    return 201, RunOut.from_run(run_quality_check())


@router.get("/scores", response=list[ScoreOut])
@operation_requires(Permission.QUALITY_READ)
def get_scores(request: HttpRequest,
               level: LevelChoice = ScoreLevel.PROVINCE,
               province: OptionalProvinceCode | None = None) -> list[QualityScore]:
    _check_choice(level, set(ScoreLevel.values), "level")
    if selectors.latest_run() is None:
        raise NoQualityRun()
    return list(selectors.scores(actor=request.actor, level=level, parent_code=province))  # type: ignore[attr-defined]


@router.get("/findings", response=list[FindingOut])
@paginate(PageNumberPagination)
@operation_requires(Permission.QUALITY_READ)
def get_findings(request: HttpRequest,
                 kind: KindChoice | None = None,
                 commune: str | None = Query(None, max_length=5),
                 principle: PrincipleChoice | None = None,
                 ) -> object:
    _check_choice(kind, set(KINDS), "kind")
    _check_choice(principle, {p.value for p in Principle}, "principle")
    return selectors.findings(actor=request.actor, commune_code=commune,  # type: ignore[attr-defined]
                              kind=kind, principle=principle)


@router.get("/persons/{id_number}/findings", response=list[FindingOut])
@operation_requires(Permission.QUALITY_READ)
def get_person_findings(request: HttpRequest,
                        id_number: str = Path(..., pattern=ID_NUMBER_LOOKUP)) -> list[QualityFinding]:
    """A read of one person's data: jurisdiction-checked and recorded like any registry read
    (404 outside the jurisdiction, exactly as for a missing person)."""
    person = access_person(ctx=context_from_request(request), id_number=id_number, fields=["quality_findings"])
    return list(selectors.findings_for_person(id_number=person.id_number, actor=request.actor))  # type: ignore[attr-defined]
