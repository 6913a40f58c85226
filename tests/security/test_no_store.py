"""Issue 17, finding 7: counter PCs are shared, so no answer with personal data may be kept by
the browser or a proxy. Every URL of the project, as each principal that reads personal data,
answers `Cache-Control: no-store`, whatever the status (pages, API, admin, its CSV export,
refusals, redirects), and so do kept answers replayed to a repeat."""

from __future__ import annotations

import json

import pytest
from django.http import HttpResponse

from onestop.permission_matrix import Principal, Zone, rule_for

from .urlwalk import url_entries, url_for


def _no_store(response: HttpResponse) -> bool:
    directives = {d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


@pytest.mark.django_db
def test_finding7_every_answer_to_a_reader_of_personal_data_is_no_store(world):
    failures, seen = [], set()
    for principal in (Principal.AUDITOR, Principal.CLERK, Principal.TERMINAL):
        client = world.client(principal)
        for entry in url_entries():
            rule = rule_for(entry.key)
            assert rule is not None
            if entry.key in ("logout", "admin:logout") or (rule.zone == Zone.ADMIN and principal != Principal.AUDITOR):
                continue
            response = client.get(url_for(entry, world.url_args))
            seen.add(response.status_code)
            if not _no_store(response):
                failures.append(f"{principal} GET {entry.key}: {response.status_code} {response.get('Cache-Control')}")
    assert 200 in seen and 403 in seen and 302 in seen  # answers, refusals and redirects were all asked
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_finding7_the_csv_export_and_a_replayed_answer_are_no_store(world):
    auditor = world.client(Principal.AUDITOR)
    export = auditor.get("/admin/driver_records/driverrecord/export.csv")
    assert export.status_code == 200 and _no_store(export)
    clerk = world.client(Principal.CLERK)
    body = json.dumps({"record_id": world.record.pk, "items": ["address"]})
    for _ in range(2):
        answer = clerk.post(
            "/api/v1/statements/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-0000001"
        )
        assert answer.status_code == 201 and _no_store(answer)
    assert answer["Idempotent-Replayed"] == "true"
