"""Size limits answer 413 with a clear message before the body is read; errors Django raises
itself are pages in the site's layout, or `{code, message}` under /api/."""

from __future__ import annotations

import pytest
from django.urls import reverse


def _json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]


@pytest.mark.django_db
def test_an_oversized_api_body_gets_413_json_whatever_its_size(world):
    terminal = world.client("terminal")
    url = reverse("api:statement-sign", args=[world.statement.pk])
    for size in (100 * 1024, 300 * 1024):  # above the API's limit; above the site's
        body = b'{"signature": "' + b"A" * size + b'"}'
        for headers in ({}, {"HTTP_IDEMPOTENCY_KEY": f"big-body-{size}"}):
            _json_error(terminal.post(url, body, content_type="application/json", **headers), 413, "too_large")


@pytest.mark.django_db
def test_an_oversized_form_gets_a_413_page_with_the_reason(client, world, supervisor):
    client.force_login(supervisor)
    page = client.post(reverse("consents:revoke", args=[world.consent.pk]), {"reason": "x" * 300 * 1024})
    assert page.status_code == 413
    assert "大きすぎます" in page.content.decode()  # "too large", in the page's layout
    assert "<main" in page.content.decode()


@pytest.mark.django_db
def test_an_upload_beyond_the_upload_limit_is_refused(client, world, supervisor, settings):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    client.force_login(supervisor)
    upload = b"\0" * (65 * 1024)
    page = client.post(
        reverse("consents:revoke", args=[world.consent.pk]),
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n' + upload + b"\r\n--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    )
    assert page.status_code == 413


@pytest.mark.django_db
def test_the_api_reads_json_only(world):
    terminal = world.client("terminal")
    answer = terminal.post(
        reverse("api:statement-sign", args=[world.statement.pk]),
        "signature=AAAA&certificate=AAAA",
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY="form-body-0001",
    )
    _json_error(answer, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_deeply_nested_json_is_a_clear_400_not_a_crash(world):
    answer = world.client("terminal").post(
        reverse("api:statement-sign", args=[world.statement.pk]),
        "[" * 20_000 + "]" * 20_000,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="nested-json-0001",
    )
    _json_error(answer, 400, "validation_error")


@pytest.mark.django_db
def test_a_nul_in_the_query_string_is_a_400_not_a_database_error(client, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:onestop_office_changelist") + "?kind=%00")
    assert page.status_code == 400
    assert "読み取れません" in page.content.decode()


@pytest.mark.django_db
def test_unknown_api_urls_and_api_refusals_are_json(world):
    _json_error(world.client("terminal").get("/api/v1/nothing-here/"), 404, "not_found")
    _json_error(world.client("anonymous").get("/api/v1/nothing-here/"), 404, "not_found")


@pytest.mark.django_db
def test_refusals_on_pages_say_why_in_the_layout(client, world, clerk):
    client.force_login(clerk)
    forbidden = client.get(reverse("consents:revoke", args=[world.consent.pk]))  # supervisors only
    assert forbidden.status_code == 403
    assert "許可されていません" in forbidden.content.decode() and "<main" in forbidden.content.decode()
    missing = client.get("/counter/records/999999/")
    assert missing.status_code == 404 and "<main" in missing.content.decode()


@pytest.mark.django_db
def test_an_expired_form_says_to_reload(world, supervisor):
    from tests.conftest import StaffClient

    client = StaffClient(enforce_csrf_checks=True)
    client.force_login(supervisor)
    page = client.post(reverse("consents:revoke", args=[world.consent.pk]), {"reason": "x"})
    assert page.status_code == 403 and "再読み込み" in page.content.decode()


@pytest.mark.django_db
def test_export_with_filters_the_list_cannot_apply_goes_back_to_the_list(client, auditor):
    client.force_login(auditor)
    answer = client.get(reverse("admin:onestop_auditevent_export") + "?occurred_at__gte=garbage")
    assert answer.status_code == 302 and answer["Location"] == reverse("admin:onestop_auditevent_changelist") + "?e=1"
