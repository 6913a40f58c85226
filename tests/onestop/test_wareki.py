"""和暦 dates read and written. The expected dates are the eras' first days as the cabinet orders
fixed them (大正 1912-07-30, 昭和 1926-12-25, 平成 1989-01-08, 令和 2019-05-01), worked out by hand."""

from datetime import date

import pytest

from onestop.wareki import DateInputError, date_input, wareki

READ = [
    ("平成2年4月1日", date(1990, 4, 1)),
    ("平成元年1月8日", date(1989, 1, 8)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("H2.4.1", date(1990, 4, 1)),
    ("h02/04/01", date(1990, 4, 1)),
    ("Ｈ２．４．１", date(1990, 4, 1)),
    ("H020401", date(1990, 4, 1)),
    ("S45.1.2", date(1970, 1, 2)),
    ("昭和45年1月2日", date(1970, 1, 2)),
    ("大正15年12月24日", date(1926, 12, 24)),
    ("昭和元年12月25日", date(1926, 12, 25)),
    ("T1.7.30", date(1912, 7, 30)),
    ("明治45年7月29日", date(1912, 7, 29)),
    ("R6.2.29", date(2024, 2, 29)),
    ("㍻2.4.1", date(1990, 4, 1)),
    ("1990-04-01", date(1990, 4, 1)),
    ("1990/4/1", date(1990, 4, 1)),
    ("1990年4月1日", date(1990, 4, 1)),
    ("19900401", date(1990, 4, 1)),
    ("１９９０－０４－０１", date(1990, 4, 1)),
]

REFUSED = [
    "平成31年5月1日",  # 令和元年5月1日: 平成 had no such day
    "昭和64年1月8日",  # 平成元年1月8日
    "平成元年1月7日",  # 昭和64年1月7日
    "令和元年4月30日",
    "大正15年12月25日",
    "R5.2.29",  # 2023 is not a leap year
    "1990-13-01",
    "H0.4.1",
    "平成",
    "山田",
    "",
]


@pytest.mark.parametrize(("typed", "day"), READ)
def test_a_date_typed_in_either_calendar_is_read(typed, day):
    assert date_input(typed) == day


@pytest.mark.parametrize("typed", REFUSED)
def test_a_date_its_era_did_not_have_is_refused(typed):
    with pytest.raises(DateInputError):
        date_input(typed)


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(1990, 4, 1), "平成2年4月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2026, 12, 2), "令和8年12月2日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
    ],
)
def test_a_date_is_written_in_its_era(day, written):
    assert wareki(day) == written
