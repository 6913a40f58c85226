from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings

from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy


@pytest.fixture(scope="session")
def jpki_test_hierarchy() -> TestHierarchy:
    """The JPKI-TEST hierarchy the app and the simulator share (keys made once per machine)."""
    return TestHierarchy.load_or_create(settings.JPKI_TEST_DIR)


@pytest.fixture(scope="session")
def holder_card(jpki_test_hierarchy: TestHierarchy) -> TestCard:
    holder = CardHolder(name="山田　太郎", address="東京都千代田区霞が関二丁目１番１号", birth_date=date(1980, 5, 17))
    return jpki_test_hierarchy.issue_card(holder)
