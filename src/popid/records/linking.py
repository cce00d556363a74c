"""Finding persons in recognised text and proposing them as registry persons.

- **ID numbers**: 12-digit numbers (căn cước) and 9-digit numbers (old CMND) standing alone in the
  text. A 12-digit number proposes the registry person holding it (or holding it as a cancelled
  number); a 9-digit one the person whose ``old_id_number`` it is. A number that no registry
  person has is not proposed.
- **Names with birth dates**: a name after a label ("Họ và tên", "Họ tên", "Chủ hộ", …) with a
  birth date ("sinh ngày 12/03/1965", "năm sinh 1965") on the same line or the next two. Both sides
  become the matcher's canonical records (``matching.records``: the same normaliser that fixes
  Telex/VNI input, splits family/middle/given names and parses partial dates) and are ranked by
  the same matcher as a case's person links (``police.linking.rank``: indexed registry candidates
  scored by Splink's match probability).

Labels are searched on an accent-free copy of each line (OCR often drops a diacritic) whose
characters align one to one with the original, so the name keeps the diacritics it was read with.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from popid.core.text import normalize_text
from popid.matching.normalise import UnparseableDate, name_parts, parse_birth_date
from popid.matching.records import empty_record
from popid.police.linking import Query, rank
from popid.registry.models import CancelledIdNumber, Person

PROPOSE_AT = 0.7  # pairs scoring below this are not proposed
MAX_CANDIDATES = 20  # per name mention (a very common name with only a birth year)

ID12_RE = re.compile(r"(?<![\d.,/-])(\d{12})(?![\d.,/-]?\d)")
ID9_RE = re.compile(r"(?<![\d.,/-])(\d{9})(?![\d.,/-]?\d)")
NAME_RE = re.compile(
    r"(?:ho va ten|ho ten|ho, ten|chu ho|ten khai sinh)[^:\n]{0,25}?:\s*"
    r"(?P<name>[^\W\d_]+(?:[ \t]+[^\W\d_]+){1,5})")
DATE_RE = re.compile(r"(?<!\d)(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>(?:18|19|20)\d{2})(?!\d)")
YEAR_RE = re.compile(r"(?:nam sinh|sinh nam|sinh)\s*:?\s*(?P<y>(?:18|19|20)\d{2})(?!\d)")
STOP_WORDS = {"sinh", "nam", "ngay", "gioi", "quan", "que", "dan", "toc", "noi", "so", "nghe"}


@dataclass(frozen=True)
class Mention:
    page: int
    source: str  # "id_number" | "name_birth"
    text: str
    id_number: str = ""
    name: str = ""
    birth: str = ""  # dd/mm/yyyy or yyyy


@dataclass(frozen=True)
class Proposal:
    mention: Mention
    person_id: int
    score: float


def fold(line: str) -> str:
    """Lower-case and accent-free, one character for one character (for finding labels)."""
    out = []
    for ch in line:
        if ch in "đĐ":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else ch)
    return "".join(out)


def _name_from(original: str) -> str:
    words = original.split()
    kept = []
    for word in words:
        if normalize_text(word) in STOP_WORDS:
            break
        kept.append(word)
    return " ".join(kept) if len(kept) >= 2 else ""


def find_mentions(pages: list[str]) -> list[Mention]:
    mentions: list[Mention] = []
    for page_number, text in enumerate(pages, start=1):
        seen_numbers: set[str] = set()
        for regex in (ID12_RE, ID9_RE):
            for match in regex.finditer(text):
                number = match.group(1)
                if number not in seen_numbers:
                    seen_numbers.add(number)
                    mentions.append(Mention(page=page_number, source="id_number", text=number, id_number=number))
        lines = text.splitlines()
        for index, line in enumerate(lines):
            folded = fold(line)
            for match in NAME_RE.finditer(folded):
                name = _name_from(line[match.start("name"):match.end("name")])
                if not name:
                    continue
                window = fold(" ".join([line[match.end("name"):], *lines[index + 1:index + 3]]))
                date = DATE_RE.search(window)
                if date:
                    birth = f"{int(date['d']):02d}/{int(date['m']):02d}/{date['y']}"
                else:
                    year = YEAR_RE.search(window)
                    if not year:
                        continue
                    birth = year["y"]
                mentions.append(Mention(page=page_number, source="name_birth", text=f"{name}, {birth}",
                                        name=name, birth=birth))
    return mentions


def mention_record(mention: Mention) -> dict[str, Any]:
    """The mention as the matcher's canonical record."""
    record = empty_record(f"m{mention.page}")
    parts = name_parts(mention.name)
    if parts is not None:
        record.update(name_exact=parts.exact, name_plain=parts.plain, name_sorted=parts.sorted_tokens,
                      family=parts.family or None, middle=parts.middle or None, given=parts.given or None)
    try:
        birth = parse_birth_date(mention.birth)
    except UnparseableDate:
        birth = None
    if birth is not None:
        record.update(birth_date=birth.iso, birth_year=birth.year, birth_month=birth.month, birth_day=birth.day)
    return record


def person_for_number(number: str) -> Person | None:
    if len(number) == 12:
        person = Person.objects.filter(id_number=number).first()
        if person is None:
            cancelled = CancelledIdNumber.objects.select_related("person").filter(id_number=number).first()
            person = cancelled.person if cancelled else None
        return person
    if len(number) == 9:
        return Person.objects.filter(old_id_number=number).order_by("pk").first()
    return None


def propose(mentions: list[Mention]) -> list[Proposal]:
    """The registry persons the mentions name, best score per person."""
    best: dict[int, Proposal] = {}

    def keep(proposal: Proposal) -> None:
        known = best.get(proposal.person_id)
        if known is None or proposal.score > known.score:
            best[proposal.person_id] = proposal

    for mention in mentions:
        if mention.source == "id_number":
            person = person_for_number(mention.id_number)
            if person is not None:
                keep(Proposal(mention=mention, person_id=person.pk, score=1.0))
            continue
        left = mention_record(mention)
        if not left.get("name_plain") or not left.get("birth_year"):
            continue
        # The same matcher as a case's person links (police.linking: indexed candidates, Splink's
        # Fellegi–Sunter probability), so a name read on a scan and a name told to an officer are
        # weighed alike; only a probability at or above PROPOSE_AT becomes a proposal.
        query = Query(full_name=mention.name, birth_year=int(left["birth_year"]),
                      birth_date=str(left.get("birth_date") or ""))
        for candidate in rank(query)[:MAX_CANDIDATES]:
            if candidate.probability >= PROPOSE_AT:
                keep(Proposal(mention=mention, person_id=candidate.person.pk, score=round(candidate.probability, 3)))
    return sorted(best.values(), key=lambda p: (-p.score, p.person_id))
