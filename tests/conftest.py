"""Shared fixtures: staff of a few units and a small named population built through the
registry commands (Nguyễn Văn An's family in Phường Hoàn Kiếm, Hà Nội)."""

from __future__ import annotations

import os
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from hypothesis import settings as hypothesis_settings

from popid.core.access import Actor
from popid.core.auth import issue_staff_token
from popid.core.models import StaffRole
from popid.registry import services
from popid.registry.models import Person

HOAN_KIEM = "00070"  # Phường Hoàn Kiếm, Hà Nội
CUA_NAM = "00073"  # Phường Cửa Nam, Hà Nội
HCM_COMMUNE = "26740"  # Phường Sài Gòn, TP Hồ Chí Minh

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests check results, never wall time: Hypothesis's default 200 ms deadline per example
# failed a ledger test in CI when the two test passes shared the machine (285 ms once, 6 ms again).
hypothesis_settings.register_profile("popid", deadline=None)
hypothesis_settings.load_profile("popid")


def redis_test_url(db: int) -> str:
    """A Redis database of this run's own: the SQLite and PostgreSQL runs of ``make test`` go side
    by side on one Redis server, so the PostgreSQL run takes the number below."""
    on_postgres = os.environ.get("POPID_DATABASE_URL", "").startswith("postgres")
    return f"redis://127.0.0.1:6379/{db - 1 if on_postgres else db}"  # Playwright's loop shares the test thread

# The production hasher (argon2id, 19 MiB, 2 passes) costs ~50 ms per hash on this machine and the
# suite hashes thousands of passwords and passcodes; tests hash with MD5 and keep the real hashers
# behind it so argon2id hashes made elsewhere (fixtures, live servers) still verify. The real
# hasher is tested once, explicitly, in tests/core/test_hashers.py.
FAST_TEST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(autouse=True)
def messages_delivered_at_once(settings):
    """SMS and e-mail go through the task ``core.messaging.deliver_message``; the suite runs it on
    django-tasks' immediate backend so a test reads its OTP at once. The queue, the worker and the
    retries are tested on the database backend in tests/ops/test_ops_messaging.py."""
    settings.POPID_MESSAGING_TASK_BACKEND = "immediate"


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's language: a request served in English (LocaleMiddleware
    activates per thread and nothing resets it) must not turn the next test's messages English."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_hot_caches():
    """The per-process credential caches (core.hotcache) start empty in every test: row ids are
    reused after a test's rollback on SQLite, so an entry must not outlive its test."""
    from popid.core import hotcache

    hotcache.invalidate()
    yield
    hotcache.invalidate()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = [FAST_TEST_HASHER,
                                 *(h for h in settings.PASSWORD_HASHERS if h != FAST_TEST_HASHER)]


def make_staff(username: str, *, role: str, level: str, unit_code: str = "", unit_name: str = ""):
    user = get_user_model().objects.create_user(username=username, password="Mat-khau-thu-nghiem-1")
    StaffRole.objects.create(user=user, role=role, level=level, unit_code=unit_code, unit_name=unit_name)
    return user


@pytest.fixture
def officer_hoan_kiem(db):
    return make_staff("cb.hoankiem", role="officer", level="commune", unit_code=HOAN_KIEM,
                      unit_name="Công an phường Hoàn Kiếm")


@pytest.fixture
def officer_hcm(db):
    return make_staff("cb.saigon", role="officer", level="commune", unit_code=HCM_COMMUNE,
                      unit_name="Công an phường Sài Gòn")


@pytest.fixture
def officer_hanoi_province(db):
    return make_staff("cb.hanoi", role="officer", level="province", unit_code="01", unit_name="Công an TP Hà Nội")


@pytest.fixture
def supervisor_nation(db):
    return make_staff("gs.bocongan", role="supervisor", level="nation", unit_name="Bộ Công an")


@pytest.fixture
def actor_hoan_kiem(officer_hoan_kiem) -> Actor:
    return Actor.for_user(officer_hoan_kiem)


@pytest.fixture
def actor_hcm(officer_hcm) -> Actor:
    return Actor.for_user(officer_hcm)


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_staff_token(user=user, name='test')}"}


@pytest.fixture
def admin_actor(db) -> Actor:
    return Actor.system("test-admin")


@pytest.fixture
def family(db, admin_actor) -> dict[str, Person]:
    """Nguyễn Văn An (1990), his wife Trần Thị Bình (1992) and their son Nguyễn Minh Khôi (2018),
    one household in Phường Hoàn Kiếm."""
    grandma = services.register_birth(
        actor=admin_actor, full_name="Lê Thị Hoa", birth_date=date(1962, 3, 4), sex="F", birth_place="Hà Nội",
        birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định", ethnicity_code="01",
        father_name="Lê Văn Tám", mother_name="Phạm Thị Sáu")
    services.register_permanent_residence(
        actor=admin_actor, id_number=grandma.id_number, commune_code=HOAN_KIEM, address="12 Hàng Bạc",
        valid_from=date(1990, 1, 1), reason="Đăng ký thường trú")
    an = services.register_birth(
        actor=admin_actor, full_name="Nguyễn Văn An", birth_date=date(1990, 5, 12), sex="M",
        birth_place="Bệnh viện Phụ sản Hà Nội", birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định",
        ethnicity_code="01", mother_id_number=grandma.id_number, father_name="Nguyễn Văn Bình")
    binh = services.register_birth(
        actor=admin_actor, full_name="Trần Thị Bình", birth_date=date(1992, 8, 20), sex="F", birth_place="Hải Phòng",
        birth_registration_commune_code=CUA_NAM, hometown="Hải Phòng", ethnicity_code="01",
        father_name="Trần Văn Cường", mother_name="Vũ Thị Dung")
    services.register_permanent_residence(
        actor=admin_actor, id_number=an.id_number, commune_code=HOAN_KIEM, address="12 Hàng Bạc",
        valid_from=date(2016, 1, 1), reason="Tách hộ, đăng ký thường trú")
    household = Person.objects.get(pk=an.pk).household_memberships.get(left_on__isnull=True).household
    services.register_permanent_residence(
        actor=admin_actor, id_number=binh.id_number, commune_code=HOAN_KIEM, address="",
        household_code=household.code, relationship="spouse", valid_from=date(2017, 6, 1), reason="Nhập hộ chồng")
    services.record_marriage(actor=admin_actor, id_number=an.id_number, spouse_id_number=binh.id_number,
                             married_on=date(2017, 5, 1))
    khoi = services.register_birth(
        actor=admin_actor, full_name="Nguyễn Minh Khôi", birth_date=date(2018, 9, 2), sex="M",
        birth_place="Hà Nội", birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định", ethnicity_code="01",
        father_id_number=an.id_number, mother_id_number=binh.id_number)
    return {name: Person.objects.get(pk=p.pk) for name, p in
            {"grandma": grandma, "an": an, "binh": binh, "khoi": khoi}.items()}
