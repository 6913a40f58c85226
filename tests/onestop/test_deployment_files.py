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
        "REDIS_URL",
        "JLIS_BASE_URL",
        "ONESTOP_AUDIT_PUBLIC_KEY",
        # docker-compose.yml builds each service's DATABASE_URL from the two roles' passwords.
        "POSTGRES_PASSWORD",
        "ONESTOP_DB_OWNER_PASSWORD",
        "ONESTOP_DB_APP_PASSWORD",
    }
    assert required <= names


def test_finding4_compose_migrates_as_the_owner_and_runs_as_the_application_role():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    def database_role(service: str) -> str:
        return services[service]["environment"]["DATABASE_URL"].split("//")[1].split(":")[0]

    assert database_role("migrate") == "onestop_owner"
    for name in ("web", "worker", "beat"):
        assert database_role(name) == "onestop_app", name
    postgres = services["postgres"]
    assert "POSTGRES_USER" not in postgres["environment"]  # the image's superuser makes the roles, nothing else
    init = "./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/10-onestop-roles.sh:ro"
    assert init in postgres["volumes"]
    assert (ROOT / "deploy/postgres/init-roles.sh").stat().st_mode & 0o111  # the image runs it


def test_compose_gives_the_signing_key_to_the_worker_only():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    holders = {name for name, service in services.items() if "audit_signing_key" in service.get("secrets", [])}
    assert holders == {"worker"}
    assert services["worker"]["environment"]["ONESTOP_AUDIT_SIGNING_KEY_FILE"] == "/run/secrets/audit_signing_key"
    assert "audit-checkpoints:/var/lib/onestop/audit" in services["worker"]["volumes"]
    assert "audit-checkpoints:/var/lib/onestop/audit:ro" in services["web"]["volumes"]


def test_procfile_runs_web_worker_beat_and_the_simulator():
    processes = {line.split(":")[0] for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()}
    assert processes == {"web", "worker", "beat", "simulator"}
