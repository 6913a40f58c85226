"""Login lockout (django-axes), by username and address together, with a limit per address
across usernames (issue 17, finding 8).

- A username is locked from one address after LOGIN_FAILURE_LIMIT (5) failures from that
  address: a stranger elsewhere cannot lock a supervisor out of the counter by typing wrong
  passwords for that name.
- An address is locked after LOGIN_ADDRESS_FAILURE_LIMIT (30) failures across usernames: one
  password sprayed over many usernames stops there. Higher than the first, because a police
  station's terminals share one address.
- A success forgives the user's own failures from that address, not the address's others.

Both are counted over the cool-off (LOGIN_LOCKOUT_MINUTES, 15). The address is the peer's, or the
one a trusted proxy (ONESTOP_TRUSTED_PROXIES) put last in X-Forwarded-For: never what a client
writes in that header itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_session_hash
from axes.models import AccessLog
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, QueryDict

from .my_number import contains_my_number
from .proxies import is_trusted_proxy

# What the login history keeps instead of client text written like a My Number (R14).
WITHHELD = "(withheld: written like a My Number)"


def client_address(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE): the peer's, unless the peer is a trusted
    proxy, then the nearest address in X-Forwarded-For that is not itself a trusted proxy (each
    proxy appends the address it was talked to from; anything further left the client wrote)."""
    address = request.META.get("REMOTE_ADDR") or None
    if address is None or not is_trusted_proxy(address):
        return address
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(forwarded):
        if not is_trusted_proxy(hop):
            return hop
    return address


def session_key_renew(request: HttpRequest) -> None:
    """A new key for the signed-in session (its data kept), and the login history's open row
    follows it: axes finds the row to close at logout by the session key's hash."""
    before = get_client_session_hash(request)
    request.session.cycle_key()
    AccessLog.objects.filter(session_hash=before, logout_time__isnull=True).update(
        session_hash=get_client_session_hash(request)
    )


def _r14(text: str) -> str:
    return WITHHELD if contains_my_number(text) else text


def _r14_query(query: QueryDict) -> QueryDict:
    clean = QueryDict(mutable=True)
    for name, values in query.lists():
        if not contains_my_number(name):
            clean.setlist(name, [_r14(value) for value in values])
    return clean


@contextmanager
def _history_text_checked(request: HttpRequest) -> Iterator[None]:
    """While axes writes the login history: the client's text it keeps (User-Agent, Accept, the
    query string, the form's fields) with every value written like a My Number withheld (R14).
    Anyone who reaches the login page writes them, and the history is kept with no time limit.
    (The username box refuses one before any attempt is made: onestop/forms.py.)"""
    request.axes_user_agent = _r14(request.axes_user_agent)  # type: ignore[attr-defined]  # axes sets them
    request.axes_http_accept = _r14(request.axes_http_accept)  # type: ignore[attr-defined]
    query, form = request.GET, request.POST
    # Django's stubs type them immutable; axes only reads them, and they are put back below.
    request.GET, request.POST = _r14_query(query), _r14_query(form)  # type: ignore[assignment]
    try:
        yield
    finally:
        request.GET, request.POST = query, form


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with two limits. AXES_LOCKOUT_PARAMETERS is
    [["username", "ip_address"], "ip_address"]: axes records each failure once per username,
    address and browser, and hands the two counts over in that order; axes compares one count
    with one limit (AXES_FAILURE_LIMIT, the pair's), so the address's count is reported as the
    pair's limit once it reaches its own."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        with _history_text_checked(request):
            return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        with _history_text_checked(request):
            return super().user_logged_in(sender, request, user, **kwargs)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """On a success, only the user's own failures from this address are forgotten."""
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _by_model = pair.delete()
        return count
