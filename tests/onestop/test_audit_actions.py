"""The audit trail's actions are one enumeration: a code it does not list is never written, and
every code has its words for auditors, Japanese first."""

import pytest
from django.utils import translation

from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.audit_labels import action_label
from onestop.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_misspelt_action_is_refused_and_nothing_is_written():
    audit_log(AuditEntry(action=AuditAction.RECORD_VIEW, subject_type="record", subject_id="1"))

    with pytest.raises(ValueError, match=r"consent\.regster"):
        audit_log(AuditEntry(action="consent.regster", subject_type="consent", subject_id="1"))  # type: ignore[arg-type]

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["record.view"]


def test_the_trail_stores_the_code_itself():
    row = audit_log(AuditEntry(action=AuditAction.CONSENT_WITHDRAW, subject_type="consent", subject_id="7"))

    assert AuditEvent.objects.filter(pk=row.pk, action="consent.withdraw").exists()


@pytest.mark.parametrize("action", list(AuditAction), ids=lambda a: a.value)
def test_every_action_is_shown_in_japanese_and_in_english(action):
    with translation.override("ja"):
        japanese = action_label(action.value)
    with translation.override("en"):
        english = action_label(action.value)

    assert english != action.value, "an English label, not the code"
    assert japanese != english, f"{action.value} has no Japanese label"
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in japanese)
