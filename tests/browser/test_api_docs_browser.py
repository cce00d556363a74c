"""The API documentation page renders offline under the project's strict CSP: Swagger UI comes
from django-ninja's bundled static files, not a CDN (issue #19, item 1)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_from_local_assets_without_csp_violations(live_server, transactional_db, browser):
    page = browser.new_context().new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "PopID" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 60  # every operation is listed
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests
                                                                      if not u.startswith(live_server.url)]
    assert not [p for p in problems if "Content Security Policy" in p or "pageerror" in p], problems
