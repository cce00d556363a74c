"""Known errors injected into a synthetic population, one kind per damaged person.

Each kind of ``quality.kinds.KINDS`` has a handler that damages one person so that exactly that
rule fires and no other, which keeps precision and recall honest:

- ``id_invalid_format``: the ID number loses its last digit (11 digits).
- ``id_sex_mismatch``: only the sex field flips.
- ``id_birth_year_mismatch``: birth date shifted by 2-5 years, ID number kept; the shift keeps
  every in-household parent 13+ years older than the child and nobody in the future.
- ``id_unknown_place``: the ID prefix becomes a code that is neither a pre-2025 province nor a
  country (e.g. "003").
- ``unknown_ethnicity_code`` "99", ``unknown_religion_code`` "98".
- ``unknown_commune_code``: the *permanent residence* gets a code like "99123"; the person's
  ``commune_code`` (jurisdiction) stays the household's real commune so some officer sees them.
- ``residence_in_abolished_unit``: the active permanent residence gets a pre-2025 code (≤ 32248)
  that is no longer a commune; jurisdiction again stays real.
- ``future_birth_date``: born 5-15 years after the reference date, with a consistent new ID
  number; only people who are nobody's parent in the data.
- ``death_before_birth``: deceased, died 1-8 years before birth; residences ended.
- ``parent_younger_than_child``: a child (nobody's parent) is re-dated to 2-10 years after its
  younger in-household parent's birth, with a consistent new ID number. The CHILD is reported.
- ``missing_mandatory_field``: one of hometown, ethnicity, birth registration commune, birth
  place is blanked (in turn).
- ``non_canonical_name``: "nguyễn  văn AN" style (case and doubled spaces; same ``name_norm``).
- ``implausible_age``: alive, born 1900-1904 (so 120+), new consistent ID number; only people
  without in-household parents.
- ``deceased_with_active_residence``: deceased, death recorded, residence and membership left
  active.
- ``probable_duplicate``: a second record of a living adult in a one-person household
  elsewhere: another valid ID number with the same birth registration province, the name with
  diacritics stripped (same ``name_norm``), same birth date, sex, birth place, hometown,
  ethnicity and parents' names. The truth lists the pair under ``duplicates`` and the *second*
  record under ``errors`` with kind ``probable_duplicate``.

``inject_hard_duplicates`` (``duplicate_rate``) is separate from the kinds above: it gives a
living adult a second record, in a one-person household, with one name error (typed in Telex or
VIQR keystrokes, diacritics lost, one letter wrong, or name order swapped), often a date error
(day and month swapped, only the year known, one digit wrong) and a place (same commune, same
province or elsewhere). The phone number is missing (45 %) or another number (15 %) as often
as it is the same; the old 9-digit ID card number is copied in 70 % of the cases where the person
has one; when the name was typed without diacritics or in keystrokes, the parents' names usually
were too (and are not linked to the parents' records). These pairs are what the probabilistic
matcher (``popid.matching``) must find; the rule engine is not expected to, so they are recorded
under ``truth.match_duplicates`` and not under ``errors``. With them come the hard negatives a
matcher must keep apart (``add_twins``): 2 % of children get a twin in the same household —
same parents, birth date, birth place, surname, usually the same middle name — recorded under
``truth.match_non_duplicates``.

At most one date-changing error per household, so two injected errors never cancel or create
each other. Kinds are taken in round-robin order; a kind no member is eligible for waits for
the next household, so every kind appears in roughly equal numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from popid.core.admin_units import LEGACY_COMMUNE_CODE_MAX, communes
from popid.core.id_numbers import is_known_place_code
from popid.core.text import normalize_text
from popid.matching.normalise import spell_with_keystrokes
from popid.registry.quality.kinds import KINDS, NOT_INJECTED
from popid.registry.synthetic.generator import (
    PHONE_PREFIXES,
    Household,
    P,
    PopulationGenerator,
    Truth,
    add_years,
)

DATE_KINDS = frozenset({"id_birth_year_mismatch", "future_birth_date", "parent_younger_than_child", "implausible_age"})
MANDATORY_BLANKS = ("hometown", "ethnicity", "breg_commune", "birth_place")
UNKNOWN_PLACES = tuple(f"{i:03d}" for i in range(1000) if not is_known_place_code(f"{i:03d}"))


def _abolished_codes() -> list[str]:
    active = communes()
    return [f"{i:05d}" for i in range(1, LEGACY_COMMUNE_CODE_MAX + 1) if f"{i:05d}" not in active]


class ErrorInjector:
    """Damages members of generated households and records the truth."""

    def __init__(self, gen: PopulationGenerator, truth: Truth) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.truth = truth
        self.handlers: dict[str, Callable[[Household, P], bool]] = {
            "id_invalid_format": self.id_invalid_format,
            "id_sex_mismatch": self.id_sex_mismatch,
            "id_birth_year_mismatch": self.id_birth_year_mismatch,
            "id_unknown_place": self.id_unknown_place,
            "unknown_ethnicity_code": self.unknown_ethnicity_code,
            "unknown_religion_code": self.unknown_religion_code,
            "unknown_commune_code": self.unknown_commune_code,
            "future_birth_date": self.future_birth_date,
            "death_before_birth": self.death_before_birth,
            "parent_younger_than_child": self.parent_younger_than_child,
            "missing_mandatory_field": self.missing_mandatory_field,
            "non_canonical_name": self.non_canonical_name,
            "implausible_age": self.implausible_age,
            "deceased_with_active_residence": self.deceased_with_active_residence,
            "residence_in_abolished_unit": self.residence_in_abolished_unit,
            "probable_duplicate": self.probable_duplicate,
        }
        # Kinds without a handler (added to KINDS later) are not injected.
        self.queue = [k for k in KINDS if k in self.handlers and k not in NOT_INJECTED]
        self.blank_turn = 0
        self.abolished: list[str] | None = None
        self.extra: list[Household] = []
        self.budget = 0

    def inject(self, hh: Household, *, budget: int, next_hid: int) -> list[Household]:
        """Damage some members of ``hh``; return extra households (duplicate records)."""
        self.extra, self.budget = [], budget
        expected = self.gen.error_rate * len(hh.members)
        count = int(expected) + (self.rng.random() < expected - int(expected))
        if not count or hh.is_fixture:
            return []
        dates_touched = False
        for _ in range(count):
            candidates = [p for p in hh.members if p.error is None and p.status == "alive"]
            if not candidates:
                break
            self.rng.shuffle(candidates)
            for kind in list(self.queue):
                if kind in DATE_KINDS and dates_touched:
                    continue
                handler = self.handlers[kind]
                target = next((p for p in candidates if handler(hh, p)), None)
                if target is None:
                    continue
                target.error = kind
                if kind != "probable_duplicate":
                    self.truth.errors.append({"id_number": target.id_number, "kind": kind})
                dates_touched |= kind in DATE_KINDS
                self.queue.remove(kind)
                self.queue.append(kind)
                break
        return self.extra

    # -- helpers -----------------------------------------------------------------------------

    def _gaps_ok(self, p: P, birth: date) -> bool:
        """Every in-household parent 13+ years older and every child 13+ years younger."""
        for parent in (p.father, p.mother):
            if parent is not None and add_years(parent.birth_date, 13) > birth:
                return False
        return all(add_years(birth, 13) <= c.birth_date for c in p.children)

    def _is_head(self, hh: Household, p: P) -> bool:
        return p is hh.members[0]

    # -- handlers: return False when ``p`` is not eligible ----------------------------------

    def id_invalid_format(self, hh: Household, p: P) -> bool:
        short = p.id_number[:11]
        if short in self.gen.used_ids:
            return False
        self.gen.used_ids.add(short)
        p.id_number = short
        return True

    def id_sex_mismatch(self, hh: Household, p: P) -> bool:
        p.sex = "F" if p.sex == "M" else "M"
        return True

    def id_birth_year_mismatch(self, hh: Household, p: P) -> bool:
        if p.precision != "day":
            return False
        for years in self.rng.sample((-5, -4, -3, -2, 2, 3, 4, 5), 8):
            birth = add_years(p.birth_date, years)
            if birth >= self.gen.today or birth.year < 1900 or p.age(self.gen.today) - years > 104:
                continue
            if self._gaps_ok(p, birth) and (p.died_on is None or p.died_on > birth):
                p.birth_date = birth  # the ID number keeps the old year
                return True
        return False

    def id_unknown_place(self, hh: Household, p: P) -> bool:
        while True:
            candidate = self.rng.choice(UNKNOWN_PLACES) + p.id_number[3:]
            if candidate not in self.gen.used_ids:
                self.gen.used_ids.add(candidate)
                p.id_number = candidate
                return True

    def unknown_ethnicity_code(self, hh: Household, p: P) -> bool:
        p.ethnicity = "99"
        return True

    def unknown_religion_code(self, hh: Household, p: P) -> bool:
        p.religion = "98"
        return True

    def unknown_commune_code(self, hh: Household, p: P) -> bool:
        p.perm_commune = f"99{self.rng.randrange(1000):03d}"
        return True

    def residence_in_abolished_unit(self, hh: Household, p: P) -> bool:
        if self.abolished is None:
            self.abolished = _abolished_codes()
        p.perm_commune = self.rng.choice(self.abolished)
        return True

    def future_birth_date(self, hh: Household, p: P) -> bool:
        if p.children or p.precision != "day":
            return False
        p.birth_date = self.gen.today + timedelta(days=self.rng.randrange(5 * 365, 15 * 365))
        self.gen.reissue_id(p)
        p.card, p.old_id = False, ""
        return True

    def death_before_birth(self, hh: Household, p: P) -> bool:
        if self._is_head(hh, p) or p.precision != "day":
            return False
        self.gen.kill(p, p.birth_date - timedelta(days=self.rng.randrange(400, 3000)))
        p.card = False
        return True

    def parent_younger_than_child(self, hh: Household, p: P) -> bool:
        parents = [x for x in (p.father, p.mother) if x is not None]
        if not parents or p.children or p.precision != "day":
            return False
        youngest = max(parents, key=lambda x: x.birth_date)
        birth = add_years(youngest.birth_date, self.rng.randrange(2, 11)) + timedelta(days=self.rng.randrange(300))
        if birth >= self.gen.today:
            return False
        p.birth_date = birth
        self.gen.reissue_id(p)
        return True

    def missing_mandatory_field(self, hh: Household, p: P) -> bool:
        name = MANDATORY_BLANKS[self.blank_turn % len(MANDATORY_BLANKS)]
        self.blank_turn += 1
        setattr(p, name, "")
        return True

    def non_canonical_name(self, hh: Household, p: P) -> bool:
        words = p.full_name.split()
        p.full_name = "  ".join([words[0].lower(), *words[1:-1], words[-1].upper()])
        return True

    def implausible_age(self, hh: Household, p: P) -> bool:
        if p.father is not None or p.mother is not None:
            return False
        p.birth_date = date(1900 + self.rng.randrange(5), 1 + self.rng.randrange(12), 1 + self.rng.randrange(28))
        self.gen.reissue_id(p)
        return True

    def deceased_with_active_residence(self, hh: Household, p: P) -> bool:
        if self._is_head(hh, p):
            return False
        low = max(p.birth_date + timedelta(days=1), self.gen.today - timedelta(days=1500))
        span = (self.gen.today - low).days
        if span < 2:
            return False
        self.gen.kill(p, low + timedelta(days=self.rng.randrange(span)))
        return True

    def probable_duplicate(self, hh: Household, p: P) -> bool:
        gen = self.gen
        if self.budget < 1 or p.precision != "day" or p.age(gen.today) < 16:
            return False
        self.budget -= 1
        rng = self.rng
        d = P()
        for attr in ("sex", "birth_date", "birth_place", "breg_commune", "breg_province", "hometown", "ethnicity",
                     "religion", "blood_type", "marital", "father_name", "mother_name", "father", "mother",
                     "family_name", "phone"):
            setattr(d, attr, getattr(p, attr))
        d.full_name = " ".join(w.capitalize() for w in normalize_text(p.full_name).split())
        d.name_norm = p.name_norm
        d.id_place = p.id_place
        d.id_number = gen.new_id_number(p.id_place, p.sex, p.birth_date.year)
        d.relationship = "head"
        d.card = p.card
        d.error = "probable_duplicate"
        province = gen.province_table.draw(rng)
        commune = rng.choice(gen.communes[province])
        created = gen.today - timedelta(days=rng.randrange(30, 3000))
        self.extra.append(Household(0, commune, province, gen.address(commune), created, [d]))
        self.truth.duplicates.append([p.id_number, d.id_number])
        self.truth.errors.append({"id_number": d.id_number, "kind": "probable_duplicate"})
        return True

    # -- duplicates with hard errors (probabilistic matcher) ---------------------------------

    NAME_ERRORS = ("telex", "viqr", "no_diacritics", "name_typo", "name_order")
    DATE_ERRORS = ("day_month_swap", "year_only", "date_digit", None)

    TWIN_RATE = 0.02  # share of children born a twin (about 1 % of births are twin births)

    def inject_hard_duplicates(self, hh: Household, *, rate: float, budget: int) -> list[Household]:
        """Second records with hard errors for some adult members of ``hh``; and, as the hard
        negatives a matcher must not merge, twins: a child of ``hh`` may get a twin in the same
        household (``add_twins``)."""
        if hh.is_fixture:
            return []
        budget -= self.add_twins(hh, budget=budget)
        extra: list[Household] = []
        for p in hh.members:
            if budget < 1:
                break
            if p.status != "alive" or p.precision != "day" or p.age(self.gen.today) < 16:
                continue
            if self.rng.random() >= rate:
                continue
            extra.append(self._hard_duplicate(hh, p))
            budget -= 1
        return extra

    def add_twins(self, hh: Household, *, budget: int) -> int:
        """Give some children of ``hh`` a twin: same parents, birth date, birth place, household
        and surname, the same middle name most of the time when of the same sex, a different
        given name. Recorded under ``truth.match_non_duplicates`` (kind ``twin``). Returns the
        number of persons added."""
        gen, rng = self.gen, self.rng
        added = 0
        # a child damaged by an injected error is skipped: the twin would copy the damage (a
        # blank hometown, an impossible date) and make a rule finding the truth does not list
        for child in [p for p in hh.members if p.relationship == "child" and p.error is None]:
            if added >= budget or rng.random() >= self.TWIN_RATE:
                continue
            twin = gen.child_of(child.father, child.mother, age=child.age(gen.today), home_province=hh.province,
                                mother_name=child.mother_name)
            same_sex = rng.random() < 0.6
            twin.sex = child.sex if same_sex else ("F" if child.sex == "M" else "M")
            middle = child.full_name.split()[1:-1]
            for _attempt in range(20):
                name = gen.person_name(child.family_name, twin.sex)
                if same_sex and middle and rng.random() < 0.7:
                    words = name.split()
                    name = " ".join([words[0], *middle, words[-1]])
                siblings = {c.name_norm for c in (child.father or child.mother or child).children if c is not twin}
                if (normalize_text(name).split()[-1] != normalize_text(child.full_name).split()[-1]
                        and normalize_text(name) not in siblings):
                    break
            twin.full_name, twin.name_norm = name, normalize_text(name)
            twin.birth_date, twin.precision = child.birth_date, child.precision
            for attr in ("breg_commune", "breg_province", "birth_place", "hometown", "ethnicity", "religion"):
                setattr(twin, attr, getattr(child, attr))
            gen.reissue_id(twin)
            twin.card = child.card
            if child.old_id and rng.random() < 0.5:
                twin.old_id = f"{rng.randrange(10_000_000, 400_000_000):09d}"
            elif not child.old_id:
                twin.old_id = ""
            hh.members.insert(hh.members.index(child) + 1, twin)
            self.truth.match_non_duplicates.append({"pair": [child.id_number, twin.id_number], "kind": "twin"})
            added += 1
        return added

    def _misspell(self, name: str, kind: str) -> str:
        rng = self.rng
        words = name.split()
        if kind == "no_diacritics":
            return " ".join(w.capitalize() for w in normalize_text(name).split())
        if kind in ("telex", "viqr"):
            i = rng.randrange(len(words))
            words[i] = spell_with_keystrokes(words[i], kind)
            return " ".join(words)
        if kind == "name_order":  # given name first, as on foreign forms
            return " ".join([*words[1:], words[0]])
        # name_typo: one letter of the family or given name replaced, dropped or doubled
        i = rng.choice((0, len(words) - 1))
        word = normalize_text(words[i])
        j = rng.randrange(len(word))
        how = rng.randrange(3)
        if how == 0 and len(word) > 2:
            word = word[:j] + word[j + 1:]
        elif how == 1:
            word = word[:j] + word[j] + word[j:]
        else:
            word = word[:j] + rng.choice("aeiouhnmtc".replace(word[j], "")) + word[j + 1:]
        words[i] = word.capitalize()
        return " ".join(words)

    def _hard_duplicate(self, hh: Household, p: P) -> Household:
        gen, rng = self.gen, self.rng
        d = P()
        for attr in ("sex", "birth_date", "birth_place", "breg_commune", "breg_province", "hometown", "ethnicity",
                     "religion", "blood_type", "marital", "father_name", "mother_name", "father", "mother",
                     "family_name", "phone", "old_id", "id_place"):
            setattr(d, attr, getattr(p, attr))
        errors = []
        phone = rng.random()
        if phone < 0.45:  # second records are often made without the phone number
            d.phone = ""
            errors.append("no_phone")
        elif phone < 0.6 and p.phone:  # or with the number the person had then
            d.phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10_000_000):07d}"
            errors.append("phone_changed")
        name_error = rng.choice(self.NAME_ERRORS)
        d.full_name = self._misspell(p.full_name, name_error)
        d.name_norm = normalize_text(d.full_name)
        errors.append(name_error)
        father = p.father.full_name if p.father else p.father_name
        mother = p.mother.full_name if p.mother else p.mother_name
        if name_error in ("telex", "viqr", "no_diacritics") and father and mother and rng.random() < 0.7:
            # the same clerk typed the parents' names the same way; the second record is not
            # linked to the parents' own records
            d.father = d.mother = None
            d.father_name, d.mother_name = self._misspell(father, name_error), self._misspell(mother, name_error)
            errors.append("parents_" + name_error)
        date_error = rng.choice(self.DATE_ERRORS)
        b = p.birth_date
        if date_error == "day_month_swap" and b.day <= 12 and b.day != b.month:
            d.birth_date = date(b.year, b.day, b.month)
        elif date_error == "year_only":
            d.birth_date, d.precision = date(b.year, 1, 1), "year"
        elif date_error == "date_digit":
            day = b.day + rng.choice((-1, 1)) if 1 < b.day < 28 else 15
            d.birth_date = date(b.year, b.month, day)
        else:
            date_error = None
        if date_error:
            errors.append(date_error)
        province = hh.province
        where = rng.randrange(3)
        if where == 0:
            commune = hh.commune
            errors.append("same_commune")
        else:
            if where == 2:
                province = gen.province_table.draw(rng)
            commune = rng.choice(gen.communes[province])
            errors.append("moved_in_province" if where == 1 else "moved_elsewhere")
        if p.old_id and rng.random() < 0.3:  # the clerk did not copy the old card number
            d.old_id = ""
        elif p.old_id:
            errors.append("old_id_kept")
        d.id_number = gen.new_id_number(p.id_place, d.sex, d.birth_date.year)
        d.relationship = "head"
        d.card = False
        d.error = "hard_duplicate"
        created = gen.today - timedelta(days=rng.randrange(30, 3000))
        self.truth.match_duplicates.append({"pair": [p.id_number, d.id_number], "errors": errors})
        return Household(0, commune, province, gen.address(commune), created, [d])
