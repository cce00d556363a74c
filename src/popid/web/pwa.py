"""The installable citizen app (issue #19): the web app manifest, the service worker's rules and
its version. The views that serve them are in ``web/views.py``; the worker itself is the template
``web/sw.js``, filled with the JSON of ``worker_config()`` so the rules live here, in one place.

Caching rules (docs/architecture.md, "The installable citizen app"):

- only same-origin GET requests are ever answered from a cache; ``/api/`` and officer pages are
  never touched (the worker lets the browser fetch them as if it did not exist);
- static files (``/static/``): cache-first in the *shell* cache, whose name carries the version
  (a hash of every static file and of the worker), so a deployment replaces them all at once;
- citizen pages (``PORTAL_PAGES``): network-first; a page is *kept* for offline use only when its
  path is one of ``OFFLINE_PAGES`` (wallet and its credentials, the access-history check, the
  dossiers and their receipts, the notifications) and the answer was a 200 HTML page that was not
  redirected (a session that ended sends the login page, which is never kept);
- offline, a citizen page that was not kept gets the translated offline page (precached);
- the *pages* cache (personal data) is deleted when the citizen logs out or logs in (the worker
  sees the POST to the logout or login address before it leaves, and the page's script deletes it
  too before submitting the logout form), when a page navigation lands on the login page (the
  session ended), and entries older than ``MAX_AGE_DAYS`` are never served.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

THEME_COLOUR = "#8c0d17"  # --red-dark of console.css: the header's colour
BACKGROUND_COLOUR = "#f3f5f8"  # --bg
MAX_AGE_DAYS = 14

# Paths under which the worker answers navigations (network-first, offline page when unreachable).
PORTAL_PAGES = [
    r"^/tai-khoan/(?!can-bo/)",
    r"^/dich-vu-cong/(?!ngan-hang-thu-nghiem/)",
    r"^/vi-giay-to/(?!to-chuc/|oid4vci/)",
    r"^/so-cai/lich-su-truy-cap/$",
    r"^/chia-se/dong-y/$",
    r"^/phat-nguoi/cua-toi/",
    r"^/thong-bao/",
    r"^/danh-muc/$",
    r"^/ngoai-tuyen/$",
]
# Of those, the pages kept for offline reading (the citizen's own data, deleted at logout).
OFFLINE_PAGES = [
    r"^/vi-giay-to/$",
    r"^/vi-giay-to/giay-to/\d+/$",
    r"^/so-cai/lich-su-truy-cap/$",
    r"^/dich-vu-cong/ho-so/$",
    r"^/dich-vu-cong/ho-so/[^/]+/$",
    r"^/dich-vu-cong/ho-so/[^/]+/bien-nhan/$",
    r"^/thong-bao/$",
]


@functools.cache
def static_fingerprint() -> str:
    """SHA-256 over every static file's path and content: the worker's cache name changes with any
    of them (the static files are served under stable names, so the version must change instead)."""
    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            digest.update(path.encode() + b"\0")
            with storage.open(path) as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def worker_config() -> dict[str, Any]:
    """What the service worker needs to know, as JSON (paths from the URL configuration)."""
    return {
        "portalPages": PORTAL_PAGES,
        "offlinePages": OFFLINE_PAGES,
        "offlineUrl": reverse("web:offline"),
        "languageCookie": settings.LANGUAGE_COOKIE_NAME,
        "logoutPaths": [reverse("identity:logout")],
        "loginPaths": [reverse("identity:login"), reverse("identity:otp"), reverse("identity:step_up")],
        "maxAgeDays": MAX_AGE_DAYS,
        "staticPrefix": settings.STATIC_URL,
        "precache": [static(name) for name in (
            "web/console.css", "web/app.css", "web/portal.js", "web/pwa.js", "web/emblem.svg",
            "web/icons/icon-192.png", "web/icons/icon-512.png", "web/icons/icon-maskable-512.png")],
    }


def worker_version(source: str) -> str:
    """Short version of the worker: its own source (with the config) and every static file."""
    return hashlib.sha256((source + static_fingerprint()).encode()).hexdigest()[:16]


def manifest(language: str) -> dict[str, Any]:
    """The W3C web app manifest in ``language`` (Vietnamese unless "en"). ``id`` is the same in every
    language so both manifests describe one installed app."""
    with translation.override(language if language == "en" else "vi"):
        return {
            "id": reverse("identity:profile"),
            "name": _("PopID — Tài khoản định danh điện tử"),
            "short_name": "PopID",
            "description": _("Giấy tờ số, dịch vụ công, phạt nguội và lịch sử truy cập dữ liệu của bạn."),
            "lang": "en" if language == "en" else "vi",
            "dir": "ltr",
            "start_url": reverse("identity:profile"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "categories": ["government", "utilities"],
            "icons": [
                {"src": static("web/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": static("web/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {"src": static("web/icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
                 "purpose": "maskable"},
            ],
            "shortcuts": [
                {"name": _("Ví giấy tờ"), "url": reverse("wallet:index"),
                 "icons": [{"src": static("web/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"}]},
                {"name": _("Thông báo"), "url": reverse("notifications:list"),
                 "icons": [{"src": static("web/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"}]},
                {"name": _("Dịch vụ công"), "url": reverse("dvc:procedures"),
                 "icons": [{"src": static("web/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"}]},
            ],
        }


def manifest_json(language: str) -> str:
    return json.dumps(manifest(language), ensure_ascii=False, indent=1)
