"""Idempotent POSTs: a repeat replays the first answer, and only answers worth keeping are kept."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from onestop import idempotency
from onestop.audit import AuditEntry, audit_log
from onestop.idempotency import IdempotencyMiddleware, idempotency_purge, idempotent_answers_erase
from onestop.models import IdempotentAnswerHolder, IdempotentRequest, User

pytestmark = pytest.mark.django_db


class CountingView:
    """The work behind the middleware: counts how often it really runs."""

    def __init__(self, status: int = 201) -> None:
        self.calls, self.status = 0, status

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls += 1
        response = HttpResponse(f'{{"n": {self.calls}}}', status=self.status, content_type="application/json")
        response["Location"] = f"/done/{self.calls}/"
        return response


def _user(username: str) -> User:
    return User.objects.get_or_create(username=username)[0]


class Stack:
    """The middleware as Django runs it: __call__ around the handler, process_view just before
    the view. Requests come from a signed-in user (alice unless said) and, as with the test
    client, skip the CSRF check (tests/consents/test_replays_after_authentication.py has it)."""

    def __init__(self, view: Callable[[HttpRequest], HttpResponse]) -> None:
        self.view = view
        self.middleware = IdempotencyMiddleware(self._handler)

    def _handler(self, request: HttpRequest) -> HttpResponse:
        return self.middleware.process_view(request, self.view, (), {}) or self.view(request)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not hasattr(request, "user"):
            request.user = _user("alice")
        request._dont_enforce_csrf_checks = True
        return self.middleware(request)


def api_post(body: str = '{"a": 1}', key: str = "key-00000001", caller: str = "t1") -> HttpRequest:
    request = RequestFactory().post("/api/v1/x/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    request.user = _user(caller)
    return request


def test_a_repeat_replays_the_first_answer_without_running_again():
    view = CountingView()
    middleware = Stack(view)
    first, again = middleware(api_post()), middleware(api_post())
    assert view.calls == 1
    assert (again.status_code, again.content, again["Location"]) == (201, first.content, "/done/1/")
    assert again["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_to_the_principal():
    view = CountingView()
    middleware = Stack(view)
    middleware(api_post(caller="alice"))
    middleware(api_post(caller="bob"))
    assert view.calls == 2


def test_a_post_without_a_key_is_not_touched():
    view = CountingView()
    middleware = Stack(view)
    request = RequestFactory().post("/x/", {"a": "1"})
    middleware(request)
    middleware(request)
    assert view.calls == 2
    assert not IdempotentRequest.objects.exists()


@pytest.mark.parametrize("status", [403, 409, 500, 503])
def test_answers_meant_to_be_retried_are_not_kept(status):
    view = CountingView(status)
    middleware = Stack(view)
    middleware(api_post())
    middleware(api_post())
    assert view.calls == 2
    assert not IdempotentRequest.objects.exists()


def _kept(key: str) -> str:
    """What the table keeps of a key: its SHA-256, never the client's text (R14)."""
    return hashlib.sha256(key.encode()).hexdigest()


def test_a_refusal_is_kept_and_replayed_like_a_success():
    view = CountingView(422)
    middleware = Stack(view)
    middleware(api_post())
    assert middleware(api_post()).status_code == 422
    assert view.calls == 1


def test_a_repeat_while_the_first_is_still_running_is_told_to_retry(monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0)
    IdempotentRequest.objects.create(
        caller=idempotency._label(_user("t1")),  # the principal the request below is made by
        key=_kept("key-00000001"),
        fingerprint=idempotency._fingerprint(api_post()),
        created_at=timezone.now(),
    )
    view = CountingView()
    response = Stack(view)(api_post())
    assert (response.status_code, json.loads(response.content)["code"]) == (409, "in_progress")
    assert response["Retry-After"] == "5"
    assert view.calls == 0


def test_a_form_resubmitted_with_other_values_is_refused():
    view = CountingView()
    middleware = Stack(view)
    form = {"items": ["address"], "idempotency_key": "form-0000001", "csrfmiddlewaretoken": "a"}
    middleware(RequestFactory().post("/counter/x/", form))
    # The same form again, with another CSRF token: the same request.
    assert (
        middleware(RequestFactory().post("/counter/x/", {**form, "csrfmiddlewaretoken": "b"}))["Location"] == "/done/1/"
    )
    changed = middleware(RequestFactory().post("/counter/x/", {**form, "items": ["name"]}))
    assert changed.status_code == 422
    assert "再読み込み" in changed.content.decode()
    assert view.calls == 1


def test_old_answers_are_purged():
    Stack(CountingView())(api_post())
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(days=2))
    Stack(CountingView())(api_post(key="key-00000002"))
    assert idempotency_purge() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == [_kept("key-00000002")]


class AuditingView(CountingView):
    """The work audits a change to a holder's record, as every view touching one does."""

    def __init__(self, record_number: str, *, erase_while_running: bool = False) -> None:
        super().__init__()
        self.record_number, self.erase_while_running = record_number, erase_while_running

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            audit_log(
                AuditEntry(action="record.update", subject_type="x", subject_id="1", record_number=self.record_number)
            )
        if self.erase_while_running:  # a suspension confirmed between the change and the answer
            with transaction.atomic():
                idempotent_answers_erase(record_number=self.record_number)
        return super().__call__(request)


def test_r15_an_answer_knows_the_holders_its_request_audited_and_is_erased_with_them():
    Stack(AuditingView("301234567890"))(api_post(key="key-holder-a"))
    Stack(AuditingView("301234567891"))(api_post(key="key-holder-b"))
    assert set(IdempotentAnswerHolder.objects.values_list("answer__key", "record_number")) == {
        (_kept("key-holder-a"), "301234567890"),
        (_kept("key-holder-b"), "301234567891"),
    }
    with transaction.atomic():
        assert idempotent_answers_erase(record_number="301234567890") == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == [_kept("key-holder-b")]


def test_r15_an_answer_erased_while_its_request_runs_is_not_kept_afterwards():
    view = AuditingView("301234567890", erase_while_running=True)
    middleware = Stack(view)
    assert middleware(api_post()).status_code == 201
    assert not IdempotentRequest.objects.exists()
    middleware(api_post())  # nothing to replay: the repeat runs (and would be refused for a suspended holder)
    assert view.calls == 2


def test_purge_forgets_the_holders_of_answers_erased_while_running():
    IdempotentAnswerHolder.objects.create(answer_id=999_999, record_number="301234567890")
    idempotency_purge()
    assert not IdempotentAnswerHolder.objects.exists()
