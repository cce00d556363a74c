"""Vietnamese first: the console ignores the browser's Accept-Language so an officer whose
browser is set to English still starts in Vietnamese, and switches with the vi/EN buttons
(Django's ``set_language`` cookie). The API keeps content negotiation."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ConsoleLanguageMiddleware:
    """Placed before ``LocaleMiddleware``: drops Accept-Language outside /api/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
