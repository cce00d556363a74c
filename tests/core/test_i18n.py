"""The English catalogues stay complete: every Vietnamese source string has a translation, none
is fuzzy, and the compiled .mo exists (it is committed for machines without gettext).

The project catalogue lives in ``popid/locale``; apps added later (ledger, exchange, documents,
wallet) keep their own ``<app>/locale`` catalogue, made with ``makemessages`` run inside the app
directory, so that work on different apps never edits the same .po file."""

from __future__ import annotations

import re
from pathlib import Path

import popid

PACKAGE = Path(popid.__file__).parent
LOCALE = PACKAGE / "locale" / "en" / "LC_MESSAGES"
CATALOGUES = sorted(PACKAGE.glob("**/locale/en/LC_MESSAGES/django.po"))


def _entries() -> list[str]:
    entries = []
    for po in CATALOGUES:
        text = po.read_text(encoding="utf-8")
        entries += [e for e in text.split("\n\n") if "msgid" in e and not e.lstrip().startswith('msgid ""')
                    and not e.startswith("# SOME")]
    return entries


def test_every_catalogue_is_compiled():
    for po in CATALOGUES:
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_size > 0, f"{mo} missing: run compilemessages"


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
