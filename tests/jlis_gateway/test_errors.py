"""The gateway's stored errors in a clerk's words: J-LIS's refusal codes (docs/jlis-protocol.md,
"Errors") and the relay's own reasons for not sending say what happened, not a generic error."""

from __future__ import annotations

import pytest
from django.utils import translation

from consents.services.withdrawal import NOT_SENT
from jlis_gateway.errors import error_words

GENERIC = "J-LISとの通信でエラーが発生しました"


@pytest.mark.parametrize(
    ("stored", "meaning"),
    [
        ("J-LIS refused: HTTP 422 invalid_items: items must be a non-empty subset", "提供する事項"),
        ("J-LIS refused: HTTP 404 consent_not_found: no such consent", "J-LISにその同意がありません"),
        ("J-LIS refused: HTTP 409 consent_not_revocable: a rejected consent", "取り消せない"),
        ("J-LIS refused: HTTP 409 idempotency_key_reused: this key was used", "別の要求"),
        ("the consent's signed statement is no longer held", "消去"),
        ("J-LIS holds no such consent (its submission was never accepted)", "取り消すものがありません"),
        (NOT_SENT, "送信前に受付が取り下げられました"),
        ("J-LIS refused: HTTP 409 consent_already_reflected: reflected on 2026-12-01", "代わりに取り消しました"),
    ],
)
def test_each_refusal_and_unsendable_row_is_said_in_japanese(stored, meaning):
    with translation.override("ja"):
        words = error_words(stored)
    assert meaning in words and words != GENERIC
    with translation.override("en"):
        assert meaning not in error_words(stored)


def test_an_unknown_refusal_code_still_says_it_was_refused():
    with translation.override("ja"):
        assert (
            error_words("J-LIS refused: HTTP 422 something_new: x")
            == "J-LISが受け付けませんでした（HTTP 422、something_new）"
        )
