"""The terms of use the holders accept (R1): a version is stored once, never changed after."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from ..models import TermsVersion


def terms_version_ensure(*, version: str, effective_date: date, text: str) -> TermsVersion:
    """This version of the terms, stored unless it is already (then left as it is: a version a
    holder may have accepted keeps its text). Inside the caller's transaction."""
    with transaction.atomic(savepoint=False):
        terms, _created = TermsVersion.objects.get_or_create(
            version=version, defaults={"effective_date": effective_date, "text": text}
        )
        return terms
