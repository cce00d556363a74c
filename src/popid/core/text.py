"""Accent-insensitive normalisation of Vietnamese names and addresses.

Stored values keep their diacritics; searches compare the normalised form, so
"Nguyễn Văn Đức", "nguyen van duc" and "NGUYỄN  VĂN ĐỨC" all meet.
"""

from __future__ import annotations

import unicodedata

_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def normalize_text(value: str) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse whitespace."""
    decomposed = unicodedata.normalize("NFD", value.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


def clean_display_name(value: str) -> str:
    """Canonical display form: NFC, single spaces, each word capitalised, diacritics kept."""
    words = unicodedata.normalize("NFC", value).split()
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)
