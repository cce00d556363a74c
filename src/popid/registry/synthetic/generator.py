"""Deterministic synthetic population: households of people with names, ID numbers, families,
residences, cards and vital events, produced as plain row tuples in table column order.

Pure Python and no database, so the loader and the benchmarks (raw PostgreSQL COPY of the
same rows) share one source. Same arguments, same rows: every draw comes from one
``random.Random(seed)``; dates are relative to ``reference_date`` (a constant by default, never
the clock), so a population does not change with the day it is generated.

Clean households are built so that no quality rule fires on them: parents are 18+ years older
than their children, nobody alive is older than 104, the dead have no active residence, every
mandatory field is filled and every code is current. ``errors.py`` then damages chosen persons
in exactly one known way each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any

from popid.core.admin_units import (
    commune_label,
    communes,
    communes_by_province,
    id_prefix_for_province,
    legacy_prefixes_of,
    provinces,
)
from popid.core.codes import BLOOD_TYPE_WEIGHTS, BLOOD_TYPES, ETHNIC_GROUPS, RELIGIONS
from popid.core.text import normalize_text
from popid.registry.synthetic import names
from popid.registry.synthetic.demography import (
    MAX_CLEAN_AGE,
    MIGRATION_TARGETS,
    PROVINCE_POPULATION_MILLIONS,
    Weighted,
    head_age_table,
)

REFERENCE_DATE = date(2026, 11, 1)
"""'Today' of a generated population; fixed so output does not depend on the clock."""
NEW_PREFIX_FROM = date(2025, 7, 1)  # births from the 2025 reorganisation get the new province code
CARD_AUTHORITY = "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
SEED_ACTOR = "popid seed"
IMPORT_REASON = "Nhập dữ liệu ban đầu"

# Column order of each table as created by the registry migrations. Person and household rows
# carry their primary key (other rows point at them); the other tables get theirs from the
# database. ``tests/registry/test_seed.py`` checks these against the models.
PERSON_COLUMNS: tuple[str, ...] = (
    "id", "id_number", "full_name", "name_norm", "birth_date", "birth_year", "birth_date_precision", "sex",
    "birth_place", "birth_registration_commune_code", "birth_registration_province_code", "hometown",
    "ethnicity_code", "religion_code", "nationality", "blood_type", "old_id_number", "absence_status",
    "absence_until", "residence_file_number", "marital_status", "status", "died_on", "missing_since", "phone",
    "email", "other_info", "commune_code", "province_code", "version", "created_at", "updated_at",
)
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "id", "code", "head_id", "address", "commune_code", "province_code", "created_on", "dissolved_on", "version",
)
MEMBER_COLUMNS: tuple[str, ...] = ("household_id", "person_id", "relationship", "joined_on", "left_on")
RESIDENCE_COLUMNS: tuple[str, ...] = (
    "person_id", "kind", "address", "commune_code", "province_code", "household_id", "valid_from", "valid_until",
    "ended_on",
)
RELATION_COLUMNS: tuple[str, ...] = (
    "person_id", "kind", "relative_id", "relative_name", "relative_id_number", "relative_nationality",
    "valid_from", "ended_on",
)
CARD_COLUMNS: tuple[str, ...] = ("person_id", "card_number", "issued_on", "issued_by", "valid_until", "is_active")
VITAL_EVENT_COLUMNS: tuple[str, ...] = ("person_id", "kind", "occurred_on", "commune_code", "details", "recorded_at")
HISTORY_COLUMNS: tuple[str, ...] = (
    "person_id", "at", "actor", "actor_unit", "command", "reason", "legal_ref", "before", "after", "version",
)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "persons": ("registry_person", PERSON_COLUMNS),
    "households": ("registry_household", HOUSEHOLD_COLUMNS),
    "members": ("registry_householdmember", MEMBER_COLUMNS),
    "residences": ("registry_residence", RESIDENCE_COLUMNS),
    "relations": ("registry_familyrelation", RELATION_COLUMNS),
    "cards": ("registry_identitycard", CARD_COLUMNS),
    "vital_events": ("registry_vitalevent", VITAL_EVENT_COLUMNS),
    "history": ("registry_historyentry", HISTORY_COLUMNS),
}
"""Batch attribute -> (table, columns), in an order that satisfies the foreign keys."""

PHONE_PREFIXES = (
    "090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "033", "034", "035", "036",
    "037", "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "056", "058",
)
FIXTURE_COMMUNE = "00070"  # Phường Hoàn Kiếm


Row = tuple[Any, ...]  # one table row in its ``*_COLUMNS`` order (dates as ISO text)


@dataclass
class RowBatch:
    """Rows of whole households (relations never cross a batch boundary backwards)."""

    persons: list[Row] = field(default_factory=list)
    households: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    residences: list[Row] = field(default_factory=list)
    relations: list[Row] = field(default_factory=list)
    cards: list[Row] = field(default_factory=list)
    vital_events: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)


@dataclass
class Truth:
    """What was injected, in the shape of ``SeedResult.truth``."""

    seed: int
    persons: int
    error_rate: float
    errors: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    # duplicates with hard errors for the probabilistic matcher: {"pair": [a, b], "errors": [...]}
    duplicate_rate: float = 0.0
    match_duplicates: list[dict[str, Any]] = field(default_factory=list)
    # hard negatives injected with them (twins): {"pair": [a, b], "kind": "twin"}; not duplicates
    match_non_duplicates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "persons": self.persons, "error_rate": self.error_rate,
                "errors": self.errors, "duplicates": self.duplicates, "duplicate_rate": self.duplicate_rate,
                "match_duplicates": self.match_duplicates, "match_non_duplicates": self.match_non_duplicates}


class P:
    """One person while their household is being built."""

    __slots__ = (
        "absence_status",
        "absence_until",
        "birth_date",
        "birth_place",
        "blood_type",
        "breg_commune",
        "breg_province",
        "card",
        "children",
        "died_on",
        "email",
        "error",
        "ethnicity",
        "family_name",
        "father",
        "father_name",
        "full_name",
        "hometown",
        "id_number",
        "id_place",
        "marital",
        "mother",
        "mother_name",
        "name_norm",
        "old_id",
        "perm_commune",
        "phone",
        "pid",
        "precision",
        "relationship",
        "religion",
        "sex",
        "spouse",
        "status",
        "temp",
    )

    # Set while the household is built (``PopulationGenerator.person``, ``errors``): declared here so
    # every slot has a type.
    absence_status: str
    absence_until: date | None
    birth_date: date
    birth_place: str
    blood_type: str
    breg_commune: str
    breg_province: str
    card: bool
    died_on: date | None
    email: str
    error: str | None
    ethnicity: str
    family_name: str
    father_name: str
    full_name: str
    hometown: str
    id_number: str
    id_place: str
    marital: str
    mother_name: str
    name_norm: str
    old_id: str
    perm_commune: str | None
    phone: str
    pid: int
    precision: str
    relationship: str
    religion: str
    sex: str
    status: str
    temp: tuple[str, str, date, date] | None

    def __init__(self) -> None:
        self.children: list[P] = []
        self.father: P | None = None
        self.mother: P | None = None
        self.spouse: P | None = None
        self.status = "alive"
        self.died_on: date | None = None
        self.error: str | None = None
        self.perm_commune: str | None = None  # override of the household commune (injected errors)
        self.temp: tuple[str, str, date, date] | None = None
        self.absence_status = ""
        self.absence_until: date | None = None
        self.precision = "day"
        self.card = True
        self.old_id = ""
        self.phone = ""
        self.email = ""

    def age(self, today: date) -> int:
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


@dataclass
class Household:
    hid: int
    commune: str
    province: str
    address: str
    created_on: date
    members: list[P]
    is_fixture: bool = False


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class PopulationGenerator:
    """Streams households; ``errors.inject`` may damage members before rows are emitted."""

    def __init__(self, *, seed: int, error_rate: float = 0.0, reference_date: date = REFERENCE_DATE,
                 reserved_id_numbers: set[str] | None = None, focus_communes: tuple[str, ...] = (),
                 focus_share: float = 0.0) -> None:
        self.rng = Random(seed)
        self.seed = seed
        # Demo communes (issue #19 item 10): this share of households lives in one of them, so a
        # commune officer's demo has enough people for its own figures. Drawn from a separate
        # stream: with no focus the population is exactly what it was.
        self.focus_communes = tuple(c for c in focus_communes if c)
        self.focus_share = focus_share if self.focus_communes else 0.0
        self.focus_rng = Random(f"popid-focus-{seed}")
        self.error_rate = error_rate
        self.today = reference_date
        self.used_ids: set[str] = set(reserved_id_numbers or ())
        self.province_table = Weighted(list(PROVINCE_POPULATION_MILLIONS.items()))
        self.migration_table = Weighted(list(MIGRATION_TARGETS.items()))
        self.head_ages = head_age_table()
        self.ethnicity_table = Weighted([(c.code, c.weight) for c in ETHNIC_GROUPS.values()])
        self.religion_table = Weighted([(c.code, c.weight) for c in RELIGIONS.values()])
        self.blood_table = Weighted(list(zip(BLOOD_TYPES, BLOOD_TYPE_WEIGHTS, strict=True)))
        self.male_middle = Weighted(names.MALE_MIDDLE)
        self.female_middle = Weighted(names.FEMALE_MIDDLE)
        self.male_given = Weighted(names.MALE_GIVEN)
        self.female_given = Weighted(names.FEMALE_GIVEN)
        self.surnames = {
            region: Weighted([(self._spell(s, region), w) for s, w in names.SURNAMES])
            for region in ("north", "central", "south")
        }
        self.communes = {code: [u.code for u in units] for code, units in communes_by_province().items()}
        self.labels = {code: commune_label(code) for code in communes()}
        self.is_ward = {code: u.kind == "phường" for code, u in communes().items()}
        self.legacy = {code: legacy_prefixes_of(code) for code in provinces()}

    # -- small draws -------------------------------------------------------------------------

    def _spell(self, surname: str, region: str) -> str:
        southern = region == "south" or (region == "central" and self.rng.random() < 0.5)
        if surname in names.SOUTHERN_SPELLING and southern:
            return names.SOUTHERN_SPELLING[surname]
        return surname

    def region(self, province: str) -> str:
        if province in names.SOUTHERN_PROVINCES:
            return "south"
        return "central" if province in names.CENTRAL_PROVINCES else "north"

    def surname(self, province: str) -> str:
        return self.surnames[self.region(province)].draw(self.rng)

    def person_name(self, surname: str, sex: str) -> str:
        rng = self.rng
        if sex == "M":
            middle, given = self.male_middle.draw(rng), self.male_given.draw(rng)
        else:
            middle, given = self.female_middle.draw(rng), self.female_given.draw(rng)
        if middle == given:
            given = self.male_given.draw(rng) if sex == "M" else self.female_given.draw(rng)
        return f"{surname} {middle} {given}"

    def birth_date_for_age(self, age: int) -> date:
        days = int(age * 365.2425) + self.rng.randrange(365)
        return self.today - timedelta(days=max(days, 1))

    def address(self, commune: str) -> str:
        """The street part only: the commune is stored as a code beside it (as the commands do)."""
        rng = self.rng
        if self.is_ward[commune]:
            return f"Số {rng.randrange(1, 300)} {rng.choice(names.STREETS)}"
        village = "Ấp" if self.region(commune_province(commune)) == "south" else "Thôn"
        return f"{village} {rng.choice(names.VILLAGE_WORDS)} {rng.choice(names.VILLAGE_WORDS)}"

    def id_place(self, breg_province: str, birth_date: date) -> str:
        if birth_date >= NEW_PREFIX_FROM:
            return id_prefix_for_province(breg_province)
        return self.rng.choice(self.legacy[breg_province])

    def new_id_number(self, place: str, sex: str, birth_year: int) -> str:
        g = 2 * ((birth_year - 1900) // 100) + (1 if sex == "F" else 0)
        head = f"{place}{g}{birth_year % 100:02d}"
        while True:
            candidate = f"{head}{self.rng.randrange(1_000_000):06d}"
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def reissue_id(self, p: P) -> None:
        """Give ``p`` a number consistent with its (changed) birth date; keep the old one taken."""
        p.id_place = self.id_place(p.breg_province, p.birth_date)
        p.id_number = self.new_id_number(p.id_place, p.sex, p.birth_date.year)

    # -- people ------------------------------------------------------------------------------

    def make_person(self, *, sex: str, age: int, surname: str, home_province: str, relationship: str,
                    ethnicity: str, religion: str, hometown: str | None = None,
                    born_here: float = 0.85) -> P:
        rng = self.rng
        p = P()
        p.sex = sex
        p.family_name = surname
        p.full_name = self.person_name(surname, sex)
        p.name_norm = normalize_text(p.full_name)
        p.birth_date = self.birth_date_for_age(age)
        if p.birth_date.year < 1960 and rng.random() < 0.12:  # old registers often hold the year only
            p.precision = "year"
            p.birth_date = date(p.birth_date.year, 1, 1)
        if rng.random() < born_here:
            p.breg_province = home_province
        elif home_province in MIGRATION_TARGETS or rng.random() < 0.5:
            p.breg_province = self.province_table.draw(rng)
        else:
            p.breg_province = home_province
        p.breg_commune = rng.choice(self.communes[p.breg_province])
        p.birth_place = self.labels[p.breg_commune]
        p.hometown = hometown or self.labels[rng.choice(self.communes[p.breg_province])]
        p.ethnicity = ethnicity
        p.religion = religion
        p.blood_type = self.blood_table.draw(rng)
        p.relationship = relationship
        p.marital = "single"
        p.id_place = self.id_place(p.breg_province, p.birth_date)
        p.id_number = self.new_id_number(p.id_place, sex, p.birth_date.year)
        p.father_name = self.person_name(surname, "M")
        p.mother_name = self.person_name(self.surname(home_province), "F")
        if age >= 15 and rng.random() < 0.85:
            p.phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10_000_000):07d}"
        if 18 <= age <= 60 and rng.random() < 0.15:
            ascii_given = normalize_text(p.full_name).split()
            p.email = f"{ascii_given[-1]}.{ascii_given[0]}{p.birth_date.year % 100:02d}{rng.randrange(100)}@gmail.com"
        if p.birth_date.year <= 2004 and age >= 14 and rng.random() < 0.45:
            p.old_id = f"{rng.randrange(10_000_000, 400_000_000):09d}"
        return p

    def child_of(self, father: P | None, mother: P | None, *, age: int, home_province: str,
                 mother_name: str = "") -> P:
        parent = father or mother
        assert parent is not None
        sex = "M" if self.rng.random() < 0.52 else "F"
        child = self.make_person(
            sex=sex, age=age, surname=parent.family_name, home_province=home_province, relationship="child",
            ethnicity=parent.ethnicity, religion=parent.religion, hometown=parent.hometown, born_here=0.92,
        )
        # Parents do not give two children the same name: twins named alike would be true
        # duplicates by every rule and spoil the ground truth.
        sibling_names = {c.name_norm for c in parent.children}
        for _attempt in range(20):
            if child.name_norm not in sibling_names:
                break
            child.full_name = self.person_name(parent.family_name, sex)
            child.name_norm = normalize_text(child.full_name)
        if mother is not None:
            child.mother, child.mother_name = mother, mother.full_name
            mother.children.append(child)
        else:
            child.mother_name = mother_name
        if father is not None:
            child.father, child.father_name = father, father.full_name
            father.children.append(child)
        return child

    def kill(self, p: P, died_on: date) -> None:
        p.status, p.died_on = "deceased", died_on
        p.phone = p.email = ""
        p.temp = None

    # -- households --------------------------------------------------------------------------

    def household_kind(self, head_age: int) -> str:
        r = self.rng.random()
        table = (
            (25, (("single", 0.45), ("couple", 0.25), ("nuclear", 0.25), ("three_gen", 0.05))),
            (40, (("single", 0.10), ("couple", 0.10), ("nuclear", 0.57), ("single_parent", 0.06), ("three_gen", 0.17))),
            (60, (("single", 0.06), ("couple", 0.10), ("nuclear", 0.54), ("single_parent", 0.08), ("three_gen", 0.22))),
            (75, (("single", 0.18), ("couple", 0.37), ("nuclear", 0.30), ("single_parent", 0.10), ("three_gen", 0.05))),
            (200, (("single", 0.40), ("couple", 0.35), ("nuclear", 0.20), ("single_parent", 0.05))),
        )
        for limit, kinds in table:
            if head_age < limit:
                for kind, share in kinds:
                    r -= share
                    if r < 0:
                        return kind
                return kinds[-1][0]
        return "single"

    def build_household(self, hid: int, max_size: int) -> Household:
        rng = self.rng
        province = self.province_table.draw(rng)
        commune = rng.choice(self.communes[province])
        if self.focus_share and self.focus_rng.random() < self.focus_share:
            commune = self.focus_rng.choice(self.focus_communes)
            province = commune_province(commune)
        head_age = self.head_ages.draw(rng)
        kind = self.household_kind(head_age)
        if max_size <= 2 and kind not in ("single", "couple"):
            kind = "couple" if max_size == 2 else "single"
        if max_size == 1:
            kind = "single"
        ethnicity = self.ethnicity_table.draw(rng)
        religion = self.religion_table.draw(rng)
        head_sex = "M" if rng.random() < (0.75 if kind in ("couple", "nuclear", "three_gen") else 0.45) else "F"
        surname = self.surname(province)
        head = self.make_person(sex=head_sex, age=head_age, surname=surname, home_province=province,
                                relationship="head", ethnicity=ethnicity, religion=religion)
        members = [head]
        created_on = self.today - timedelta(days=rng.randrange(30, max(60, min(head_age - 18, 40) * 365)))
        husband = wife = None
        if kind in ("couple", "nuclear", "three_gen"):
            gap = max(-2, min(12, int(rng.gauss(3, 3))))  # husband older by gap years
            spouse_age = head_age - gap if head_sex == "M" else head_age + gap
            spouse_age = max(18, min(MAX_CLEAN_AGE, spouse_age))
            spouse = self.make_person(
                sex="F" if head_sex == "M" else "M", age=spouse_age,
                surname=self.surname(province) if head_sex == "M" else surname, home_province=province,
                relationship="spouse", ethnicity=ethnicity if rng.random() < 0.9 else self.ethnicity_table.draw(rng),
                religion=religion,
            )
            head.spouse, spouse.spouse = spouse, head
            head.marital = spouse.marital = "married"
            members.append(spouse)
            husband, wife = (head, spouse) if head_sex == "M" else (spouse, head)
        elif kind in ("single", "single_parent") and head_age >= 25:
            r = rng.random()
            widowed_share = 0.55 if head_age >= 60 else 0.35 if kind == "single_parent" else 0.15 * (head_age >= 40)
            if r < widowed_share:
                head.marital = "widowed"
                if rng.random() < 0.6:  # the late spouse's record is in the registry too
                    dead = self.make_person(
                        sex="F" if head_sex == "M" else "M", age=min(MAX_CLEAN_AGE, head_age + rng.randrange(-3, 6)),
                        surname=self.surname(province) if head_sex == "M" else surname, home_province=province,
                        relationship="spouse", ethnicity=ethnicity, religion=religion,
                    )
                    earliest = max(dead.birth_date + timedelta(days=18 * 366), created_on)
                    span = (self.today - earliest).days
                    died = earliest + timedelta(days=rng.randrange(max(span, 2) - 1) + 1) if span > 2 else None
                    if died is not None:
                        self.kill(dead, died)
                        dead.marital = "married"
                        head.spouse, dead.spouse = dead, head
                        members.append(dead)
            elif head_age >= 30 and r < 0.6:
                head.marital = "divorced"
        if kind in ("nuclear", "single_parent", "three_gen"):
            mother = wife if wife is not None else (head if head_sex == "F" else None)
            father = husband if husband is not None else (head if head_sex == "M" else None)
            parent = mother or father
            assert parent is not None
            # A single father's children name their mother, who is not in this household.
            absent_mother = "" if mother is not None else self.person_name(self.surname(province), "F")
            youngest_parent_age = min(p.age(self.today) for p in (mother, father) if p is not None)
            n_children = 1 + int(rng.random() < 0.75) + int(rng.random() < 0.3) + int(rng.random() < 0.08)
            for _ in range(n_children):
                max_child_age = min(youngest_parent_age - 20, 35)
                if max_child_age < 0:
                    break
                child_age = max(0, max_child_age - rng.randrange(0, 23))
                members.append(self.child_of(father, mother, age=child_age, home_province=province,
                                             mother_name=absent_mother))
        if kind == "three_gen":
            for sex in ("M", "F"):
                if rng.random() < 0.3:
                    continue
                age = head_age + rng.randrange(22, 36)
                if age > MAX_CLEAN_AGE - 2:
                    continue
                parent_name = head.father_name if sex == "M" else head.mother_name
                grand = self.make_person(
                    sex=sex, age=age, surname=parent_name.split()[0], home_province=province,
                    relationship="parent", ethnicity=head.ethnicity, religion=religion,
                    hometown=head.hometown if sex == "M" else None,
                )
                grand.full_name, grand.name_norm = parent_name, normalize_text(parent_name)
                if sex == "M":
                    head.father = grand
                else:
                    head.mother = grand
                grand.children.append(head)
                members.append(grand)
            if head.father is not None and head.mother is not None:
                head.father.spouse, head.mother.spouse = head.mother, head.father
                head.father.marital = head.mother.marital = "married"
                if rng.random() < 0.25:  # one grandparent has died
                    dead = rng.choice((head.father, head.mother))
                    alive = head.mother if dead is head.father else head.father
                    earliest = max(created_on, dead.birth_date + timedelta(days=30 * 366))
                    span = (self.today - earliest).days
                    if span > 2:
                        self.kill(dead, earliest + timedelta(days=rng.randrange(1, span)))
                        alive.marital = "widowed"
            else:
                for parent in (head.father, head.mother):
                    if parent is not None:
                        parent.marital = "widowed"
        if len(members) > max_size:
            del members[max_size:]
            self._detach(members)
        # Temporary residences elsewhere for some working-age adults.
        for p in members:
            if p.status == "alive" and p is not head and 18 <= p.age(self.today) <= 45 and rng.random() < 0.12:
                target = self.migration_table.draw(rng)
                temp_commune = rng.choice(self.communes[target])
                if temp_commune == commune:
                    continue
                start = self.today - timedelta(days=rng.randrange(30, 700))
                until = start + timedelta(days=rng.randrange(max(180, (self.today - start).days + 30), 731))
                p.temp = (temp_commune, self.address(temp_commune), start, until)
                if target != province and (until - start).days >= 365 and rng.random() < 0.3:
                    p.absence_status = f"Tạm vắng: lao động tại {provinces()[target].name}"
                    p.absence_until = until
        # Identity cards from 14.
        for p in members:
            p.card = p.age(self.today) >= 14 and (p.died_on is None or p.died_on >= add_years(p.birth_date, 14))
        return Household(hid, commune, province, self.address(commune), created_on, members)

    @staticmethod
    def _detach(members: list[P]) -> None:
        """After trimming a household to the person budget, drop links to removed members."""
        kept = {id(p) for p in members}
        for p in members:
            if p.father is not None and id(p.father) not in kept:
                p.father = None
            if p.mother is not None and id(p.mother) not in kept:
                p.mother = None
            if p.spouse is not None and id(p.spouse) not in kept:
                p.spouse = None
                if p.marital == "married":
                    p.marital = "single"
            p.children = [c for c in p.children if id(c) in kept]

    def fixture_household(self, hid: int) -> Household:
        """Nguyễn Văn An (born 12 May 1990), wife and son, Phường Hoàn Kiếm: the same every run."""
        saved, self.rng = self.rng, Random("popid-fixture-citizen")
        try:
            an = self.make_person(sex="M", age=36, surname="Nguyễn", home_province="01", relationship="head",
                                  ethnicity="01", religion="00", born_here=1.0)
            mai = self.make_person(sex="F", age=34, surname="Trần", home_province="01", relationship="spouse",
                                   ethnicity="01", religion="00", born_here=1.0)
            for p, name, born in ((an, "Nguyễn Văn An", date(1990, 5, 12)), (mai, "Trần Thị Mai", date(1992, 8, 20))):
                p.full_name, p.name_norm, p.birth_date, p.precision = name, normalize_text(name), born, "day"
                p.breg_commune, p.breg_province = FIXTURE_COMMUNE, "01"
                p.birth_place = self.labels[FIXTURE_COMMUNE]
                p.id_place = "001"
                p.id_number = self.new_id_number("001", p.sex, born.year)
                p.card = True
            an.hometown = "Xã Thanh Oai, Thành phố Hà Nội"
            an.spouse, mai.spouse = mai, an
            an.marital = mai.marital = "married"
            khang = self.child_of(an, mai, age=8, home_province="01")
            khang.sex, khang.full_name = "M", "Nguyễn Minh Khang"
            khang.name_norm, khang.birth_date = normalize_text(khang.full_name), date(2018, 3, 9)
            khang.precision = "day"
            khang.breg_commune, khang.breg_province = FIXTURE_COMMUNE, "01"
            khang.birth_place, khang.id_place = self.labels[FIXTURE_COMMUNE], "001"
            khang.id_number = self.new_id_number("001", "M", 2018)
            khang.card, khang.phone, khang.email, khang.old_id = False, "", "", ""
            members = [an, mai, khang]
            created = date(2015, 9, 1)
            return Household(hid, FIXTURE_COMMUNE, "01", "Số 12 Hàng Bạc",
                             created, members, is_fixture=True)
        finally:
            self.rng = saved

    # -- rows --------------------------------------------------------------------------------

    def emit(self, hh: Household, batch: RowBatch, created_at: str) -> None:
        """Append the rows of one household to ``batch``; person ids are already assigned."""
        hid = hh.hid
        iso = date.isoformat
        file_number = f"{hh.commune}-{hid:08d}"
        head = hh.members[0]
        batch.households.append((hid, f"HK{hid:010d}", head.pid, hh.address, hh.commune, hh.province,
                                 iso(hh.created_on), None, 1))
        for p in hh.members:
            birth = iso(p.birth_date)
            died = iso(p.died_on) if p.died_on else None
            batch.persons.append((
                p.pid, p.id_number, p.full_name, p.name_norm, birth, p.birth_date.year, p.precision, p.sex,
                p.birth_place, p.breg_commune, p.breg_province, p.hometown, p.ethnicity, p.religion, "VN",
                p.blood_type, p.old_id, p.absence_status, iso(p.absence_until) if p.absence_until else None,
                file_number, p.marital, p.status, died, None, p.phone, p.email, "{}", hh.commune, hh.province,
                1, created_at, created_at,
            ))
            joined = max(hh.created_on, p.birth_date)
            if p.died_on is not None and p.died_on >= p.birth_date:
                joined = min(joined, p.died_on)
            ended = died if p.status == "deceased" and p.error != "deceased_with_active_residence" else None
            batch.members.append((hid, p.pid, p.relationship, iso(joined), ended))
            batch.residences.append((p.pid, "permanent", hh.address, p.perm_commune or hh.commune, hh.province, hid,
                                     iso(joined), None, ended))
            if p.temp is not None:
                commune, address, start, until = p.temp
                batch.residences.append((p.pid, "temporary", address, commune, commune_province(commune), None,
                                         iso(start), iso(until), ended))
            self._relations(p, batch)
            if p.card:
                self._card(p, batch)
            batch.vital_events.append((p.pid, "birth", birth, p.breg_commune, "{}", created_at))
            if p.died_on is not None:
                batch.vital_events.append((p.pid, "death", died, hh.commune, "{}", created_at))
            batch.history.append((p.pid, created_at, SEED_ACTOR, "", "import", IMPORT_REASON, "", "{}", "{}", 1))

    @staticmethod
    def _relations(p: P, batch: RowBatch) -> None:
        rows = batch.relations
        for kind, relative, name in (("father", p.father, p.father_name), ("mother", p.mother, p.mother_name)):
            if relative is not None:
                rows.append((p.pid, kind, relative.pid, relative.full_name, relative.id_number, "VN",
                             p.birth_date.isoformat(), None))
            else:
                rows.append((p.pid, kind, None, name, "", "VN", None, None))
        if p.spouse is not None:
            s = p.spouse
            ended = (s.died_on or p.died_on)
            rows.append((p.pid, "spouse", s.pid, s.full_name, s.id_number, "VN", None,
                         ended.isoformat() if ended else None))
        for c in p.children:
            rows.append((p.pid, "child", c.pid, c.full_name, c.id_number, "VN", c.birth_date.isoformat(), None))

    def _card(self, p: P, batch: RowBatch) -> None:
        rng = self.rng
        low = max(add_years(p.birth_date, 14), date(2016, 1, 1))
        high = p.died_on if p.died_on is not None and p.died_on < self.today else self.today
        span = (high - low).days
        if span <= 1:
            return
        issued = low + timedelta(days=rng.randrange(span))
        valid_until = None
        for milestone in (25, 40, 60):
            end = add_years(p.birth_date, milestone)
            if end > add_years(issued, 2):  # a card issued within 2 years of an age lasts to the next
                valid_until = end.isoformat()
                break
        batch.cards.append((p.pid, p.id_number, issued.isoformat(), CARD_AUTHORITY, valid_until,
                            p.status == "alive"))


def commune_province(code: str) -> str:
    unit = communes().get(code)
    return (unit.province_code or "") if unit else ""
