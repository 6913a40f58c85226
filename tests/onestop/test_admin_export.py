"""An admin export is audited by its shape: which filters, whether a search was typed, how many
rows and which columns. Never the values typed (issue 16: a name and a birth date typed into the
export's search and filters were written into the append-only audit trail)."""

import csv
import io

import pytest
from django.urls import reverse

from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory


def _audit_text() -> str:
    """Every column of every audit row, as text."""
    return "\n".join(str(row) for row in AuditEvent.objects.values_list())


@pytest.mark.django_db
def test_admin_export_audits_its_shape_never_the_name_or_birth_date_typed(client, auditor):
    record = DriverRecordFactory(name="鈴木　一郎", birth_date="1975-03-09", holding_status="licence_both")
    DriverRecordFactory(name="佐藤　花子", birth_date="1990-11-23")
    client.force_login(auditor)
    url = reverse("admin:driver_records_driverrecord_export")
    typed = {"q": "鈴木", "birth_date": "1975-03-09", "name__startswith": "鈴木　一"}
    answer = client.get(url, {**typed, "holding_status__exact": "licence_both"})
    assert answer.status_code == 200
    assert record.number in b"".join(answer.streaming_content).decode("utf-8-sig")  # the export did run

    export = AuditEvent.objects.get(action="admin.export")
    assert export.new_values["rows"] == 1
    assert export.new_values["search"] == "***"
    # Which filters were used; a choice's own value stays (it was picked, not typed), the rest is masked.
    assert export.new_values["filters"] == {
        "birth_date": "***",
        "holding_status__exact": "licence_both",
        "name__startswith": "***",
    }
    trail = _audit_text()
    for value in ("鈴木", "一郎", "1975-03-09", "1975", "%E9%88%B4"):  # the last: the name URL-encoded
        assert value not in trail


@pytest.mark.django_db
def test_admin_export_masks_a_value_that_is_not_one_of_the_fields_choices(client, auditor):
    DriverRecordFactory()
    client.force_login(auditor)
    answer = client.get(reverse("admin:driver_records_driverrecord_export"), {"kind": "山田太郎"})
    assert answer.status_code == 200
    export = AuditEvent.objects.get(action="admin.export")
    assert export.new_values["filters"] == {"kind": "***"} and export.new_values["search"] == ""
    assert "山田" not in _audit_text()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x.invalid","a")', "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1", "＝1+1", "＠SUM(1)"],
)
def test_finding9_the_export_neutralises_cells_a_spreadsheet_would_run(client, auditor, name):
    """Issue 17, finding 9: a cell that begins with =, +, -, @ (a tab or CR before one; their
    full-width forms) is a formula to a spreadsheet. OWASP's remedy: a leading apostrophe,
    which the spreadsheet shows as text."""
    record = DriverRecordFactory(name=name)
    DriverRecordFactory(name="鈴木　一郎")
    client.force_login(auditor)
    answer = client.get(reverse("admin:driver_records_driverrecord_export"))
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names[record.number] == "'" + name
    assert "鈴木　一郎" in names.values()  # an ordinary cell is left as it is
