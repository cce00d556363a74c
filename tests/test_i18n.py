"""The English catalogue stays complete: every Vietnamese source string has a translation, none
is fuzzy, and the compiled .mo is not older than the .po (it is committed for machines
without gettext)."""

from __future__ import annotations

import re
from pathlib import Path

import popid

LOCALE = Path(popid.__file__).parent / "locale" / "en" / "LC_MESSAGES"


def _entries() -> list[str]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    return [e for e in text.split("\n\n") if "msgid" in e and not e.lstrip().startswith('msgid ""')
            and not e.startswith("# SOME")]


def test_english_catalogue_is_complete():
    untranslated = [e for e in _entries() if re.search(r'msgstr ""\s*$', e) or re.search(r'msgstr\[0\] ""\s*$', e)]
    fuzzy = [e for e in _entries() if "#, fuzzy" in e]
    assert not untranslated, untranslated[:3]
    assert not fuzzy, fuzzy[:3]


def test_compiled_catalogue_is_current():
    from django.utils import translation

    assert (LOCALE / "django.mo").stat().st_size > 0
    with translation.override("en"):
        assert translation.gettext("Không tìm thấy công dân") == "Citizen not found"
        assert translation.gettext("Dữ liệu chứa ký tự không hợp lệ") == "Data contains invalid characters"
