"""Demo dossiers for ``popid seed`` / ``make run``: for Phường Hoàn Kiếm (00070) and the demo
commune in TP Hồ Chí Minh, temporary-residence dossiers submitted online by the demo citizens and
moved through the workflow services (never raw inserts) into every state: submitted (one overdue), in review,
supplement requested, approved (the registry change applied by the approval) and rejected.

Idempotent: nothing is created when any dossier exists."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from popid.core import admin_units
from popid.core.access import Actor
from popid.core.demo_accounts import demo_account_specs
from popid.core.errors import DomainError
from popid.core.models import Role, ScopeLevel
from popid.identity.models import CitizenAccount
from popid.registry.models import HistoryEntry, Person, PersonStatus, ResidenceKind
from popid.registry.validation import today as registry_today
from popid.services import dossiers
from popid.services.calendar import LOCAL_TZ, add_working_days, deadline_for, is_working_day
from popid.services.models import Channel, Dossier, DossierEvent, DossierState

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
    dossier, _created = dossiers.submit_dossier(
        account=account, procedure_code="temporary_residence", data=_data(actor.unit_code, n), now=now,
        idempotency_key=f"demo-{actor.unit_code}-{n}",
        attachments=[dossiers.IncomingFile("proof_of_residence", "hop-dong-thue-nha.pdf", DEMO_PDF,
                                           "application/pdf")])
    if state == S.SUBMITTED:
        return dossier
    if state == S.REJECTED:
        return dossiers.reject(actor=actor, code=dossier.code, expected_version=dossier.version,
                               reason="Hợp đồng thuê nhà không có chữ ký của chủ nhà (dữ liệu mẫu)")
    dossier = dossiers.claim(actor=actor, code=dossier.code, expected_version=dossier.version)
    if state == S.SUPPLEMENT_REQUESTED:
        return dossiers.request_supplement(actor=actor, code=dossier.code, expected_version=dossier.version,
                                           note="Bổ sung bản sao giấy tờ nhà đất của chủ nhà (dữ liệu mẫu)")
    if state == S.APPROVED:
        return dossiers.approve(actor=actor, code=dossier.code, expected_version=dossier.version,
                                note="Đủ điều kiện đăng ký tạm trú (dữ liệu mẫu)")
    return dossier


def ensure_demo_dossiers() -> list[Dossier]:
    """Create the demo dossiers when there is no dossier at all, and the months of history behind
    the statistics page when they are missing; returns what was created."""
    if Dossier.objects.exists():
        return ensure_history()
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
    return created + ensure_history()


def format_dossiers(dossiers: list[Dossier]) -> str:
    """One line per current demo dossier, one summary line for the months of history."""
    history = [d for d in dossiers if d.idempotency_key.startswith(HISTORY_MARK) or d.received_by.startswith(
        HISTORY_OFFICER_PREFIX)]
    current = [d for d in dossiers if d not in history]
    lines = [f"  {d.code}  {d.commune_code}  {S(d.state).label}  {d.subject.full_name}" for d in current]
    if history:
        units = {d.commune_code for d in history}
        lines.append(f"  … và {len(history)} hồ sơ trong {HISTORY_MONTHS} tháng qua tại {len(units)} xã/phường "
                     f"(trực tuyến và trực tiếp), xem /services/statistics/")
    return "\n".join(lines)


# --- months of history for the statistics page -----------------------------------------------------
# Dossiers received over the past HISTORY_MONTHS months in the two demo units and the most
# populated communes of a few other provinces, online and at the counter, most decided (some late),
# a few still open and overdue. Each one goes through the workflow services (submit or counter
# intake, claim, approve / reject / cancel) exactly like live dossiers; the services stamp "now", so
# afterwards, in this demo seeding only, the dossier's received/decided times, its events and the
# registry history entry of its approval are moved back to the planned past moments (deadline
# recomputed with the working-day calendar). Online dossiers need an account for the subject:
# HISTORY_ACCOUNTS level-1 accounts without a usable password are created for sampled adults
# (user first_name HISTORY_MARK; they cannot log in). Idempotent: nothing is added when those
# accounts exist. Deterministic (fixed random seed).
HISTORY_MARK = "demo-history"
HISTORY_OFFICER_PREFIX = "canbo.mau."
HISTORY_MONTHS = 6
HISTORY_UNITS = 8  # the two demo units and the most populated communes of other provinces
HISTORY_ACCOUNTS = 6  # online applicants per unit
HISTORY_PER_UNIT = (14, 30)
CT07_PURPOSES = ["Bổ sung hồ sơ xin việc", "Nhập học cho con", "Vay vốn ngân hàng", "Thủ tục mua bán nhà đất",
                 "Đăng ký kết hôn", "Hồ sơ đi làm việc ở nước ngoài"]
ABSENCE_PLACES = ["Thành phố Đà Nẵng", "Tỉnh Bình Dương cũ, nay Thành phố Hồ Chí Minh", "Hàn Quốc", "Nhật Bản",
                  "Thành phố Hải Phòng", "Tỉnh Khánh Hòa"]


@dataclass(frozen=True)
class _Unit:
    actor: Actor
    residents: list[Person]
    online_base: float
    late_share: float


def _history_units(rng: random.Random) -> list[_Unit]:
    from django.db.models import Count

    adults = (Person.objects.filter(status=PersonStatus.ALIVE, birth_date__lte=registry_today() - timedelta(days=
              18 * 366), residences__kind=ResidenceKind.PERMANENT, residences__ended_on__isnull=True)
              .exclude(identity_accounts__isnull=False))
    demo_units = [a.unit_code for a in _officers()]
    ranked = (adults.values("commune_code", "province_code").annotate(n=Count("pk", distinct=True))
              .order_by("-n", "commune_code"))
    codes, provinces = list(demo_units), {admin_units.province_of_commune(c) for c in demo_units}
    for row in ranked:
        if len(codes) >= HISTORY_UNITS:
            break
        if row["province_code"] not in provinces and row["n"] >= 4:
            codes.append(row["commune_code"])
            provinces.add(row["province_code"])
    units = []
    for code in codes:
        residents = list(adults.filter(commune_code=code).distinct().order_by("pk")[:40])
        if not residents:
            continue
        unit = admin_units.commune(code)
        actor = Actor(label=f"{HISTORY_OFFICER_PREFIX}{code}", role=Role.OFFICER, level=ScopeLevel.COMMUNE,
                      unit_code=code, unit_name=f"Công an {unit.name}" if unit else code)
        units.append(_Unit(actor=actor, residents=residents, online_base=rng.uniform(0.25, 0.7),
                           late_share=rng.choice([0.03, 0.08, 0.15, 0.3])))
    return units


def _history_account(person: Person) -> CitizenAccount:
    user = get_user_model()(username=person.id_number, first_name=HISTORY_MARK)
    user.set_unusable_password()
    user.save()
    return CitizenAccount.objects.create(user=user, person=person, level=1, phone=f"09{person.pk % 10**8:08d}",
                                         phone_verified_at=timezone.now())


def _working_moment(rng: random.Random, day: date, earliest: datetime | None = None) -> datetime:
    while not is_working_day(day):
        day += timedelta(days=1)
    moment = datetime.combine(day, time(7, 30), tzinfo=LOCAL_TZ) + timedelta(minutes=rng.randrange(0, 9 * 60))
    return max(moment, earliest + timedelta(minutes=rng.randrange(20, 180))) if earliest else moment


def _request_data(rng: random.Random, procedure: str, received: datetime) -> dict[str, str]:
    if procedure == "residence_confirmation":
        return {"purpose": rng.choice(CT07_PURPOSES)}
    until = max(received.date() + timedelta(days=rng.randrange(180, 540)), registry_today() + timedelta(days=30))
    return {"reason": "Đi làm ăn xa (dữ liệu mẫu)", "destination": rng.choice(ABSENCE_PLACES),
            "absent_from": received.date().isoformat(), "absent_until": until.isoformat()}


def _backdate(dossier: Dossier, moments: list[datetime], decided: datetime | None) -> Dossier:
    received = moments[0]
    for event, moment in zip(dossier.events.order_by("pk"), moments, strict=False):
        DossierEvent.objects.filter(pk=event.pk).update(at=moment)
    Dossier.objects.filter(pk=dossier.pk).update(received_at=received, decided_at=decided,
                                                 deadline=deadline_for(received, dossier_deadline_days(dossier)))
    if decided is not None:
        HistoryEntry.objects.filter(reason__contains=dossier.code).update(at=decided)
    dossier.refresh_from_db()
    return dossier


def dossier_deadline_days(dossier: Dossier) -> int:
    from popid.services.procedures import get_procedure

    return get_procedure(dossier.procedure_code).deadline_working_days


def _one_history_dossier(rng: random.Random, unit: _Unit, accounts: dict[int, CitizenAccount], received: datetime,
                         online_share: float, recent: bool) -> Dossier:
    online = bool(accounts) and rng.random() < online_share
    person = rng.choice([a.person for a in accounts.values()] if online else unit.residents)
    procedure = "residence_confirmation" if rng.random() < 0.7 else "absence_declaration"
    data = _request_data(rng, procedure, received)
    account = accounts.get(person.pk)
    if online and account is not None:
        dossier, _created = dossiers.submit_dossier(
            account=account, procedure_code=procedure, data=data, now=received,
            idempotency_key=f"{HISTORY_MARK}-{received:%y%m%d%H%M}-{person.pk}")
    else:
        dossier = dossiers.register_counter_dossier(actor=unit.actor, procedure_code=procedure,
                                                    subject_id_number=person.id_number, data=data, now=received)
    deadline = deadline_for(received, dossier_deadline_days(dossier))
    roll = rng.random()
    if recent and roll < 0.35:  # the last days: some still waiting
        return _backdate(dossier, [received], None)
    if roll < 0.04:  # forgotten: open and overdue
        dossier = dossiers.claim(actor=unit.actor, code=dossier.code, expected_version=dossier.version)
        return _backdate(dossier, [received, _working_moment(rng, received.date(), received)], None)
    if dossier.channel == Channel.ONLINE and dossier.applicant is not None and roll < 0.08:
        cancelled = _working_moment(rng, received.date(), received)
        dossier = dossiers.cancel(account=dossier.applicant, code=dossier.code, expected_version=dossier.version,
                                  note="Công dân không còn nhu cầu (dữ liệu mẫu)")
        return _backdate(dossier, [received, cancelled], cancelled)
    claimed = _working_moment(rng, received.date(), received)
    late = rng.random() < unit.late_share
    decision_day = add_working_days(deadline, rng.randint(1, 6)) if late else \
        max(claimed.date(), deadline - timedelta(days=rng.randint(0, 1)))
    decided = _working_moment(rng, decision_day, claimed)
    dossier = dossiers.claim(actor=unit.actor, code=dossier.code, expected_version=dossier.version)
    if decided >= timezone.now():  # a late decision still to come: open and overdue today
        return _backdate(dossier, [received, claimed], None)
    if roll > 0.9:
        dossier = dossiers.reject(actor=unit.actor, code=dossier.code, expected_version=dossier.version,
                                  reason="Thông tin kê khai không khớp giấy tờ (dữ liệu mẫu)")
    else:
        dossier = dossiers.approve(actor=unit.actor, code=dossier.code, expected_version=dossier.version,
                                   note="Đủ điều kiện (dữ liệu mẫu)")
    return _backdate(dossier, [received, claimed, decided], decided)


def ensure_history(*, seed: int = 2026) -> list[Dossier]:
    """The months of history behind the statistics page (see the comment above); returns what was made."""
    if get_user_model().objects.filter(first_name=HISTORY_MARK).exists():
        return []
    rng = random.Random(seed)
    today = registry_today()
    created: list[Dossier] = []
    for unit in _history_units(rng):
        with transaction.atomic():
            accounts = {p.pk: _history_account(p) for p in unit.residents[:HISTORY_ACCOUNTS]}
        total = rng.randint(*HISTORY_PER_UNIT)
        for _i in range(total):
            days_ago = rng.randint(2, HISTORY_MONTHS * 30)
            progress = 1 - days_ago / (HISTORY_MONTHS * 30)  # the online share grows month by month
            received = _working_moment(rng, today - timedelta(days=days_ago))
            if received.date() >= today:
                continue
            try:
                with transaction.atomic():  # a refused step leaves no half-built dossier
                    created.append(_one_history_dossier(rng, unit, accounts, received,
                                                        min(0.95, unit.online_base + 0.35 * progress),
                                                        recent=days_ago <= 5))
            except DomainError:
                continue
    return created
