"""One set of formatting helpers (issue #19 items 3–4): money, numbers, dates in Vietnam's time,
places, countries, login levels and devices in words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils import translation

from popid.core import formatting


def test_money_is_dot_grouped_dong_without_decimals():
    assert formatting.money(7000) == "7.000 ₫"
    assert formatting.money(Decimal("1250000.4")) == "1.250.000 ₫"
    assert formatting.money(0) == "0 ₫"
    assert formatting.money(None) == "—"


def test_numbers_follow_the_readers_language():
    with translation.override("vi"):
        assert formatting.number(1234.5, 1) == "1.234,5"
        assert formatting.number(100, 1) == "100,0"
    with translation.override("en"):
        assert formatting.number(1234.5, 1) == "1,234.5"


def test_times_are_shown_in_vietnams_time_never_utc():
    late_evening_utc = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)  # 03:30 on the 7th in Hà Nội
    assert formatting.datetime_vn(late_evening_utc) == "07/12/2026 03:30"
    assert formatting.date_vn(late_evening_utc) == "07/12/2026"
    assert formatting.date_vn(date(2026, 1, 2)) == "02/01/2026"
    assert formatting.date_vn(None) == "—"


def test_codes_become_words():
    assert formatting.country("VN") == "Việt Nam" and formatting.country("vn") == "Việt Nam"
    assert formatting.country("ZZ") == "ZZ"  # unknown stays visible rather than vanishing
    assert "Hoàn Kiếm" in formatting.commune("00070")
    with translation.override("vi"):
        assert formatting.login_level("level-2") == "Mức độ 2 (hai yếu tố)"
    with translation.override("en"):
        assert formatting.login_level("level-1") == "Level 1 (password)"


def test_devices_are_named_not_dumped():
    android = ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/126.0.0.0 Mobile Safari/537.36")
    assert formatting.device(android) == "Chrome Mobile 126 · Android 14 · Samsung SM-A546E"
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")
    assert formatting.device(iphone).startswith("Mobile Safari 17 · iOS 17")
    with translation.override("vi"):
        assert formatting.device("") == "Không rõ thiết bị"
        assert formatting.device("???") == "Không rõ thiết bị"
