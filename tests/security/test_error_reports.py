"""A server error shows and logs where it failed, never the request's data: not on the page
(with or without DEBUG), not in the log, not in the report an error mail would carry."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils.log import AdminEmailHandler
from django.views.debug import get_exception_reporter_class

from onestop.logging import JsonFormatter

from .leaks import birthdate_forms, leaks, log_texts

ROOT = Path(__file__).resolve().parents[2]
HOLDER = {"name": "山田　太郎", "address": "東京都千代田区霞が関二丁目１番１号", "birth_date": "1980-05-17"}
PERSONAL = {HOLDER["name"]: "a name", quote(HOLDER["name"]): "a name, URL-encoded", HOLDER["address"]: "an address"}
PERSONAL |= dict.fromkeys(birthdate_forms(date(1980, 5, 17)), "a birthdate")
PERSONAL |= {"secret-session-value": "a cookie"}


def _fail(client: Client, path: str = "/fail/"):
    client.cookies["sessionid"] = "secret-session-value"
    return client.post(f"{path}?q={quote(HOLDER['name'])}&born={HOLDER['birth_date']}", HOLDER)


pytestmark = [pytest.mark.urls("tests.security.error_urls"), pytest.mark.django_db]


def test_the_500_page_says_what_happened_and_nothing_of_the_request(every_log):
    page = _fail(Client(raise_request_exception=False))
    assert page.status_code == 500
    body = page.content.decode()
    assert "サーバーエラー" in body and leaks([body], PERSONAL) == []
    [error] = {id(r): r for r in every_log if r.name == "django.request" and r.levelno == logging.ERROR}.values()
    assert error.getMessage() == "Internal Server Error: /fail/"
    assert leaks(log_texts(every_log), PERSONAL) == []


def test_a_server_error_on_the_api_is_json(every_log):
    answer = _fail(Client(raise_request_exception=False), "/api/v1/fail/")
    assert answer.status_code == 500
    assert answer.json()["code"] == "server_error" and answer.json()["message"]


def test_the_debug_page_shows_the_code_path_but_no_request_data_or_variables(settings):
    settings.DEBUG = True
    page = _fail(Client(raise_request_exception=False))
    body = page.content.decode()
    assert page.status_code == 500 and "RuntimeError" in body and "the view failed" in body
    assert "holder_name" in body  # the variable is listed, its value is not
    assert leaks([body], PERSONAL) == []


def test_the_report_an_error_mail_would_carry_has_no_request_data(every_log):
    _fail(Client(raise_request_exception=False))
    [error] = {id(r): r for r in every_log if r.name == "django.request" and r.levelno == logging.ERROR}.values()
    reporter = get_exception_reporter_class(error.request)(error.request, *error.exc_info, is_email=True)
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "RuntimeError" in text and "holder_name" in html
    assert leaks([text, html], PERSONAL) == []


def test_django_errors_are_not_mailed_and_reach_the_json_log_without_the_query(every_log):
    django_logger = logging.getLogger("django")
    assert not [h for h in django_logger.handlers if isinstance(h, AdminEmailHandler)]
    assert django_logger.propagate and logging.getLogger("django.request").propagate
    _fail(Client(raise_request_exception=False))
    [error] = {id(r): r for r in every_log if r.name == "django.request" and r.levelno == logging.ERROR}.values()
    [console] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert console.filter(error)
    assert repr(error.request) == "<WSGIRequest: POST '/fail/'>"  # as every handler after it sees it
    line = json.loads(console.format(error))
    assert line["exc_type"] == "RuntimeError" and line["exc_stack"][-1].endswith("in fail")
    assert "the view failed" not in console.format(error)  # the message may quote values


def test_loggers_whose_debug_records_carry_data_stay_quiet_even_at_log_level_debug():
    env = {**os.environ, "LOG_LEVEL": "DEBUG", "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "onestop.settings"}
    script = (
        "import django, logging; django.setup(); "
        "print(logging.getLogger('django.db.backends').getEffectiveLevel(), "
        "logging.getLogger('django.template').getEffectiveLevel(), logging.getLogger('onestop').getEffectiveLevel())"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    db, template, ours = map(int, out.stdout.split())
    assert db >= logging.WARNING and template >= logging.INFO and ours == logging.DEBUG
