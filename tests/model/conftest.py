from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from consents.models import TermsVersion
from onestop.roles import Role
from tests.conftest import _staff

from .jlis_double import Jlis
from .machine import CARD_DAYS, HoldersAgainstTheModel


@pytest.fixture
def model_world(
    db: None,
    settings: Any,
    tokyo_office: Any,
    osaka_office: Any,
    jpki_hierarchy: Any,
    jpki_card_key: Any,
    jpki_crl: Any,
) -> Iterator[type[HoldersAgainstTheModel]]:
    """The machine's world: a clerk and two supervisors in Tokyo and in Osaka, the terms, the test
    CA's current CRL (consents need one, R3), and the J-LIS double on a free port."""
    # An event that cannot be placed waits (the model's choice); the grace after which the real
    # applier gives up on it is tested on its own (tests/driver_records).
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 100 * 365 * 24 * 3600
    TermsVersion.objects.create(version="2025-03", effective_date=date(2025, 3, 24), text="利用規約")
    staff = {}
    for prefecture, office in (("13", tokyo_office), ("27", osaka_office)):
        staff[("clerk", prefecture)] = _staff(f"clerk{prefecture}", Role.CLERK, office)
        staff[("supervisor", prefecture)] = _staff(f"sup{prefecture}", Role.SUPERVISOR, office)
        staff[("supervisor2", prefecture)] = _staff(f"sup2{prefecture}", Role.SUPERVISOR, office)
    jlis = Jlis(jpki_hierarchy, jpki_card_key, card_days=CARD_DAYS)
    HoldersAgainstTheModel.world = {"jlis": jlis, "staff": staff}
    yield HoldersAgainstTheModel
    jlis.close()
