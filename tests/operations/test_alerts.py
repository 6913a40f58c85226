"""docs/prometheus/alerts.yml: valid for Prometheus, each alert unit-tested with promtool
(alerts-test.yml: quiet while the system works, firing once its condition has held), each with
a runbook section in docs/operations.md, and each metric it reads one that /metrics exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from onestop.metrics import COUNTERS

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus"
pytestmark = pytest.mark.promtool


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("promtool") or "promtool", *args], cwd=RULES, capture_output=True, text=True, check=False
    )


def alerts() -> list[dict]:
    groups = yaml.safe_load((RULES / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_accepts_the_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_promtool_unit_tests():
    result = promtool("test", "rules", "alerts-test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (RULES / "alerts-test.yml").read_text()))
    assert tested == {rule["alert"] for rule in alerts()}, "every alert has a unit test"


def test_every_alert_has_its_runbook_section():
    runbook = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {"#" + heading.strip().lower() for heading in re.findall(r"^#### (\w+)", runbook, re.MULTILINE)}
    for rule in alerts():
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"
        assert f"#{rule['alert'].lower()}" in anchors, f"docs/operations.md has no section for {rule['alert']}"


@pytest.mark.django_db
def test_the_alerts_read_only_metrics_onestop_exposes(client, settings):
    settings.METRICS_TOKEN = "t" * 32
    exposed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32).content.decode()
    names = set(re.findall(r"^# TYPE (\w+)", exposed, re.MULTILINE)) | set(COUNTERS) | {"up"}
    used = {name for rule in alerts() for name in re.findall(r"\b(up|onestop_\w+)\b", rule["expr"])}
    assert used <= names, used - names
