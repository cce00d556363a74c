"""Shared browser fixture: Debian's Chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("POPID_BROWSER", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.skip(f"no browser at {executable}")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
