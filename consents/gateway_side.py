"""The consents app as the J-LIS gateway sees it (jlis_gateway.consent_side.ConsentSide).

The gateway sits below consents and imports nothing from it; ConsentsConfig.ready() registers
this object, through which the relay's outcomes, the door's reads and the monitor's CRL panel
reach consents' own services and selectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from . import selectors
from .jpki.revocation import AnchorCrlState, crl_states
from .services import consent_jlis_id_record, consent_reject, consent_withdrawal_refused


class GatewaySide:
    def submission_accepted(self, *, consent_id: int, jlis_consent_id: str) -> None:
        consent_jlis_id_record(consent_id=consent_id, jlis_consent_id=jlis_consent_id)

    def submission_refused(self, *, consent_id: int, reason: str) -> None:
        consent_reject(consent_id=consent_id, reason=reason)

    def withdrawal_refused(self, *, consent_id: int, code: str) -> None:
        consent_withdrawal_refused(consent_id=consent_id, code=code)

    def items_consented_or_pending(self, record_ids: Iterable[int], *, today: date) -> dict[int, frozenset[str]]:
        return selectors.items_consented_or_pending(record_ids, today=today)

    def records_by_consent_serial(self, serials: Iterable[str]) -> dict[str, int]:
        return selectors.records_by_consent_serial(serials)

    def records_by_jlis_consent_id(self, jlis_consent_ids: Iterable[str]) -> dict[str, int]:
        return selectors.records_by_jlis_consent_id(jlis_consent_ids)

    def records_by_mynaportal_serial(self, serials: Iterable[str]) -> dict[str, int]:
        return selectors.records_by_mynaportal_serial(serials)

    def crl_states(self) -> Sequence[AnchorCrlState]:
        return crl_states()
