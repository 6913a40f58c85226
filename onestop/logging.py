"""JSON log lines carrying the request or task id, and error reports without personal data.

Log calls in this project never pass personal data (names, addresses, birthdates,
certificates); they name records by their database id only. A logged exception keeps its type
and where it was raised, not its message, which may quote a value.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from .my_number import contains_my_number
from .request_context import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _RequestWithoutQuery:
    """A request as a log record carries it, but whose repr leaves out the query string (a
    holder search by name travels in it); everything else is the request's."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return f"<{type(self._request).__name__}: {self._request.method} {self._request.path!r}>"


class RequestWithoutQueryFilter(logging.Filter):
    """Django logs 4xx/5xx and security events with the request attached (`record.request`),
    whose repr shows the full URL: handlers get it without the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request = _RequestWithoutQuery(request)
        return True


WITHHELD_VALUE = "(withheld: written like a My Number)"
WITHHELD_MESSAGE = "(message withheld: it holds a number written like a My Number)"


def _withheld(value: Any) -> Any:
    return WITHHELD_VALUE if contains_my_number(str(value)) else value


def _message(record: logging.LogRecord) -> str:
    """The record's message; never a My Number (R14). Our own calls pass no values, but Django's
    quote what the client sent (a refused Host header, a path not found): a value written like
    a My Number is withheld and the rest of the message kept, or the whole message withheld when
    the number is not one value of it."""
    message = record.getMessage()
    if not contains_my_number(message):
        return message
    if record.args and isinstance(record.msg, str):
        args = record.args
        safe = {k: _withheld(v) for k, v in args.items()} if isinstance(args, Mapping) else tuple(map(_withheld, args))
        try:
            message = record.msg % safe
        except (TypeError, ValueError):  # a withheld value where the format wants a number
            return WITHHELD_MESSAGE
        if not contains_my_number(message):
            return message
    return WITHHELD_MESSAGE


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            exc_type, _value, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__ if exc_type else ""
            entry["exc_stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)[-12:]]
        return json.dumps(entry, ensure_ascii=False)


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """What an error report (the DEBUG page, an error mail) may show: where it failed, never the
    data. Request bodies, query strings, cookies and local variables are hidden, even with
    DEBUG on: the data a developer's page shows is the data a copy of production would hold."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, str]:
        try:
            names = list(request.POST) if request is not None else []
        except Exception:  # an unreadable body is why some requests fail; the report must not
            names = []
        return dict.fromkeys(names, self.cleansed_substitute)

    # Django's report only iterates the pairs; django-stubs name the base's dict view instead.
    def get_traceback_frame_variables(  # type: ignore[override]
        self, request: HttpRequest | None, tb_frame: Any
    ) -> list[tuple[str, str]]:
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_cookies(self, request: HttpRequest | None) -> dict[str, str]:
        return dict.fromkeys(getattr(request, "COOKIES", {}), self.cleansed_substitute)

    def get_safe_request_meta(self, request: HttpRequest | None) -> dict[str, Any]:
        # Django's filter takes None (a report without a request); django-stubs ask for a request.
        meta = super().get_safe_request_meta(request)  # type: ignore[arg-type]
        for key in ("QUERY_STRING", "HTTP_REFERER", "REQUEST_URI", "RAW_URI", "HTTP_COOKIE", "HTTP_AUTHORIZATION"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta


class PersonalDataExceptionReporter(ExceptionReporter):
    """Django's report without query strings and file names; outside DEBUG, without the
    exception's message either (a database error quotes the values it refused)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        hidden = self.filter.cleansed_substitute
        if self.request is not None:
            data["request_GET_items"] = [(name, hidden) for name in self.request.GET]
            data["request_FILES_items"] = []
            # Django's own report builds this URI with the private _get_raw_host, which the stubs omit.
            raw_host = self.request._get_raw_host()  # type: ignore[attr-defined]
            data["request_insecure_uri"] = f"{self.request.scheme}://{raw_host}{self.request.path}"
        if not settings.DEBUG:
            data["exception_value"] = hidden
            data["unicode_hint"] = ""
        return data
