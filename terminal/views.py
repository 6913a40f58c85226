"""The holder's screen: the office's open statements, one statement's text with the signing
password form, and the outcome. Every POST redirects to a page (a reload never signs again).

The PIN is read from the form, handed to the card and dropped: it is never logged, stored or
put back into a page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from . import runtime
from .card import CardError, WrongPin
from .server import ServerRefused, ServerUnreachable, Statement
from .signing import AlreadySigned

STYLESHEET = Path(__file__).parent / "static" / "terminal" / "terminal.css"

ITEM_LABELS: dict[str, Promise] = {"address": _("Address"), "name": _("Name"), "birth_date": _("Date of birth")}

CARD_MESSAGES: dict[str, Promise] = {
    "no_reader": _(
        "No card reader was found. Check that the reader is connected to this PC, then check the card again."
    ),
    "no_card": _("No card is on the reader. Place the My Number card on the reader, then check the card again."),
    "card_busy": _("Another program on this PC is using the card. Close it, then check the card again."),
    "card_removed": _(
        "The card was taken off the reader before the signing finished. Nothing was signed or sent. "
        "Place the card on the reader and sign again."
    ),
    "not_my_number_card": _(
        "This card is not a My Number card: it has no signing certificate of the public personal "
        "authentication service. Place the holder's My Number card on the reader."
    ),
    "pin_format": _("The signing password has 6 to 16 letters (A to Z) and digits. Nothing was sent to the card."),
    "wrong_pin": _("The signing password is wrong."),
    "pin_blocked": _(
        "The signing password is locked after too many wrong entries. Nothing was signed. The holder can "
        "have it reset at the municipal office, then come back."
    ),
    "last_try_not_confirmed": _(
        "One try is left: a wrong password now locks the signing certificate. Clerk: confirm this with "
        "the holder and tick the box before signing."
    ),
    "authentication_certificate": _(
        "The card offered its user-authentication certificate, not its signing certificate. Nothing was "
        "signed or sent. Consent is given with the signing certificate (password of 6 to 16 letters and "
        "digits), not the user-authentication one (4-digit PIN)."
    ),
    "card_failed": _("The card refused a command. Nothing was sent. Take the card off, place it again and retry."),
    "card_error": _("The card reader reported an error. Nothing was sent. Check the reader and retry."),
}


@dataclass(frozen=True)
class Notice:
    """What the page after a POST tells: an error or the retry offer, shown once."""

    code: str
    message: str = ""  # the server's own words, for its refusals
    tries_left: int | None = None


_notices: dict[int, Notice] = {}
_notices_lock = threading.Lock()


def _tell(statement_id: int, notice: Notice) -> None:
    with _notices_lock:
        _notices[statement_id] = notice


def _told(statement_id: int) -> Notice | None:
    with _notices_lock:
        return _notices.pop(statement_id, None)


def _refusal_text(refusal: ServerRefused) -> str:
    """The server's own explanation (in the screen's language), or ours when it gave none."""
    if refusal.code == "statement_mismatch":
        return str(_("The statement's text and the bytes to sign differ. It was not signed: tell the clerk."))
    return refusal.message or str(_("The server refused the request (%(code)s).") % {"code": refusal.code})


def _language() -> str:
    return get_language() or "ja"


def _expired(statement: Statement) -> bool:
    return statement.expires_at <= timezone.now()


def _items(statement: Statement) -> str:
    return "、".join(str(ITEM_LABELS.get(item, item)) for item in statement.items)


@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    return HttpResponse(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8")


@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    try:
        statements = runtime.desk().client.statements_open(_language())
        context["statements"] = [{"statement": s, "items": _items(s)} for s in statements]
    except ServerUnreachable:
        context["unreachable"] = True
    except ServerRefused as exc:
        context["refusal"] = _refusal_text(exc)
    return render(request, "terminal/list.html", context)


@require_GET
def statement_page(request: HttpRequest, statement_id: int) -> HttpResponse:
    desk = runtime.desk()
    notice = _told(statement_id)
    context: dict[str, object] = {"statement_id": statement_id, "notice": notice}
    if notice is not None and notice.code in CARD_MESSAGES:
        context["notice_text"] = CARD_MESSAGES[notice.code]
    if statement_id in desk.results:
        context["registered"] = desk.results[statement_id]
        return render(request, "terminal/result.html", context)
    try:
        statement = desk.client.statement(statement_id, _language())
    except ServerUnreachable:
        context["unreachable"] = True
        return render(request, "terminal/statement.html", context)
    except ServerRefused as exc:
        if exc.status == 404:
            raise Http404 from None
        context["refusal"] = _refusal_text(exc)
        return render(request, "terminal/statement.html", context)
    context.update(statement=statement, items=_items(statement))
    if statement_id in desk.undelivered:
        context["undelivered"] = True
    elif statement.used:
        context["used"] = True
    elif _expired(statement):
        context["expired"] = True
    else:
        try:
            tries = desk.tries_left()
            context.update(tries_left=tries, blocked=tries == 0, last_try=tries == 1)
        except CardError as exc:
            context["card_problem"] = CARD_MESSAGES.get(exc.code, CARD_MESSAGES["card_error"])
    return render(request, "terminal/statement.html", context)


@sensitive_post_parameters("pin")
@require_POST
def statement_sign(request: HttpRequest, statement_id: int) -> HttpResponse:
    desk = runtime.desk()
    language = _language()
    here = redirect("statement", statement_id=statement_id)
    try:
        statement = desk.client.statement(statement_id, language)
    except ServerUnreachable:
        return here  # the page says the server cannot be reached
    except ServerRefused as exc:
        _tell(statement_id, Notice("server_refused", _refusal_text(exc)))
        return here
    if statement.used or _expired(statement):
        return here  # the page says which
    try:
        desk.sign(
            statement,
            request.POST.get("pin", ""),
            last_try_confirmed=request.POST.get("confirm_last_try") == "yes",
        )
    except WrongPin as exc:
        _tell(statement_id, Notice(exc.code, tries_left=exc.tries_left))
        return here
    except CardError as exc:
        _tell(statement_id, Notice(exc.code))
        return here
    except AlreadySigned:
        return here  # the page offers to send the signature made before
    return _deliver(statement_id, language)


@require_POST
def statement_send(request: HttpRequest, statement_id: int) -> HttpResponse:
    if statement_id not in runtime.desk().undelivered:
        return redirect("statement", statement_id=statement_id)
    return _deliver(statement_id, _language())


def _deliver(statement_id: int, language: str) -> HttpResponse:
    try:
        runtime.desk().deliver(statement_id, language)
    except ServerUnreachable:
        _tell(statement_id, Notice("server_unreachable"))
    except ServerRefused as exc:
        _tell(statement_id, Notice("server_refused", _refusal_text(exc)))
    return redirect("statement", statement_id=statement_id)
