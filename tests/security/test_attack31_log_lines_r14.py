"""Attack 31: writing a My Number into the log through what Django logs of a request.

The project's own log calls carry no values (docs/security.md, Logs and personal data). Django's
do: a Host header it refuses is quoted in full (django.security.DisallowedHost), a path it cannot
find is quoted in full (django.request's "Not Found"). Anyone, signed in or not, chooses both.
R14: no log line holds a My Number. These requests are formatted into log lines exactly as the
project's log handler writes them (its filters, then its JSON formatter). The web server's
access line quotes the path and the browser's description (User-Agent), chosen the same way."""

from __future__ import annotations

import json
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from gunicorn.config import Config

from onestop.logging import JsonFormatter, RequestIdFilter, RequestWithoutQueryFilter

from .r14_text import with_check_digit

pytestmark = pytest.mark.django_db

MY_NUMBER = with_check_digit("11223344556")


def _lines(records: list[logging.LogRecord]) -> list[str]:
    """The log lines the console handler (settings.LOGGING) writes for these records."""
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "json" and handler["filters"] == ["request_id", "request_without_query"]
    lines = []
    for record in {id(r): r for r in records}.values():
        RequestIdFilter().filter(record)
        RequestWithoutQueryFilter().filter(record)
        lines.append(JsonFormatter().format(record))
    return lines


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"path": "/accounts/login/", "HTTP_HOST": MY_NUMBER},
        {"path": "/accounts/login/", "HTTP_HOST": f"w{MY_NUMBER}.example.jp"},
        {"path": f"/counter/nothing/{MY_NUMBER}/"},
        {"path": f"/static/{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}.css"},
    ],
    ids=["host", "host-with-a-name", "unknown-path", "unknown-path-grouped"],
)
def test_no_log_line_holds_a_my_number_an_anonymous_request_brought(every_log, request_kwargs):
    Client().get(**request_kwargs)
    lines = _lines(every_log)
    assert lines  # Django did log the refusal
    digits = ["".join(ch for ch in line if ch.isdigit()) for line in lines]
    assert [line for line, d in zip(lines, digits, strict=True) if MY_NUMBER in d] == []


def test_the_line_still_says_what_happened(every_log):
    """The control: the line keeps its logger, level and the message's own words."""
    Client().get(f"/counter/nothing/{MY_NUMBER}/")
    lines = [json.loads(line) for line in _lines(every_log)]
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found and all(line["message"].startswith("Not Found") for line in not_found)


def test_an_ordinary_message_is_written_as_it_is(every_log):
    Client().get("/counter/nothing/42/")
    messages = [json.loads(line)["message"] for line in _lines(every_log)]
    assert "Not Found: /counter/nothing/42/" in messages


# --- the web server's access log ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _access_line(tmp_path: Path, *, path: str, user_agent: str) -> str:
    """One access line as the project's gunicorn (./gunicorn.conf.py, read by every gunicorn
    started in the project's folder) writes it."""
    cfg = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": user_agent,
    }
    response = SimpleNamespace(status="404 Not Found", sent=512, headers=[("X-Request-ID", "req-42")])
    cfg.logger_class(cfg).access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    return (tmp_path / "access.log").read_text()


def test_no_access_line_holds_a_my_number_from_the_path_or_the_browsers_description(tmp_path):
    line = _access_line(tmp_path, path=f"/counter/nothing/{MY_NUMBER}/", user_agent=f"Mozilla/5.0 {MY_NUMBER}")
    assert MY_NUMBER not in "".join(ch for ch in line if ch.isdigit())
    assert '" 404 512 ' in line and "rid=req-42" in line  # the rest of the line is there


def test_an_ordinary_access_line_is_written_as_it_is(tmp_path):
    line = _access_line(tmp_path, path="/counter/records/42/", user_agent="Mozilla/5.0 counter-browser")
    assert '"GET /counter/records/42/ HTTP/1.1" 404 512' in line and '"Mozilla/5.0 counter-browser"' in line
