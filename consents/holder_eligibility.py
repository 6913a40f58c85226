"""The holder page's one eligibility message: whether a consent may be taken here, and if not,
what comes next for the holder (R1, R4, R15, R17). It says it once, the first reason only: the
consent section below does not repeat it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from driver_records.selectors import record_eligibility
from onestop.roles import is_counter_staff

from .governing import record_consents
from .models import ConsentStatus
from .selectors import consent_in_force, consent_start_refusal


@dataclass(frozen=True)
class HolderEligibility:
    eligible: bool
    code: str
    message: str
    next_step: str


def _next_step_for_holding(record: DriverRecord) -> str:
    """What a holder refused under R1 must do to be served: hold the card alone."""
    licence = record.kind == RecordKind.LICENCE
    if record.holding_status in (HoldingStatus.LICENCE_BOTH, HoldingStatus.HISTORY_BOTH):
        return (
            _(
                "Next step: once the holder returns the plastic licence and holds the licence on the "
                "My Number card alone (マイナ免許証のみ), record the new holding status; the consent can "
                "then be registered."
            )
            if licence
            else _(
                "Next step: once the holder returns the plastic driving-history certificate and holds "
                "it on the My Number card alone (マイナ経歴証明書のみ), record the new holding status; the "
                "consent can then be registered."
            )
        )
    return (
        _(
            "Next step: the holder has the licence recorded on the My Number card and returns the "
            "plastic licence (マイナ免許証のみ); then record the new holding status and register the consent."
        )
        if licence
        else _(
            "Next step: the holder has the driving-history certificate recorded on the My Number card "
            "and returns the plastic one (マイナ経歴証明書のみ); then record the new holding status and "
            "register the consent."
        )
    )


def _eligible_next_step(record: DriverRecord) -> str:
    """What the clerk does next for an eligible holder: it depends on the consent they already
    have. A consent waiting for J-LIS needs nothing but the receipt (another one would be sent too
    and normally govern, R6); one in force needs nothing unless the holder changes the items."""
    current, consents = record_consents(record)  # read once with the page (record_with_consents)
    waiting = [c for c in consents if c.status == ConsentStatus.PENDING]
    if waiting:
        return _(
            "Next step: the consent %(reference)s is waiting for J-LIS; give the holder its receipt. "
            "It takes effect when J-LIS reflects it. Register a new consent below only if the holder "
            "wants other items."
        ) % {"reference": waiting[0].reference}
    if current is not None and consent_in_force(current):
        return _(
            "Next step: none. The consent is in force. Register a new consent below only if the "
            "holder wants to change the items given."
        )
    return _("Next step: choose the items below and make the statement for the holder to sign.")


def holder_eligibility(record: DriverRecord, *, who: Any) -> HolderEligibility:
    """For counter staff, every reason a consent cannot be started at their office (the same
    check the consent views make); for readers (auditors), R1 alone."""
    if not is_counter_staff(who):
        rule = record_eligibility(record)
        if rule.eligible:
            return HolderEligibility(True, rule.code, rule.message, "")
        return HolderEligibility(False, rule.code, rule.message, _next_step_for_holding(record))
    refusal = consent_start_refusal(record=record, office=getattr(who, "office", None))
    if refusal is None:
        return HolderEligibility(True, "eligible", str(record_eligibility(record).message), _eligible_next_step(record))
    prefecture = record.get_prefecture_display()
    next_steps = {
        "not_eligible": _next_step_for_holding(record),
        "wrong_prefecture": _(
            "Next step: the holder registers or revokes the consent at a licence centre or police "
            "station of %(prefecture)s, where they live, or through Mynaportal."
        )
        % {"prefecture": prefecture},
        "no_office": _("Next step: ask an administrator to set your office."),
        "no_terms": _("Next step: ask an administrator to enter the terms of use in effect."),
    }
    message = refusal.message
    if refusal.code == "wrong_prefecture":  # named: the clerk tells the holder where to go
        message = _("This holder lives in %(prefecture)s: this counter cannot take their consent.") % {
            "prefecture": prefecture
        }
    return HolderEligibility(False, refusal.code, message, next_steps.get(refusal.code, ""))
