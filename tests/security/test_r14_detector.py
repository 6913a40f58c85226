"""R14: a My Number in free text is found however it is written; a licence number in its own
field, and the ordinary numbers of a note (dates, telephone numbers, postal codes, reference
numbers), are not. The expected answers come from tests/security/r14_text.py (an independent
check digit, written from the ordinance) and from how the text was made, never from the
detector."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from driver_records.forms import RecordSearchForm
from driver_records.models import DriverRecord
from onestop.models import User
from onestop.validators import contains_my_number, search_refusal
from tests.security import r14_text as t

# No deadlines: a test's speed is not what it proves, and a busy machine is slow.
DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_r14_the_independent_check_digit_is_the_ordinances():
    assert t.check_digit("12345678901") == 8  # DOMAIN.md's example


# --- a My Number, however written, is found -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "窓口2 1234 5678 9018",  # beside another number (the issue's example)
        "窓口２　１２３４　５６７８　９０１８",
        "2024/04/01 1234-5678-9018",  # a date just before it
        "2024/04/01 123456789018",
        "1234.5678.9018",
        "1234/5678/9018",
        "1234_5678_9018",
        "1234・5678・9018",
        "1234,5678,9018",
        "1234、5678、9018",
        "1234。5678。9018",
        "1234－5678－9018",
        "1234 - 5678 - 9018",
        "1234ー5678－9018",  # the card's 4-4-4, two hyphens of a Japanese keyboard
        "1 2 3 4 5 6 7 8 9 0 1 8",
        "123.456.789.018",
        "一二三四五六七八九〇一八",
        "窓口21234-5678-9018",  # glued to another digit
        "1234\u200b5678\u200b9018",
    ],
)
def test_r14_the_issues_forms_are_found(text):
    assert t.passes_check("123456789018")
    assert contains_my_number(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t.my_number_in_text())
def test_r14_a_generated_my_number_in_japanese_text_is_found(text):
    assert contains_my_number(text)


@settings(max_examples=200, deadline=None)
@given(t.card_form_mixed_separators())
def test_r14_the_cards_grouping_is_found_with_mixed_separators(text):
    assert contains_my_number(text)


@settings(max_examples=200, deadline=None)
@given(t.glued_card_form())
def test_r14_the_cards_grouping_is_found_glued_to_other_digits(text):
    assert contains_my_number(text)


@settings(deadline=None)
@given(st.text("0123456789", min_size=11, max_size=11), st.integers(1, 9), st.sampled_from(t.PREFIXES))
def test_r14_twelve_digits_with_a_wrong_check_digit_are_not_a_my_number(first_eleven, shift, prefix):
    assert not contains_my_number(prefix + t.without_check_digit(first_eleven, shift) + "。")


# --- ordinary text and licence numbers pass ---------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(t.ordinary_texts())
@example("2024/04/01 03-1234-5678、〒100-8977 受付番号D20240401-7K3M9Q2P")
@example("IP 203.104.209.134 から不正アクセス")  # twelve digits, but an address
@example("+81-90-1234-5678")  # twelve digits after a「+」: a telephone number
def test_r14_ordinary_text_with_dates_phones_postcodes_and_references_is_accepted(text):
    assert not contains_my_number(text)


# --- the false-positive rate on a corpus (docs/security.md) ------------------------------------

CORPUS_SIZE = 10_000
ORDINARY_SIZE = 20_000


def _licence_number(rng: random.Random) -> str:
    reissues = rng.choices("0123", weights=[85, 10, 4, 1])[0]
    return rng.choice(t.COMMISSION_CODES) + t._d(rng, 9) + reissues


def _quoting(rng: random.Random, text: str, number: str) -> tuple[str, bool]:
    """A note quoting a twelve-digit number that is not a My Number: the detector cannot tell it
    from one, so it is refused exactly when its digits pass the (independent) check."""
    return text, t.passes_check(number)


def _corpus() -> dict[str, list[tuple[str, bool]]]:
    """What staff type into free-text fields, by kind, each with whether it must be refused;
    seeded, so every run measures the same."""
    rng = random.Random(20260324)
    licences = [_licence_number(rng) for _ in range(CORPUS_SIZE)]
    parcels = [t._d(rng, 12) for _ in range(CORPUS_SIZE)]
    return {
        "ordinary notes (dates, times, telephone numbers, postal codes, reference numbers, amounts, "
        "addresses, IP addresses)": [(t.ordinary_text(rng), False) for _ in range(ORDINARY_SIZE)],
        "a note quoting a licence number (12 digits; reissue count 0 in 85%)": [
            _quoting(rng, f"{rng.choice(t.WORDS)}、免許証番号{rng.choice(['', ' ', '：'])}{n}", n) for n in licences
        ],
        "a note quoting a 12-digit parcel tracking number (4-4-4)": [
            _quoting(rng, f"追跡番号 {n[:4]}-{n[4:8]}-{n[8:]} で返送", n) for n in parcels
        ],
        "a note quoting a date-and-serial reference (YYYYMMDD-NNNN)": [
            (f"受付 {rng.randint(2020, 2030)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{t._d(rng, 4)}", False)
            for _ in range(CORPUS_SIZE)
        ],
    }


def _table(measured: dict[str, tuple[int, int]]) -> str:
    lines = ["| text | texts | refused | rate |", "|---|---:|---:|---:|"]
    for kind, (refused, total) in measured.items():
        lines.append(f"| {kind} | {total:,} | {refused:,} | {100 * refused / total:.1f}% |")
    return "\n".join(lines)


def test_r14_the_false_positive_rates_in_the_docs_are_the_measured_ones():
    measured, wrong = {}, []
    for kind, texts in _corpus().items():
        refused = 0
        for text, expected in texts:
            refused += (found := contains_my_number(text))
            if found != expected:
                wrong.append(text)
        measured[kind] = (refused, len(texts))
    assert wrong == [], "refused when it should not be, or the reverse"
    block = re.search(r"<!-- r14-corpus -->\n(.*?)\n<!-- /r14-corpus -->", DOC.read_text(), re.S)
    assert block is not None, "docs/security.md has no r14-corpus table"
    assert block.group(1) == _table(measured), "update docs/security.md's table to:\n" + _table(measured)


# --- a licence-number field is never refused ---------------------------------------------------


def _admin_number_field() -> forms.Field:
    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    form_class = admin.site._registry[DriverRecord].get_form(request, None)
    return form_class.base_fields["number"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(t.licence_numbers(), t.licence_numbers(passing=True)))
def test_r14_a_licence_number_field_takes_every_licence_number(number):
    """Those built to pass the My Number check too (about 18% of real ones do, DOMAIN.md)."""
    model_field = DriverRecord._meta.get_field("number")
    model_field.run_validators(model_field.clean(number, None))
    assert _admin_number_field().clean(number) == number
    search = RecordSearchForm({"q": number})
    assert search.is_valid(), search.errors
    grouped = f"{number[:4]}-{number[4:8]}-{number[8:]}"  # typed at the counter with hyphens
    assert RecordSearchForm({"q": grouped}).is_valid()
    assert search_refusal(number) is None


def test_r14_the_licence_numbers_generated_include_ones_that_pass_the_check():
    """Otherwise the test above would prove nothing."""
    rng = random.Random(7)
    numbers = [_licence_number(rng) for _ in range(20_000)]
    share = sum(map(t.passes_check, numbers)) / len(numbers)
    assert 0.15 < share < 0.19  # DOMAIN.md: about 18%
