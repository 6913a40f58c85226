import pytest

from driver_records.models import HoldingStatus, RecordKind
from driver_records.selectors import record_eligibility
from tests.factories import DriverRecordFactory

CASES = [
    (RecordKind.LICENCE, HoldingStatus.LICENCE_CARD_ONLY, True, "eligible", "Eligible"),
    (RecordKind.LICENCE, HoldingStatus.LICENCE_BOTH, False, "two_cards", "2枚持ち"),
    (RecordKind.LICENCE, HoldingStatus.LICENCE_PLASTIC_ONLY, False, "plastic_only", "免許証のみ"),
    (RecordKind.DRIVING_HISTORY, HoldingStatus.HISTORY_CARD_ONLY, True, "eligible", "Eligible"),
    (RecordKind.DRIVING_HISTORY, HoldingStatus.HISTORY_BOTH, False, "two_cards", "マイナ経歴証明書のみ"),
    (RecordKind.DRIVING_HISTORY, HoldingStatus.HISTORY_PLASTIC_ONLY, False, "plastic_only", "運転経歴証明書のみ"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "status", "eligible", "code", "fragment"), CASES)
def test_r01_eligibility_for_every_holding_status(kind, status, eligible, code, fragment, settings):
    settings.LANGUAGE_CODE = "en"
    record = DriverRecordFactory(kind=kind, holding_status=status)
    result = record_eligibility(record)
    assert (result.eligible, result.code) == (eligible, code)
    assert fragment in result.message


def test_r01_every_holding_status_is_covered():
    covered = {case[1] for case in CASES}
    assert covered == set(HoldingStatus)


@pytest.mark.django_db
def test_r01_holding_status_must_match_the_kind():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        DriverRecordFactory(kind=RecordKind.LICENCE, holding_status=HoldingStatus.HISTORY_CARD_ONLY)
