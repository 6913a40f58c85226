"""docker-compose.yml, the Procfile and .env.example stay valid and agree with the settings."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_every_process_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "simulator"} <= set(services)
    assert [name for name, service in services.items() if "healthcheck" not in service] == []
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["simulator"]["profiles"] == ["simulator"]
    assert "pgdata" in compose["volumes"]


def test_compose_health_checks_run_the_projects_own_checks():
    """beat's check is `manage.py health beat`; readiness as a whole is /healthz/ready."""
    from operations.health import CHECKS

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "health", "beat"]
    assert services["migrate"]["healthcheck"]["test"][-2:] == ["migrate", "--check"]
    assert "beat" in CHECKS


def test_env_example_names_every_required_production_variable():
    names = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    required = {
        "ONESTOP_ENV",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "JLIS_BASE_URL",
    }
    assert required <= names


def test_procfile_runs_web_worker_beat_and_the_simulator():
    processes = {line.split(":")[0] for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()}
    assert processes == {"web", "worker", "beat", "simulator"}
