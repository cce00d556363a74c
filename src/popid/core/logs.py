"""Request ids and JSON logs.

``RequestIdMiddleware`` takes ``X-Request-ID`` from the request (when it is a sane token) or makes
one, returns it on the response, and keeps it in a context variable for the request's duration;
``RequestIdFilter`` puts it on every log record, and ``core.tasks`` stores it with every task the
request enqueues, so a worker's log lines carry the id of the request that caused them.

Log messages never contain personal data: they name rows by primary key, never by ID number or
name (``tests/ops/test_ops_health.py`` checks it).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import secrets
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("popid_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return secrets.token_hex(12)


@contextlib.contextmanager
def request_id_scope(request_id: str | None) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


_FORMATTER = logging.Formatter()
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}
_DIGITS = re.compile(r"(?<![0-9])[0-9]{9,12}(?![0-9])")
MASK = "[số đã ẩn]"


def mask_numbers(text: str) -> str:
    """ID numbers (12 digits), old ID cards (9) and phone numbers (10–11) become a mask."""
    return _DIGITS.sub(MASK, text)


class PersonalDataFilter(logging.Filter):
    """Last line of defence on every handler: a message that carries an ID or phone number (for
    example Django's "Not Found: /path/<id number>/" warning) is logged with the digits masked.
    Names cannot be recognised this way; code never logs them (a test checks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:  # the exception's message may quote input: format once, masked
            record.exc_text = mask_numbers(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            # Django attaches the request; its repr has the full path and query (search terms)
            record.request = mask_numbers(f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}")
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask_numbers(value))
        return True


class RequestIdMiddleware:
    """First in the chain: every later middleware and view logs with the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _SAFE.match(offered) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_id_scope(request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
