"""Watch-list screening of declared guests through the probabilistic matcher (``popid.matching``:
Splink, Fellegi–Sunter, DuckDB).

The declaration itself keeps its cheap exact check (nationality + document number, or nationality
+ name + birth date). This job adds what an exact rule cannot see: a name typed in another order,
with or without diacritics ("Müller" / "MULLER"), a spelling variant, a birth date with day and
month swapped or one digit off, a new passport number. Guests and watch-list entries become the
matcher's canonical records (``matching.records``); the comparisons are the matcher's own
(name, middle name, birth date, document number) plus the nationality as a ``place`` column
(exact or not).

There is no labelled data to train on (a watch list is a handful of rows), so the model's
``m``/``u`` probabilities are **set, not estimated** (``PARAMETERS`` below, documented in
docs/immigration.md) and passed to the matcher like a saved model. Every pair scoring at least
``HIT_THRESHOLD`` becomes a ``WatchHit`` (``matched_on="matcher"``, with the score and each
comparison's weight) in the officers' review queue. Every guest compared is a look-up of their
data: one access record per guest (key nationality + document number) per run.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max

from popid.core.access import AccessContext, Actor, record_access
from popid.immigration.models import Stay, WatchHit, WatchListEntry, WatchScreening
from popid.immigration.mrz import passport_key

HIT_THRESHOLD = 0.5  # a watch list prefers recall: everything at least even odds goes to an officer
PRIOR = 1e-5  # probability that a random guest/entry pair is the same person
BATCH = 20_000
# Term-frequency adjustments off: frequencies within a handful of watch-list rows say nothing. Splink
# reads a weight of 0 as "not given" (and applies 1.0), so the weight is a negligible positive one.
TF_OFF = 1e-9
PURPOSE = "Đối chiếu khách lưu trú với danh sách theo dõi"
LEGAL_BASIS = "Luật Nhập cảnh, xuất cảnh, quá cảnh, cư trú của người nước ngoài tại Việt Nam, Điều 33"
FIELDS = ("full_name", "birth_date", "nationality", "document_number")

# (m, u) per comparison level in the matcher's order, None for the null level. Each m column and
# each u column sums to 1 over the non-null levels.
PARAMETERS: dict[str, list[tuple[float, float] | None]] = {
    # null, same with diacritics, same without diacritics, same words other order, JW ≥ 0.92,
    # same given name + JW ≥ 0.8, else
    "name": [None, (0.55, 1e-6), (0.20, 2e-6), (0.10, 1e-6), (0.08, 1e-4), (0.04, 1e-3), (0.03, 0.998896)],
    "middle_name": [None, (0.9, 0.01), (0.1, 0.99)],
    # null, same date, day/month swapped, one side year only, one digit off, same year and month,
    # same year, else
    "birth": [None, (0.85, 5e-5), (0.03, 5e-6), (0.02, 1e-3), (0.05, 4e-4), (0.02, 0.0011), (0.025, 0.0119),
              (0.005, 0.985545)],
    # null, same document number, (unused) same old-ID number, (unused) two different old-ID
    # numbers: guests' travel documents have no old 9-digit number; else
    "document": [None, (0.9, 1e-7), (0.001, 1e-7), (0.001, 1e-6), (0.098, 0.9999988)],
    # nationality: null, same, else
    "place": [None, (0.95, 0.05), (0.05, 0.95)],
}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters.lower()).split())


def guest_record(unique_id: str, *, surname: str, given_names: str, birth_date: date | None, nationality: str,
                 document_number: str) -> dict[str, Any]:
    """One side of the comparison as a canonical match record (``matching.records.SCHEMA``)."""
    from popid.matching.records import empty_record

    record = empty_record(unique_id)
    full = " ".join(f"{surname} {given_names}".split())
    plain = _plain(full)
    if plain:
        tokens = plain.split()
        surname_words = _plain(surname).split()
        given_words = _plain(given_names).split()
        record.update(name_exact=" ".join(unicodedata.normalize("NFC", full).lower().split()), name_plain=plain,
                      name_sorted=" ".join(sorted(tokens)), family=" ".join(surname_words) or None,
                      given=given_words[0] if given_words else None,
                      middle=" ".join(given_words[1:]) or None)
    if birth_date is not None:
        record.update(birth_date=birth_date.isoformat(), birth_year=birth_date.year, birth_month=birth_date.month,
                      birth_day=birth_date.day)
    record["id_new"] = "".join((document_number or "").upper().split()) or None
    record["region"] = (nationality or "").upper() or None
    return record


def _field_set() -> Any:
    from popid.matching.engine import FieldSet

    return FieldSet(features=("birth", "document", "name", "place"), place_columns=("region",))


def model() -> dict[str, Any]:
    """The set parameters in the shape of a saved Splink model (checked against the comparisons)."""
    from popid.matching.engine import settings_for

    settings = settings_for(_field_set(), link=True).create_settings_dict("duckdb")
    comparisons = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        params = PARAMETERS[name]
        if len(params) != len(comparison["comparison_levels"]):  # pragma: no cover - guards a matcher change
            raise RuntimeError(f"watch-list parameters of {name!r} no longer fit the matcher's levels")
        comparisons.append({"output_column_name": name, "comparison_levels": [
            {"tf_adjustment_weight": TF_OFF} if p is None else
            {"m_probability": p[0], "u_probability": p[1], "tf_adjustment_weight": TF_OFF} for p in params]})
    return {"probability_two_random_records_match": PRIOR, "comparisons": comparisons}


@dataclass
class Pair:
    guest: str
    entry: int
    score: float
    evidence: list[dict[str, Any]]


def score(guests: list[dict[str, Any]], entries: list[dict[str, Any]]) -> tuple[list[Pair], int]:
    """Every guest/entry pair the matcher finds at or above ``HIT_THRESHOLD``, and how many pairs
    it compared."""
    from popid.matching.engine import Matcher, evidence, level_labels
    from popid.matching.records import to_arrow

    if not guests or not entries:
        return [], 0
    field_set = _field_set()
    saved = model()
    matcher = Matcher([to_arrow(guests), to_arrow(entries)], field_set, model=saved)
    result = matcher.predict(threshold=HIT_THRESHOLD, count=False)
    labels = level_labels(matcher.model_dict())
    pairs = []
    for row in result.pairs:
        ids = sorted((str(row["unique_id_l"]), str(row["unique_id_r"])))  # ("s…" guest, "w…" entry)
        guest_id, entry_id = ids
        pairs.append(Pair(guest=guest_id, entry=int(entry_id[1:]), score=float(row["match_probability"]),
                          evidence=[_nationality_named(e) for e in evidence(row, field_set, labels)]))
    return pairs, len(result.pairs)


def _nationality_named(row: dict[str, Any]) -> dict[str, Any]:
    """The matcher's ``place`` comparison carries the nationality here: say so on the review page."""
    if row["comparison"] == "place":
        return {**row, "comparison": "nationality", "level": str(row["level"]).replace("region", "nationality")}
    return row


def _stay_record(stay: Stay) -> dict[str, Any]:
    return guest_record(f"s{stay.pk}", surname=stay.person.surname, given_names=stay.person.given_names,
                        birth_date=stay.person.birth_date, nationality=stay.person.nationality,
                        document_number=stay.document.number)


def _entry_record(entry: WatchListEntry) -> dict[str, Any]:
    return guest_record(f"w{entry.pk}", surname=entry.surname, given_names=entry.given_names,
                        birth_date=entry.birth_date, nationality=entry.nationality,
                        document_number=entry.document_number)


@dataclass
class ScreeningResult:
    guests: int
    entries: int
    pairs: int
    hits: int


def _screen(stays: list[Stay], entries: list[WatchListEntry], ctx: AccessContext) -> tuple[int, int]:
    pairs, compared = score([_stay_record(s) for s in stays], [_entry_record(e) for e in entries])
    by_stay = {f"s{s.pk}": s for s in stays}
    hits = []
    for pair in pairs:
        stay = by_stay[pair.guest]
        hits.append(WatchHit(entry_id=pair.entry, stay=stay, matched_on="matcher", score=round(pair.score, 6),
                             evidence=pair.evidence, commune_code=stay.commune_code,
                             province_code=stay.province_code))
    before = WatchHit.objects.filter(stay__in=stays).count()
    WatchHit.objects.bulk_create(hits, ignore_conflicts=True)  # an exact hit already there stays as it is
    record_access(ctx=ctx, person_id_numbers=[passport_key(s.document.nationality, s.document.number)
                                              for s in stays], fields=FIELDS)
    return compared, WatchHit.objects.filter(stay__in=stays).count() - before


def screen_new_stays(*, actor: Actor | None = None, limit: int = BATCH) -> ScreeningResult:
    """Compare the guests declared since the last run with the active watch list."""
    actor = actor or Actor.system("watch-list-screening")
    ctx = AccessContext(actor=actor, purpose=PURPOSE, legal_basis=LEGAL_BASIS, channel="batch")
    with transaction.atomic():
        last = WatchScreening.objects.aggregate(m=Max("last_stay_id"))["m"] or 0
        stays = list(Stay.objects.select_related("person", "document").filter(pk__gt=last).order_by("pk")[:limit])
        entries = list(WatchListEntry.objects.filter(is_active=True))
        if not stays:
            return ScreeningResult(0, len(entries), 0, 0)
        compared, hits = _screen(stays, entries, ctx) if entries else (0, 0)
        WatchScreening.objects.create(last_stay_id=stays[-1].pk, guests=len(stays), entries=len(entries),
                                      comparisons=compared, hits=hits)
    return ScreeningResult(len(stays), len(entries), compared, hits)


def screen_present_against(entry: WatchListEntry, *, actor: Actor) -> ScreeningResult:
    """A new watch-list entry compared with the guests present now (open stays)."""
    ctx = AccessContext(actor=actor, purpose=PURPOSE, legal_basis=LEGAL_BASIS, channel="batch")
    stays = list(Stay.objects.select_related("person", "document").filter(departure_at__isnull=True)
                 .order_by("pk")[:BATCH * 10])
    if not stays:
        return ScreeningResult(0, 1, 0, 0)
    compared, hits = _screen(stays, [entry], ctx)
    return ScreeningResult(len(stays), 1, compared, hits)
