import pytest
from django.core.exceptions import ValidationError

from driver_records.forms import RecordSearchForm
from driver_records.models import record_number_validator
from driver_records.normalise import record_number_input


@pytest.mark.parametrize("value", ["301234567890", "100000000000", "999999999999"])
def test_twelve_digits_have_the_shape_of_a_record_number(value):
    record_number_validator(value)


@pytest.mark.parametrize("value", ["30123456789", "3012345678901", "30123456789a", "３０１２３４５６７８９０", ""])
def test_other_shapes_are_refused(value):
    with pytest.raises(ValidationError):
        record_number_validator(value)


def test_full_width_and_hyphenated_input_is_normalised():
    assert record_number_input("３０１２－３４５６－７８９０") == "301234567890"
    assert record_number_input("3012 3456 7890") == "301234567890"


@pytest.mark.parametrize("query", ["12345", "3012345678901"])
def test_search_refuses_a_number_that_is_not_twelve_digits(query, settings):
    settings.LANGUAGE_CODE = "en"
    form = RecordSearchForm({"q": query})
    assert not form.is_valid()
    assert "exactly 12 digits" in form.errors["q"][0]


def test_search_accepts_a_record_number_that_passes_the_my_number_check():
    # 12345678901 + 8 passes the My Number check digit; as a record number it is fine (R14).
    form = RecordSearchForm({"q": "123456789018"})
    assert form.is_valid()
