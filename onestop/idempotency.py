"""Idempotent POSTs, after pretix's IdempotencyMiddleware: a POST repeated with the same key
replays the first answer instead of doing the work twice.

API clients send an `Idempotency-Key` header; the counter's forms carry a hidden
`idempotency_key` field (`{% idempotency_field %}`), so a double click or a resubmitted page
lands on the result of the first submission. A key reused for a different request is refused;
a repeat that arrives while the first is still running waits briefly for its answer.

Keys belong to a principal (a user, a terminal), never to credentials: nothing is kept or
replayed until the request has been authenticated and has passed the CSRF check exactly as
its view will have it (issue 17, finding 6: a logged-out session cookie, or the token of a
revoked terminal, got the kept answer). So the check runs as `process_view`, after Django's
authentication and CSRF middleware, and an API view's own authenticators (a terminal's token,
a session with DRF's CSRF check) decide who calls it. A request without a principal goes to
the view, which refuses it.

An answer may quote what was collected from a holder (a statement's text, R15): the audit
entries written while it is made name the holders it is about (`idempotent_answer_holders_note`,
in the audited change's transaction), and a suspension erases their answers
(`idempotent_answers_erase`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import Token
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.views import APIView

from .errors import error_answer
from .models import IdempotentAnswerHolder, IdempotentRequest, User
from .request_context import RefusalNote, idempotent_answer_var, my_number_refusal_var
from .roles import user_roles

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
KEY_SHAPE = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.2
REPLAYED_HEADERS = ("Content-Type", "Location", "Content-Language")
# Answers that did nothing and are meant to be retried are not kept (as in pretix).
NOT_KEPT = frozenset({401, 403, 409, 429})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def new_key() -> str:
    return uuid.uuid4().hex


def _label(principal: Any) -> str:
    """The principal as kept answers name it: who, and in what standing (roles, office). An
    answer is replayed only to the same principal in the same standing: a user whose role was
    taken away or who was moved to another office mid-session gets what the view answers them
    now, not a page of a holder kept from before (the replay runs before the view's checks)."""
    standing = [str(getattr(principal, "office_id", None))]
    if isinstance(principal, User):
        standing += [*sorted(user_roles(principal)), str(principal.is_superuser)]
    digest = hashlib.sha256("|".join(standing).encode()).hexdigest()[:16]
    return f"{principal._meta.label_lower}:{principal.pk}:{digest}"


def _csrf_passes(request: HttpRequest) -> bool:
    """Django's CSRF check, as for a view that is not exempt (DRF's SessionAuthentication does
    the same). A request the CSRF middleware already accepted passes at once."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda _request: HttpResponse(), (), {}) is None


def _principal(request: HttpRequest, view: Callable[..., HttpResponse]) -> str | None:
    """Who is calling, authenticated and past the CSRF check as the view will decide; None if
    nobody is (the view will refuse the request itself)."""
    view_class = getattr(view, "cls", None)
    if isinstance(view_class, type) and issubclass(view_class, APIView):
        # The view's own authenticators, in its order: a bearer token, or a session whose CSRF
        # token DRF checks.
        if not _is_form(request):
            request.body  # noqa: B018 (read once: DRF then parses a copy, here and in the view alike)
        api_request = Request(
            request,
            parsers=[parser() for parser in view_class.parser_classes],
            authenticators=[auth() for auth in view_class.authentication_classes],
        )
        try:
            principal = api_request.user
        except APIException:  # not authenticated, a failed CSRF check, a body DRF cannot read
            return None
        return _label(principal) if getattr(principal, "is_authenticated", False) else None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not _csrf_passes(request):
        return None
    return _label(user)


def _stored_key(key: str) -> str:
    """What is kept of a key: its SHA-256. The key is the client's text, and twelve digits fit its
    shape: a My Number sent as a key would be kept (R14); its hash names the same repeats."""
    return hashlib.sha256(key.encode()).hexdigest()


def _is_form(request: HttpRequest) -> bool:
    return request.content_type in FORM_TYPES


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if _is_form(request):
        # The CSRF token and the key itself may differ between two copies of one form.
        fields = sorted(
            (name, value)
            for name, values in request.POST.lists()
            if name not in ("csrfmiddlewaretoken", FORM_FIELD)
            for value in values
        )
        digest.update(json.dumps(fields, ensure_ascii=False).encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _refusal(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    return error_answer(request, status, code=code, message=message, as_json=bool(request.headers.get(HEADER)) or None)


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status_code)
    for name, value in row.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _keep(row: IdempotentRequest, response: HttpResponse, refusal: RefusalNote) -> None:
    # R14: an answer that refused a My Number shows the refused text again (a form keeps what was
    # typed); nothing refused is stored, so neither is the answer nor the request's fingerprint.
    if refusal.refused or response.streaming or response.status_code in NOT_KEPT or response.status_code >= 500:
        row.delete()
        return
    # A conditional UPDATE: if a suspension erased the answer while it was being made, it stays erased.
    IdempotentRequest.objects.filter(pk=row.pk).update(
        done=True,
        status_code=response.status_code,
        headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
        body=response.content,
    )


@dataclass
class _Claim:
    """The key a request claimed: its answer is kept once the view has given it."""

    row: IdempotentRequest
    token: Token[int | None]
    refusal: RefusalNote
    refusal_token: Token[RefusalNote | None]


CLAIM_ATTR = "_onestop_idempotency_claim"


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        claim: _Claim | None = getattr(request, CLAIM_ATTR, None)
        if claim is not None:
            my_number_refusal_var.reset(claim.refusal_token)
            idempotent_answer_var.reset(claim.token)
            _keep(claim.row, response, claim.refusal)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if request.method != "POST":
            return None
        try:
            key = request.headers.get(HEADER) or (request.POST.get(FORM_FIELD, "") if _is_form(request) else "")
            if not key:
                return None
            principal = _principal(request, view)
            if principal is None:
                return None  # the view refuses it; nothing is replayed or kept
            if not KEY_SHAPE.match(key):
                message = _("The idempotency key must be 8 to 128 letters, digits or -_.:")
                return _refusal(request, 400, "validation_error", message)
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return _refusal(request, 413, "too_large", _("The request body is too large."))
        return self._once(request, caller=principal, key=_stored_key(key), fingerprint=fingerprint)

    def _once(self, request: HttpRequest, *, caller: str, key: str, fingerprint: str) -> HttpResponse | None:
        """The kept answer or a refusal; None when this request claimed the key and its view
        is to answer (kept by __call__)."""
        deadline = time.monotonic() + WAIT_SECONDS
        row: IdempotentRequest | None
        while True:
            try:
                with transaction.atomic():
                    row = IdempotentRequest.objects.create(
                        caller=caller, key=key, fingerprint=fingerprint, created_at=timezone.now()
                    )
            except IntegrityError:
                row = IdempotentRequest.objects.filter(caller=caller, key=key).first()
                if row is None:  # the first attempt failed and let go of the key: try again
                    continue
            else:
                refusal = RefusalNote()
                claim = _Claim(row, idempotent_answer_var.set(row.pk), refusal, my_number_refusal_var.set(refusal))
                setattr(request, CLAIM_ATTR, claim)
                return None
            if row.fingerprint != fingerprint:
                return _refusal(
                    request,
                    422,
                    "idempotency_key_reused",
                    _("This form or key was already used for a different request. Reload the page and try again."),
                )
            if row.done:
                return _replay(row)
            if time.monotonic() >= deadline:
                response = _refusal(
                    request,
                    409,
                    "in_progress",
                    _("The same request is still being processed. Wait a moment and reload the page."),
                )
                response["Retry-After"] = "5"
                return response
            time.sleep(POLL_SECONDS)


def idempotency_purge(*, before: datetime | None = None, batch_rows: int | None = None) -> int:
    """Forget the answers made before `before` (default: RETAIN_IDEMPOTENT_ANSWERS_HOURS ago), a
    batch per short transaction, with the holders noted for them; the number of answers deleted.
    A retry comes within seconds, not days."""
    if before is None:
        before = timezone.now() - timedelta(hours=settings.RETAIN_IDEMPOTENT_ANSWERS_HOURS)
    batch_rows = batch_rows or settings.RETENTION_BATCH_ROWS
    deleted = 0
    while True:
        # created_at is indexed: each batch is found without a scan.
        ids = list(IdempotentRequest.objects.filter(created_at__lt=before).values_list("pk", flat=True)[:batch_rows])
        if not ids:
            break
        with transaction.atomic():
            _n, by_model = IdempotentRequest.objects.filter(pk__in=ids, created_at__lt=before).delete()
        deleted += by_model.get(IdempotentRequest._meta.label, 0)
    # Holders noted for an answer a suspension erased while its request ran.
    with transaction.atomic():
        IdempotentAnswerHolder.objects.exclude(answer_id__in=IdempotentRequest.objects.values("pk")).delete()
    return deleted


def idempotent_answer_holders_note(record_numbers: Iterable[str]) -> None:
    """The answer being made (if any) is about these holders. Called by the audit trail inside
    the audited change's transaction, so the note commits with the change."""
    answer_id = idempotent_answer_var.get()
    numbers = set(record_numbers) - {""}
    if answer_id is None or not numbers:
        return
    IdempotentAnswerHolder.objects.bulk_create(
        [IdempotentAnswerHolder(answer_id=answer_id, record_number=n) for n in sorted(numbers)], ignore_conflicts=True
    )


def idempotent_answers_erase(*, record_number: str) -> int:
    """Erase the kept answers about one holder (R15); joins the caller's transaction."""
    _deleted, by_model = IdempotentRequest.objects.filter(holders__record_number=record_number).delete()
    return by_model.get(IdempotentRequest._meta.label, 0)
