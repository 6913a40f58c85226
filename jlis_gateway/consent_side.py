"""What the gateway needs from the consents app, which sits above it (issue 21).

The gateway imports nothing from consents: consents hands it an implementation of `ConsentSide`
when Django starts (`ConsentsConfig.ready()`), and the relay, the door and the monitor ask
`consent_side()` for it. Nothing registered is a configuration error, raised at first use: the
door must never store J-LIS's latest information unfiltered (R2), nor the relay drop an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class ConsentSide(Protocol):
    # The relay's outcomes: each joins the relay's transaction (the outbox row's outcome and the
    # consent's change commit together).
    def submission_accepted(self, *, consent_id: int, jlis_consent_id: str) -> None:
        """J-LIS accepted the consent's submission under this id (kept once, never replaced)."""

    def submission_refused(self, *, consent_id: int, reason: str) -> None:
        """J-LIS refused the submission outright: the consent will never be reflected."""

    def withdrawal_refused(self, *, consent_id: int, code: str) -> None:
        """J-LIS refused to cancel a withdrawn consent (J-LIS's refusal code)."""

    # The door's reads (R2): what they return is what services/door.py says of them.
    def items_consented_or_pending(self, record_ids: Iterable[int], *, today: date) -> dict[int, frozenset[str]]:
        """record id -> the items of its consents in force or waiting for J-LIS; `today` a Japan date."""

    def records_by_consent_serial(self, serials: Iterable[str]) -> dict[str, int]:
        """serial -> the record of a pending consent signed with that certificate."""

    def records_by_jlis_consent_id(self, jlis_consent_ids: Iterable[str]) -> dict[str, int]:
        """J-LIS's consent id -> the record of our consent it names."""

    def records_by_mynaportal_serial(self, serials: Iterable[str]) -> dict[str, int]:
        """serial -> the record whose Mynaportal linkage was made with it."""

    # The monitor's CRL panel.
    def crl_states(self) -> Sequence[Any]:
        """Each trusted signing-CA key and its latest CRL, as the monitor template shows them
        (`anchor`, and `crl` with freshness, number, dates, entries)."""


_registered: ConsentSide | None = None


def consent_side_register(impl: ConsentSide) -> None:
    """Called once at start-up by the consents app (a second call replaces the first: tests)."""
    global _registered
    _registered = impl


def consent_side() -> ConsentSide:
    if _registered is None:
        raise ImproperlyConfigured(
            "jlis_gateway: no consent side is registered (the consents app registers it in its "
            "AppConfig.ready()); the gateway refuses to go on without it"
        )
    return _registered
