"""Writes: suspension (R15) and disclosure requests (R16). Each public service is one durable
transaction with its audit events."""

from .disclosure import (
    disclosure_answer,
    disclosure_close,
    disclosure_fee_record,
    disclosure_identity_check,
    disclosure_register,
)
from .suspension import suspension_confirm, suspension_propose, suspension_reject

__all__ = [
    "disclosure_answer",
    "disclosure_close",
    "disclosure_fee_record",
    "disclosure_identity_check",
    "disclosure_register",
    "suspension_confirm",
    "suspension_propose",
    "suspension_reject",
]
