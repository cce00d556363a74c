"""Normalisation of the values the matcher compares.

Vietnamese names typed on a keyboard without an input method keep the keystrokes of the
method the clerk expected: Telex ("Nguyeenx", "Hoangf"), VNI ("Nguye6n4") or VIQR
("Nguye^~n"). ``fix_input_method`` turns such a word back into the syllable it meant
("Nguyễn") when, and only when, the result is a well-formed Vietnamese syllable, so names
from other languages ("James", "O'Brien", "Chris") pass through unchanged.

``syllable_key`` gives a diacritics-aware comparison key that does not depend on where the
tone mark was placed ("Hoà" and "Hòa" → "hoa2"); ``normalize_text`` (core.text) gives the
accent-insensitive form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from popid.core.text import normalize_text

# Tone marks as combining characters, numbered as in VNI: 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng.
TONE_MARKS = {"\u0301": 1, "\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}
TONE_CHARS = {number: mark for mark, number in TONE_MARKS.items()}
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"

VOWELS = "aăâeêioôơuưy"
MODIFIED_VOWELS = "ăâêôơư"
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?"
    rf"([{VOWELS}]{{1,3}})"
    r"(ch|ng|nh|c|m|n|p|t)?$"
)
# "gi" and "qu" followed by a vowel: the i/u belongs to the initial ("giờ", "quốc").
_GI_QU = re.compile(rf"^(gi|qu)([{VOWELS}].*)$")

_TELEX_TONES = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
_TELEX_PAIRS = (("uow", "ươ"), ("uwow", "ươ"), ("aa", "â"), ("aw", "ă"), ("ee", "ê"), ("oo", "ô"),
                ("ow", "ơ"), ("uw", "ư"), ("dd", "đ"))
_VIQR_MODIFIERS = {"^": CIRCUMFLEX, "(": BREVE, "+": HORN}
_VIQR_TONES = {"'": 1, "`": 2, "?": 3, "~": 4, ".": 5}
_VNI_MODIFIERS = {"6": CIRCUMFLEX, "8": BREVE, "7": HORN}
_VNI_TONES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


def _split_tone(word: str) -> tuple[str, int]:
    """The word without its tone mark (NFC, modifiers kept) and the tone number (0: level)."""
    tone = 0
    kept = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in TONE_MARKS:
            tone = TONE_MARKS[ch]
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def is_vietnamese_syllable(word: str) -> bool:
    """A lower-case syllable, tone ignored: initial consonant, 1-3 vowels, final consonant."""
    base, _ = _split_tone(word.lower())
    return bool(_SYLLABLE.match(base))


def _tone_position(base: str) -> int:
    """Index in ``base`` (lower case, no tone) of the vowel that carries the tone mark."""
    offset = 0
    match = _GI_QU.match(base)
    if match:
        offset, base = len(match.group(1)), match.group(2)
    positions = [i for i, ch in enumerate(base) if ch in VOWELS]
    if not positions:
        return -1
    start, end = positions[0], positions[-1]
    # the nucleus is the contiguous run of vowels
    nucleus = [i for i in range(start, end + 1) if base[i] in VOWELS]
    modified = [i for i in nucleus if base[i] in MODIFIED_VOWELS]
    if modified:
        chosen = modified[-1]
    elif end < len(base) - 1:  # a final consonant follows: the last vowel
        chosen = nucleus[-1]
    elif len(nucleus) == 3:
        chosen = nucleus[1]
    else:  # open syllable of one or two vowels: the first ("hòa", "thủy", "mùa")
        chosen = nucleus[0]
    return offset + chosen


def compose(base: str, tone: int) -> str:
    """Put ``tone`` on the right vowel of ``base`` (a syllable without tone mark), NFC."""
    base = unicodedata.normalize("NFC", base)
    if not tone:
        return base
    position = _tone_position(base.lower())
    if position < 0:
        return base
    return unicodedata.normalize("NFC", base[: position + 1] + TONE_CHARS[tone] + base[position + 1:])


def _restore_case(original: str, converted: str) -> str:
    letters = [c for c in original if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return converted.upper()
    if letters and letters[0].isupper():
        return converted[:1].upper() + converted[1:]
    return converted


def _apply_modifier(chars: list[str], modifier: str) -> bool:
    """Add a circumflex, breve or horn to the last letter it fits; False when none fits."""
    fits = {CIRCUMFLEX: "aeo", BREVE: "a", HORN: "ou"}[modifier]
    for i in range(len(chars) - 1, -1, -1):
        if chars[i] in fits:
            chars[i] = unicodedata.normalize("NFC", chars[i] + modifier)
            # "uo" + horn is "ươ": both letters take the horn
            if modifier == HORN and chars[i] == "ơ" and i > 0 and chars[i - 1] == "u":
                chars[i - 1] = "ư"
            return True
        if chars[i] not in VOWELS:
            return False
    return False


def _from_telex(word: str) -> tuple[str, int] | None:
    if not word.isascii() or not word.isalpha():
        return None
    base, tone = word, 0
    if len(base) > 2 and base[-1] in _TELEX_TONES:
        base, tone = base[:-1], _TELEX_TONES[base[-1]]
    for keys, letter in _TELEX_PAIRS:
        base = base.replace(keys, letter)
    if base.startswith("w"):
        return None
    base = re.sub(r"(?<=[^aeiouy])w|^w", "ư", base)
    if base == word:
        return None
    return base, tone


def _from_marks(word: str, modifiers: dict[str, str], tones: dict[str, int]) -> tuple[str, int] | None:
    """VIQR or VNI: marks written as characters after the letter they modify."""
    if not any(ch in modifiers or ch in tones for ch in word) and "dd" not in word and "d9" not in word:
        return None
    chars: list[str] = []
    tone = 0
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "d" and i + 1 < len(word) and word[i + 1] in ("d", "9") and not chars:
            chars.append("đ")
            i += 2
            continue
        if ch in modifiers and chars:
            if not _apply_modifier(chars, modifiers[ch]):
                return None
        elif ch in tones and chars:
            if tone:
                return None
            tone = tones[ch]
        elif ch.isalpha():
            chars.append(ch)
        else:
            return None
        i += 1
    return "".join(chars), tone


def fix_input_method(word: str) -> str:
    """One word with Telex, VNI or VIQR keystrokes left in it, as the syllable it spells.

    The word is returned unchanged unless the conversion gives a well-formed syllable.
    """
    if not word:
        return word
    lower = word.lower()
    for convert in (_from_telex, lambda w: _from_marks(w, _VIQR_MODIFIERS, _VIQR_TONES),
                    lambda w: _from_marks(w, _VNI_MODIFIERS, _VNI_TONES)):
        result = convert(lower)
        if result is None:
            continue
        base, tone = result
        if _SYLLABLE.match(base):
            return _restore_case(word, compose(base, tone))
    return word


def clean_name(value: str) -> str:
    """A name with input-method leftovers fixed, NFC, single spaces, words capitalised."""
    words = unicodedata.normalize("NFC", value or "").split()
    fixed = [fix_input_method(w) for w in words]
    return " ".join(w[:1].upper() + w[1:].lower() for w in fixed)


def syllable_key(value: str) -> str:
    """Diacritics-aware, tone-placement-free key: "Hoà Bình" and "hòa  bình" → "hoa2 binh2"."""
    keys = []
    for word in unicodedata.normalize("NFC", value or "").lower().split():
        base, tone = _split_tone(word)
        keys.append(f"{base}{tone or ''}")
    return " ".join(keys)


@dataclass(frozen=True)
class NameParts:
    """A person's name prepared for comparison (all lower case)."""

    exact: str  # diacritics-aware key of the whole name
    plain: str  # accent-insensitive whole name
    sorted_tokens: str  # accent-insensitive tokens in sorted order: swapped order still meets
    family: str
    middle: str
    given: str


def name_parts(full_name: str | None = None, *, family: str | None = None, given: str | None = None,
               family_first: bool = True) -> NameParts | None:
    """Split a name for the matcher. Vietnamese order is family, middle, given."""
    if full_name is None or not full_name.strip():
        joined = " ".join(x for x in (family or "", given or "") if x.strip())
        if not joined.strip():
            return None
        full_name, family_first = joined, True
    cleaned = clean_name(full_name)
    plain = normalize_text(cleaned)
    tokens = plain.split()
    if not tokens:
        return None
    if len(tokens) == 1:
        fam, mid, giv = "", "", tokens[0]
    elif family_first:
        fam, mid, giv = tokens[0], " ".join(tokens[1:-1]), tokens[-1]
    else:
        fam, mid, giv = tokens[-1], " ".join(tokens[1:-1]), tokens[0]
    return NameParts(exact=syllable_key(cleaned), plain=plain, sorted_tokens=" ".join(sorted(tokens)),
                     family=fam, middle=mid, given=giv)


_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)
_YEAR_ONLY = re.compile(r"^(?P<y>\d{4})$")


class UnparseableDate(ValueError):
    pass


@dataclass(frozen=True)
class BirthDate:
    """A birth date that may be known only to the year."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def iso(self) -> str | None:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}" if self.month and self.day else None


def parse_birth_date(value: str | None) -> BirthDate | None:
    """ISO (yyyy-mm-dd), dd/mm/yyyy (also with . or -), yyyymmdd, or a bare year.

    Empty → None; anything else that is not a possible date raises ``UnparseableDate``.
    """
    text = (value or "").strip()
    if not text:
        return None
    match = _YEAR_ONLY.match(text)
    if match:
        year = int(match.group("y"))
        if not 1800 <= year <= 2200:
            raise UnparseableDate(text)
        return BirthDate(year)
    for pattern in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                parsed = date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
            except ValueError as exc:
                raise UnparseableDate(text) from exc
            if not 1800 <= parsed.year <= 2200:
                raise UnparseableDate(text)
            return BirthDate(parsed.year, parsed.month, parsed.day)
    raise UnparseableDate(text)


_MALE = {"m", "male", "man", "nam", "1", "h", "homme", "masculin"}
_FEMALE = {"f", "female", "woman", "nu", "nữ", "2", "w", "femme", "feminin"}


def parse_sex(value: str | None) -> str | None:
    text = normalize_text(value or "")
    if text in _MALE:
        return "M"
    if text in {normalize_text(x) for x in _FEMALE}:
        return "F"
    return None


def digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def parse_phone(value: str | None) -> str | None:
    """National significant number: "+84 912 345 678", "0912345678" → "912345678"."""
    number = digits(value)
    if number.startswith("84") and len(number) == 11:
        number = number[2:]
    number = number.lstrip("0")
    return number or None


def parse_document_id(value: str | None) -> tuple[str | None, str | None]:
    """(12-digit citizen ID number, 9-digit old ID card number) from one value; other lengths
    are kept as a document number in the first slot (foreign files: passports and the like)."""
    text = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    if not text:
        return None, None
    if text.isdigit() and len(text) == 9:
        return None, text
    return text, None


def plain_text(value: str | None) -> str | None:
    text = normalize_text(value or "")
    return text or None


_TELEX_LETTERS = {"â": "aa", "ă": "aw", "ê": "ee", "ô": "oo", "ơ": "ow", "ư": "uw", "đ": "dd"}
_VIQR_LETTERS = {"â": "a^", "ă": "a(", "ê": "e^", "ô": "o^", "ơ": "o+", "ư": "u+", "đ": "dd"}
_TELEX_TONE_KEYS = {number: key for key, number in _TELEX_TONES.items()}
_VIQR_TONE_KEYS = {number: key for key, number in _VIQR_TONES.items()}


def spell_with_keystrokes(word: str, method: str = "telex") -> str:
    """The keystrokes a clerk types for ``word`` without an input method active: the inverse of
    ``fix_input_method`` (used by the synthetic generator to make realistic errors)."""
    base, tone = _split_tone(word)
    letters = _TELEX_LETTERS if method == "telex" else _VIQR_LETTERS
    out = []
    for ch in base:
        spelled = letters.get(ch.lower())
        if spelled is None:
            out.append(ch)
        else:
            out.append(spelled.capitalize() if ch.isupper() else spelled)
    text = "".join(out)
    if method == "telex":
        text = text.replace("uwow", "uow")
        return text + (_TELEX_TONE_KEYS[tone] if tone else "")
    if tone:  # VIQR: the tone mark right after the vowel that carries it
        position = _tone_position(base.lower())
        prefix = "".join(letters.get(c.lower(), c) for c in base[: position + 1])
        text = text[: len(prefix)] + _VIQR_TONE_KEYS[tone] + text[len(prefix):]
    return text
