"""The gateway's stored errors in a clerk's words.

The client and the relay store short English texts (`GET /v1/events: HTTP 503 unavailable`, `gave
up after 8 attempts: ...`); they carry no personal data and stay as they are for operators and
logs. The monitor shows what they mean, in the page's language, with the text beside it.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_GAVE_UP = re.compile(r"^gave up after (?P<n>\d+) attempts: (?P<reason>.*)$", re.S)
_REFUSED = re.compile(r"^(?:J-LIS refused: )?HTTP (?P<status>\d{3}) (?P<code>\S*):")
_UNAVAILABLE = re.compile(r"^[A-Z]+ \S+: HTTP (?P<status>\d{3})\b")
_TIMED_OUT = re.compile(r"^[A-Z]+ \S+: timed out\b")
_CONNECTION = re.compile(r"^[A-Z]+ \S+: (?:connection failed|[A-Za-z]+Error\b|[A-Za-z]+Exception\b)")
_UNREADABLE = re.compile(r"malformed|not JSON|answered another|larger than")


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
        return _("J-LIS refused it (HTTP %(status)s, %(code)s)") % {"status": match["status"], "code": match["code"]}
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
