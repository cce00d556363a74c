"""Demo dossiers for ``popid seed`` / ``make run``: for Phường Hoàn Kiếm (00070) and the demo
commune in TP Hồ Chí Minh, temporary-residence dossiers submitted online by the demo citizens and
moved through the workflow services (never raw inserts) into every state: submitted (one overdue), in review,
supplement requested, approved (the registry change applied by the approval) and rejected.

Idempotent: nothing is created when any dossier exists."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from popid.core.access import Actor
from popid.core.demo_accounts import demo_account_specs
from popid.core.errors import DomainError
from popid.core.models import Role, ScopeLevel
from popid.identity.models import CitizenAccount
from popid.registry.models import PersonStatus
from popid.registry.validation import today as registry_today
from popid.services import services
from popid.services.models import Dossier, DossierState

DEMO_PDF = b"%PDF-1.4\n% PopID demo: hop dong thue nha\n%%EOF\n"
S = DossierState
# (target state, days before now the dossier was received)
PLAN = [(S.SUBMITTED, 0), (S.SUBMITTED, 12), (S.IN_REVIEW, 2), (S.SUPPLEMENT_REQUESTED, 3), (S.APPROVED, 4),
        (S.REJECTED, 5)]


def _officers() -> list[Actor]:
    """The demo commune officers (Hoàn Kiếm first), or a national system actor per demo unit."""
    user_model = get_user_model()
    actors = []
    for username, role, level, unit_code, _description in demo_account_specs():
        if role != Role.OFFICER or level != ScopeLevel.COMMUNE:
            continue
        user = user_model.objects.filter(username=username).first()
        actors.append(Actor.for_user(user) if user is not None else
                      Actor(label="seed", role=Role.OFFICER, level=ScopeLevel.COMMUNE, unit_code=unit_code,
                            unit_name=f"Công an xã/phường {unit_code}"))
    return sorted(actors, key=lambda a: a.unit_code != "00070")


def _citizens() -> list[CitizenAccount]:
    return list(CitizenAccount.objects.filter(user__is_active=True, person__status=PersonStatus.ALIVE)
                .select_related("person").order_by("pk")[:10])


def _data(unit_code: str, n: int) -> dict[str, str]:
    start: date = registry_today()
    return {"commune_code": unit_code, "address": f"{n + 5} phố Hàng Gai (nhà thuê)" if unit_code == "00070"
            else f"{n + 12} đường Đồng Khởi (nhà thuê)", "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=365)).isoformat(), "reason": "Đi làm, thuê nhà ở"}


def _build(actor: Actor, account: CitizenAccount, state: str, days_ago: int, n: int) -> Dossier:
    now = timezone.now() - timedelta(days=days_ago)
    dossier, _created = services.submit_dossier(
        account=account, procedure_code="temporary_residence", data=_data(actor.unit_code, n), now=now,
        idempotency_key=f"demo-{actor.unit_code}-{n}",
        attachments=[services.IncomingFile("proof_of_residence", "hop-dong-thue-nha.pdf", DEMO_PDF,
                                           "application/pdf")])
    if state == S.SUBMITTED:
        return dossier
    if state == S.REJECTED:
        return services.reject(actor=actor, code=dossier.code, expected_version=dossier.version,
                               reason="Hợp đồng thuê nhà không có chữ ký của chủ nhà (dữ liệu mẫu)")
    dossier = services.claim(actor=actor, code=dossier.code, expected_version=dossier.version)
    if state == S.SUPPLEMENT_REQUESTED:
        return services.request_supplement(actor=actor, code=dossier.code, expected_version=dossier.version,
                                           note="Bổ sung bản sao giấy tờ nhà đất của chủ nhà (dữ liệu mẫu)")
    if state == S.APPROVED:
        return services.approve(actor=actor, code=dossier.code, expected_version=dossier.version,
                                note="Đủ điều kiện đăng ký tạm trú (dữ liệu mẫu)")
    return dossier


def ensure_demo_dossiers() -> list[Dossier]:
    """Create the demo dossiers when there is no dossier at all; returns what was created."""
    if Dossier.objects.exists():
        return []
    citizens = _citizens()
    created: list[Dossier] = []
    for unit_index, actor in enumerate(_officers()):
        for n, (state, days_ago) in enumerate(PLAN):
            for i in range(len(citizens)):
                account = citizens[(n + i + unit_index) % len(citizens)]  # distinct approved subjects
                try:
                    with transaction.atomic():  # a refused step leaves no half-built dossier
                        created.append(_build(actor, account, state, days_ago, n))
                    break
                except DomainError:
                    continue
    return created


def format_dossiers(dossiers: list[Dossier]) -> str:
    return "\n".join(f"  {d.code}  {d.commune_code}  {S(d.state).label}  {d.subject.full_name}" for d in dossiers)
