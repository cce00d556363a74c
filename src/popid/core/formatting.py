"""One way to show money, dates, times, numbers, places, countries, login levels and devices to
people (issue #19 items 3–4): Vietnamese conventions first (``7.000 ₫``, ``06/12/2026``,
``100,5``, local time in Asia/Ho_Chi_Minh), words instead of codes. Templates reach these through
the ``popid_format`` filters in ``web/templatetags/web.py``; Python code calls them directly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from popid.core import admin_units, codes

DASH = "—"


def money(amount: int | Decimal | float | None) -> str:
    """7000 → "7.000 ₫": dot thousands, no decimals (the đồng has no subunit in use)."""
    if amount is None or amount == "":
        return DASH
    return f"{round(Decimal(str(amount))):,} ₫".replace(",", ".")


def number(value: int | float | Decimal | None, decimals: int = 0) -> str:
    """1234.5 → "1.234,5" in Vietnamese, "1,234.5" in English: the reader's own convention."""
    if value is None:
        return DASH
    text = f"{float(value):,.{decimals}f}"
    if (get_language() or "vi").startswith("vi"):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def local(value: datetime) -> datetime:
    """An aware time in the project's zone (naive values are taken as already local)."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def date_vn(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy, the format on Vietnamese documents, for dates and (local) times alike; an ISO
    date kept as text (JSON fields: a licence's classes) is read first."""
    if not value:
        return DASH
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")


def datetime_vn(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time, never UTC beside local times."""
    return local(value).strftime("%d/%m/%Y %H:%M") if value else DASH


def commune(code: str | None) -> str:
    """"00070" → "Phường Hoàn Kiếm, Thành phố Hà Nội" (the code only when it is unknown)."""
    return admin_units.commune_label(code) if code else DASH


# ICAO 9303 / ISO 3166 alpha-3 codes of travel documents for the countries of codes.NATIONALITIES
# ("D" is Germany on ICAO documents, "GBD"… British categories).
ALPHA3 = {"VNM": "VN", "USA": "US", "FRA": "FR", "CHN": "CN", "KOR": "KR", "JPN": "JP", "LAO": "LA", "KHM": "KH",
          "THA": "TH", "AUS": "AU", "DEU": "DE", "D": "DE", "GBR": "GB", "GBD": "GB", "GBN": "GB", "CAN": "CA",
          "RUS": "RU", "TWN": "TW"}


def country(code: str | None) -> str:
    """"VN" (or a passport's "VNM") → "Việt Nam"; an unknown code stays as it is."""
    if not code:
        return DASH
    key = code.strip().upper()
    return codes.NATIONALITIES.get(ALPHA3.get(key, key), code)


def login_level(acr: str | None) -> str:
    """The session's assurance level in words, not ``level-1``."""
    return {"level-1": _("Mức độ 1 (mật khẩu)"), "level-2": _("Mức độ 2 (hai yếu tố)")}.get(acr or "", acr or DASH)


@lru_cache(maxsize=512)
def device(user_agent: str | None) -> str:
    """A browser's User-Agent as people say it: "Chrome Mobile 126 · Android 14 · Samsung SM-A546E"."""
    if not user_agent:
        return _("Không rõ thiết bị")
    from ua_parser import parse

    parsed = parse(user_agent)
    parts = []
    if parsed.user_agent and parsed.user_agent.family != "Other":
        parts.append(" ".join(p for p in (parsed.user_agent.family, parsed.user_agent.major) if p))
    if parsed.os and parsed.os.family != "Other":
        parts.append(" ".join(p for p in (parsed.os.family, parsed.os.major) if p))
    if parsed.device and parsed.device.family not in ("Other", "", None) and parsed.device.family != "Mac":
        parts.append(parsed.device.family)
    return " · ".join(parts) or _("Không rõ thiết bị")
