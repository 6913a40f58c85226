"""The gateway's stored errors in a clerk's words.

The client and the relay store short English texts (`GET /v1/events: HTTP 503 unavailable`, `gave
up after 8 attempts: ...`); they carry no personal data and stay as they are for operators and
logs. The monitor shows what they mean, in the page's language, with the text beside it.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_GAVE_UP = re.compile(r"^gave up after (?P<n>\d+) attempts: (?P<reason>.*)$", re.S)
_REFUSED = re.compile(r"^(?:J-LIS refused: )?HTTP (?P<status>\d{3}) (?P<code>\S*):")
_UNAVAILABLE = re.compile(r"^[A-Z]+ \S+: HTTP (?P<status>\d{3})\b")
_TIMED_OUT = re.compile(r"^[A-Z]+ \S+: timed out\b")
_CONNECTION = re.compile(r"^[A-Z]+ \S+: (?:connection failed|[A-Za-z]+Error\b|[A-Za-z]+Exception\b)")
_UNREADABLE = re.compile(r"malformed|not JSON|answered another|larger than")

# J-LIS's refusal codes (docs/jlis-protocol.md, "Errors"): what each means for the clerk.
_REFUSAL_CODES = {
    "invalid_request": gettext_lazy("the request is not in the form J-LIS expects"),
    "invalid_items": gettext_lazy("the items to provide are not accepted"),
    "consent_not_found": gettext_lazy("J-LIS knows no such consent"),
    "consent_not_revocable": gettext_lazy("the consent cannot be revoked at J-LIS (J-LIS rejected it)"),
    "idempotency_key_reused": gettext_lazy("the message's key was used for another request"),
    "consent_already_reflected": gettext_lazy(
        "J-LIS had already reflected the consent, so it cannot be withdrawn: it was revoked instead"
    ),
}
# What the relay writes for a row it cannot send at all (services/relay.py, _Unsendable).
_UNSENDABLE = {
    "the consent's signed statement is no longer held": gettext_lazy(
        "Not sent: the signed statement is no longer held (erased)"
    ),
    "not sent: the consent was withdrawn": gettext_lazy(
        "Not sent: the consent was withdrawn before it was sent (nothing to do)"
    ),
    "J-LIS holds no such consent": gettext_lazy(
        "Not sent: J-LIS never accepted the consent's submission, so there is nothing to revoke there"
    ),
}


def error_words(text: str) -> str:
    """What a stored gateway error means, in words ("" for no error)."""
    if not text:
        return ""
    if match := _GAVE_UP.match(text):
        return _("Sending was given up after %(n)s attempts: %(reason)s") % {
            "n": match["n"],
            "reason": error_words(match["reason"]),
        }
    if match := _REFUSED.match(text):
        refused = _("J-LIS refused it (HTTP %(status)s, %(code)s)") % {"status": match["status"], "code": match["code"]}
        if (what := _REFUSAL_CODES.get(match["code"])) is None:
            return refused
        return _("%(refused)s: %(what)s") % {"refused": refused, "what": what}
    for start, words in _UNSENDABLE.items():
        if text.startswith(start):
            return str(words)
    if match := _UNAVAILABLE.match(text):
        return _("J-LIS does not answer (HTTP %(status)s)") % {"status": match["status"]}
    if _TIMED_OUT.match(text):
        return _("J-LIS did not answer in time")
    if _CONNECTION.match(text):
        return _("Cannot connect to J-LIS")
    if text.startswith("no outcome within the sending timeout"):
        return _("No outcome in time: sent again with the same key")
    if text.startswith("waiting for the consent's submission"):
        return _("Waiting for the consent's submission to be sent first")
    if _UNREADABLE.search(text):
        return _("J-LIS answered something that cannot be read")
    return _("Error in the exchange with J-LIS")
