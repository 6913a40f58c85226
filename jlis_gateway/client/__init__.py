"""The one place that speaks to J-LIS (protocol: docs/jlis-protocol.md).

`api` holds the calls, the transport and the errors; `events` and `fields` check everything
J-LIS answers. Nothing outside this package knows a J-LIS path, header or body shape.
"""

from .api import (
    ConsentState,
    JlisClient,
    JlisError,
    JlisProtocolError,
    JlisRefused,
    JlisUnavailable,
    SubmitResult,
)
from .events import KINDS, Event, EventPage, InvalidEvent, PageMalformed, event_parse, page_parse

__all__ = [
    "KINDS",
    "ConsentState",
    "Event",
    "EventPage",
    "InvalidEvent",
    "JlisClient",
    "JlisError",
    "JlisProtocolError",
    "JlisRefused",
    "JlisUnavailable",
    "PageMalformed",
    "SubmitResult",
    "event_parse",
    "page_parse",
]
