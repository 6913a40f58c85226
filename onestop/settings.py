"""Settings for onestop: one file, read from the environment.

ONESTOP_ENV chooses the profile:
- development (default): embedded SQLite and an on-disk Celery broker, demo data, test JPKI.
- test: like development, but PostgreSQL and Redis are used when they answer locally.
- production: every secret and address must come from the environment; anything missing or
  malformed stops the process at start-up instead of running with a guess.
"""

from __future__ import annotations

import base64
import binascii
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from onestop import retention_defaults

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ONESTOP_VAR_DIR", BASE_DIR / "var"))


def _default_env() -> str:
    # pytest imports settings before any conftest can set a variable.
    return "test" if "pytest" in sys.modules else "development"


ONESTOP_ENV = os.environ.get("ONESTOP_ENV") or _default_env()
if ONESTOP_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"ONESTOP_ENV must be development, test or production, not {ONESTOP_ENV!r}")
PRODUCTION = ONESTOP_ENV == "production"


def env_str(name: str, default: str | None = None) -> str:
    """A string setting; in production a missing value without default is fatal."""
    value = os.environ.get(name)
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} must be set")
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _answers(url: str, default_port: int) -> bool:
    """Whether a TCP server answers at the URL's host and port (used only in tests)."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 0.5):
            return True
    except OSError:
        return False


DEV_SECRET_KEY = "dev-only-not-secret-" + "x" * 40
PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "your-secret", "insecure")


def _example_secret_keys() -> set[str]:
    """The keys published with the code: .env.example's and the development default."""
    keys = {DEV_SECRET_KEY}
    example = BASE_DIR / ".env.example"
    if example.exists():
        for line in example.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() == "DJANGO_SECRET_KEY":
                keys.add(value.strip())
    return keys


def secret_key_problem(key: str) -> str | None:
    """Why a production secret key is unfit (issue 17, finding 10), or None. Anyone who knows it
    can forge sessions (a signed-in auditor) and the tokens Django signs with it."""
    if key in _example_secret_keys():
        return "is the example published with the code (.env.example or the development default)"
    if any(word in key.lower() for word in PLACEHOLDERS):
        return "is a placeholder, not a secret"
    # Django's own test for a weak key (security.W009), and no long run of one character.
    if len(key) < 50 or len(set(key)) < 5:
        return "must be at least 50 characters with at least 5 different ones"
    if any(key[i] * 8 in key for i in range(len(key))):
        return "repeats one character 8 times in a row: it is padding, not a random key"
    return None


# Under test, a local PostgreSQL and Redis are used when they answer (ONESTOP_PROBE_SERVICES=0:
# only what DATABASE_URL and REDIS_URL name, as on a machine with no servers).
PROBE_SERVICES = ONESTOP_ENV == "test" and env_bool("ONESTOP_PROBE_SERVICES", True)
LOCAL_POSTGRES_URL = "postgresql://127.0.0.1:5432/test"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"

# --- core -----------------------------------------------------------------------------------
if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if problem := secret_key_problem(SECRET_KEY):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY {problem}. Make a new one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    DEBUG = False
    if os.environ.get("DJANGO_DEBUG"):
        raise ImproperlyConfigured("DJANGO_DEBUG is not allowed in production")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
    DEBUG = env_bool("DJANGO_DEBUG", ONESTOP_ENV == "development")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "onestop",
    "onestop.apps.OnestopAdminConfig",  # django.contrib.admin on a guarded site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "driver_records",
    "consents",
    "applier",
    "jlis_gateway",
    "safeguards",
    "operations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # request metrics for /metrics
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "onestop.middleware.NoStoreMiddleware",  # after whitenoise: static files stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "onestop.middleware.RequestLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "onestop.second_factor.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "onestop.middleware.RequestIdMiddleware",
    "axes.middleware.AxesMiddleware",
    "onestop.idempotency.IdempotencyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "onestop.urls"
WSGI_APPLICATION = "onestop.wsgi.application"
AUTH_USER_MODEL = "onestop.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "counter:home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onestop.context_processors.staff_context",
                "jlis_gateway.context_processors.gateway_context",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "onestop.sqlite3"
if PRODUCTION:
    DATABASE_URL = env_str("DATABASE_URL")
elif os.environ.get("DATABASE_URL"):
    DATABASE_URL = os.environ["DATABASE_URL"]
elif PROBE_SERVICES and _answers(LOCAL_POSTGRES_URL, 5432):
    DATABASE_URL = LOCAL_POSTGRES_URL
else:
    DATABASE_URL = f"sqlite:///{SQLITE_PATH}"

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue instead of failing half-way through a transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis and celery -----------------------------------------------------------------------
if PRODUCTION:
    REDIS_URL = env_str("REDIS_URL")
elif os.environ.get("REDIS_URL"):
    REDIS_URL = os.environ["REDIS_URL"]
elif PROBE_SERVICES and _answers(LOCAL_REDIS_URL, 6379):
    REDIS_URL = LOCAL_REDIS_URL
else:
    REDIS_URL = ""

CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "onestop")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Tasks are idempotent; time limits stay well under the visibility timeout (STYLE.md). A task
    # whose worker died unacknowledged is delivered again once the timeout has passed; a worker
    # looks for such tasks every CELERY_UNACKED_RESTORE_SECONDS (docs/reliability.md).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str | bool] = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 10),
    }
    if os.environ.get("CELERY_UNACKED_RESTORE_SECONDS"):
        CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1  # scan on every sweep
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "operations.beat:HeartbeatScheduler"  # records beat's own heartbeat
CELERY_BEAT_SCHEDULE = {
    "consents-expire-due": {"task": "consents.expire_due", "schedule": crontab(hour=0, minute=5)},
}
CELERY_TIMEZONE = "Asia/Tokyo"

# --- auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before checking it
    "onestop.auth_backend.StaffBackend",  # Django's model backend; loads the user with their roles
]
# Lockout (django-axes, onestop/lockout.py): a username from one address after LOGIN_FAILURE_LIMIT
# failures (a stranger elsewhere cannot lock a supervisor out), and an address after
# LOGIN_ADDRESS_FAILURE_LIMIT failures across usernames (one password sprayed over many names),
# each for the cool-off. The address limit is higher: a station's terminals share one address.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # LockoutHandler reads them in this order
AXES_HANDLER = "onestop.lockout.LockoutHandler"
# The TLS proxy's addresses (also gunicorn's forwarded_allow_ips, gunicorn.conf.py): only from
# them is X-Forwarded-For believed for the client's address. Default: none.
TRUSTED_PROXIES = env_list("ONESTOP_TRUSTED_PROXIES", [])
AXES_CLIENT_IP_CALLABLE = "onestop.lockout.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failure kept for the auditor, not only the count
# TOTP second factor (django-otp) for supervisors and everyone who enters the admin.
OTP_TOTP_ISSUER = "onestop"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no one reads a TOTP secret back from the admin
# How long an enrolment code (onestop/enrolment.py, `manage.py enrolment_code`) can be used.
ENROLMENT_CODE_HOURS = env_int("ENROLMENT_CODE_HOURS", 24)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The database store, merging what two tabs of one session add at once (the kept searches).
SESSION_ENGINE = "onestop.session_store"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: every request pushes the expiry forward
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# An expired session stays in the store until deleted, and it keeps the holder searches typed in
# it (driver_records/search_session.py): beat deletes the expired ones this often.
SESSION_CLEAR_SECONDS = env_int("SESSION_CLEAR_SECONDS", 15 * 60)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["consents.api.parsers.JSONParser"],  # the API speaks JSON only
    "EXCEPTION_HANDLER": "consents.api.views.api_exception_handler",  # {code, message} everywhere
}
SPECTACULAR_SETTINGS = {
    "TITLE": "onestop counter API",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "consents.api.auth.TerminalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "ENUM_NAME_OVERRIDES": {"ConsentChannelEnum": "consents.models.Channel"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)  # a whole multipart body, files included

# --- security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Health checks and Prometheus come over plain HTTP from inside (the scraper holds a token).
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/ready)?$", r"^metrics$"]
    # Whether a request came over HTTPS is gunicorn's wsgi.url_scheme, which believes the proxy's
    # X-Forwarded-Proto only from ONESTOP_TRUSTED_PROXIES (gunicorn.conf.py). Django's own
    # SECURE_PROXY_SSL_HEADER would believe it from any peer, so it stays unset.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp): nothing inline runs; scripts only from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # the Django admin sets a few style attributes
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- onestop --------------------------------------------------------------------------------
# Which JPKI hierarchy is trusted for consent signatures: "production" (the real J-LIS signing
# roots) or "test" (the generated JPKI-TEST hierarchy of the test card).
JPKI_TRUST = env_str("ONESTOP_JPKI_TRUST", "production" if PRODUCTION else "test")
if PRODUCTION and JPKI_TRUST != "production":
    raise ImproperlyConfigured("ONESTOP_JPKI_TRUST must be 'production' in production")
JPKI_TEST_DIR = VAR_DIR / "jpki-test"
# How long past its nextUpdate a CA's latest CRL still answers revocation checks (a late import);
# after it, and with no CRL at all, consents are refused (revocation_status_unknown). Why 6 hours:
# docs/security.md, "Revocation".
JPKI_CRL_GRACE_HOURS = env_int("ONESTOP_JPKI_CRL_GRACE_HOURS", 6)
if not 0 <= JPKI_CRL_GRACE_HOURS <= 48:
    raise ImproperlyConfigured("ONESTOP_JPKI_CRL_GRACE_HOURS must be between 0 and 48")
DEMO_MODE = env_bool("ONESTOP_DEMO", not PRODUCTION)
if PRODUCTION and DEMO_MODE:
    raise ImproperlyConfigured("ONESTOP_DEMO is not allowed in production")
if DEMO_MODE and JPKI_TRUST == "test":
    # The demo CA's CRL lasts a day: reissued twice a day, a running demo never refuses for its age.
    CELERY_BEAT_SCHEDULE["jpki-demo-crl"] = {
        "task": "consents.demo_crl_refresh",
        "schedule": crontab(minute=0, hour="*/12"),
    }

# Outside production the default is the simulator that `make run` starts (jlis_simulator/).
JLIS_BASE_URL = env_str(
    "JLIS_BASE_URL", "" if PRODUCTION else f"http://127.0.0.1:{env_int('JLIS_SIMULATOR_PORT', 8001)}"
)
JLIS_TIMEOUT_SECONDS = float(env_str("JLIS_TIMEOUT_SECONDS", "10"))
JLIS_CLIENT_CERT = os.environ.get("JLIS_CLIENT_CERT", "")
JLIS_CLIENT_KEY = os.environ.get("JLIS_CLIENT_KEY", "")
JLIS_CA_BUNDLE = os.environ.get("JLIS_CA_BUNDLE", "")
JLIS_POLL_SECONDS = env_int("JLIS_POLL_SECONDS", 180)
# How long an event about a serial no record has waits for an earlier event to link it.
JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = env_int("JLIS_UNKNOWN_SERIAL_GRACE_SECONDS", 24 * 3600)
JLIS_RETRIES = env_int("JLIS_RETRIES", 3)  # repeats of a call that is safe to retry
JLIS_BACKOFF_SECONDS = float(env_str("JLIS_BACKOFF_SECONDS", "0.5"))
JLIS_PAGE_SIZE = env_int("JLIS_PAGE_SIZE", 500)
JLIS_POLL_MAX_PAGES = env_int("JLIS_POLL_MAX_PAGES", 200)  # then the poll task queues the next poll
JLIS_POLL_LEASE_SECONDS = env_int("JLIS_POLL_LEASE_SECONDS", 120)
JLIS_OUTBOX_MAX_ATTEMPTS = env_int("JLIS_OUTBOX_MAX_ATTEMPTS", 10)
JLIS_OUTBOX_RETRY_SECONDS = float(env_str("JLIS_OUTBOX_RETRY_SECONDS", "30"))
JLIS_OUTBOX_SENDING_TIMEOUT_SECONDS = env_int("JLIS_OUTBOX_SENDING_TIMEOUT_SECONDS", 300)
JLIS_OUTBOX_SWEEP_SECONDS = env_int("JLIS_OUTBOX_SWEEP_SECONDS", 60)
JLIS_APPLY_SWEEP_SECONDS = env_int("JLIS_APPLY_SWEEP_SECONDS", 300)
# An apply run that ends with events it could not take (another session held them: a killed pool
# process's batch, or a run alongside) queues another run this many seconds later.
JLIS_APPLY_FOLLOW_UP_SECONDS = env_int("JLIS_APPLY_FOLLOW_UP_SECONDS", 5)
CELERY_BEAT_SCHEDULE |= {
    "jlis-poll": {"task": "jlis_gateway.poll_events", "schedule": float(JLIS_POLL_SECONDS)},
    "jlis-outbox-sweep": {"task": "jlis_gateway.outbox_sweep", "schedule": float(JLIS_OUTBOX_SWEEP_SECONDS)},
    # Each poll that stores events queues the applier; this sweep also retries waiting events.
    "driver-records-apply": {"task": "applier.events_apply", "schedule": float(JLIS_APPLY_SWEEP_SECONDS)},
}


# --- audit trail checkpoints (onestop/audit_signing.py, docs/security.md) ---------------------
# Beat has the chain's head signed with an Ed25519 key the database never holds, and the line
# appended to a file outside the database and to the logs. Only the process that signs (the
# worker) needs the private key; every process needs the public one to read checkpoints, and
# production refuses to start without it. Outside production the key defaults to a file under
# var/ that demo mode (`seed_demo`) creates.
AUDIT_SIGNING_KEY = os.environ.get("ONESTOP_AUDIT_SIGNING_KEY", "")  # the PEM itself
AUDIT_SIGNING_KEY_FILE = env_str(
    "ONESTOP_AUDIT_SIGNING_KEY_FILE", "" if PRODUCTION else str(VAR_DIR / "audit-signing-key.pem")
)
AUDIT_SIGNING_KEY_FILE_REQUIRED = bool(os.environ.get("ONESTOP_AUDIT_SIGNING_KEY_FILE"))  # named: must exist
AUDIT_PUBLIC_KEYS = env_list("ONESTOP_AUDIT_PUBLIC_KEY", [])
if PRODUCTION and not AUDIT_PUBLIC_KEYS:
    raise ImproperlyConfigured("ONESTOP_AUDIT_PUBLIC_KEY must be set in production (docs/security.md)")
for _public in AUDIT_PUBLIC_KEYS:
    try:
        _raw = base64.b64decode(_public, validate=True)
    except binascii.Error:
        _raw = b""
    if len(_raw) != 32:
        raise ImproperlyConfigured("ONESTOP_AUDIT_PUBLIC_KEY must be raw Ed25519 public keys in base64")
AUDIT_CHECKPOINT_FILE = Path(env_str("ONESTOP_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl")))
AUDIT_CHECKPOINT_SECONDS = env_int("ONESTOP_AUDIT_CHECKPOINT_SECONDS", 300)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "onestop.audit_checkpoint",
    "schedule": float(AUDIT_CHECKPOINT_SECONDS),
}
# The chainer links audit rows after their commit (docs/security.md, "The chain"): queued after
# audited commits, and swept by beat every AUDIT_CHAIN_SWEEP_SECONDS in case a queued run was lost
# or found another chainer at work. A row still unlinked after AUDIT_UNLINKED_FINDING_SECONDS is
# reported by audit_verify and the checkpoints as a finding.
AUDIT_CHAIN_SWEEP_SECONDS = env_int("ONESTOP_AUDIT_CHAIN_SWEEP_SECONDS", 5)
# A process queues the chainer at most twice in this window (at its first audited commit and at
# its end), not once per commit: onestop/audit_chain.py, QueueWindow.
AUDIT_CHAIN_QUEUE_SECONDS = env_int("ONESTOP_AUDIT_CHAIN_QUEUE_SECONDS", 1)
AUDIT_UNLINKED_FINDING_SECONDS = env_int("ONESTOP_AUDIT_UNLINKED_FINDING_SECONDS", 120)
CELERY_BEAT_SCHEDULE["audit-chain-link"] = {
    "task": "onestop.audit_chain_link",
    "schedule": float(AUDIT_CHAIN_SWEEP_SECONDS),
}

# --- retention (docs/personal-data.md, "How long things are kept"; docs/operations.md) ----------
# Beat runs the retention task daily at 03:30 JST (a quiet hour); days are Japan days: a row
# applied or changed on day D goes in the first run after the end of day D + N (Asia/Tokyo).
RETAIN_JLIS_EVENTS_DAYS = env_int("ONESTOP_RETAIN_JLIS_EVENTS_DAYS", retention_defaults.JLIS_EVENTS_DAYS)
RETAIN_HISTORY_DAYS = env_int("ONESTOP_RETAIN_HISTORY_DAYS", retention_defaults.HISTORY_DAYS)
RETAIN_IDEMPOTENT_ANSWERS_HOURS = env_int(
    "ONESTOP_RETAIN_IDEMPOTENT_ANSWERS_HOURS", retention_defaults.IDEMPOTENT_ANSWERS_HOURS
)
RETENTION_BATCH_ROWS = env_int("ONESTOP_RETENTION_BATCH_ROWS", retention_defaults.BATCH_ROWS)
for _name, _value in (
    ("ONESTOP_RETAIN_JLIS_EVENTS_DAYS", RETAIN_JLIS_EVENTS_DAYS),
    ("ONESTOP_RETAIN_HISTORY_DAYS", RETAIN_HISTORY_DAYS),
    ("ONESTOP_RETAIN_IDEMPOTENT_ANSWERS_HOURS", RETAIN_IDEMPOTENT_ANSWERS_HOURS),
    ("ONESTOP_RETENTION_BATCH_ROWS", RETENTION_BATCH_ROWS),
):
    if _value < 1:  # 0 would delete what is still being applied, replayed or read
        raise ImproperlyConfigured(f"{_name} must be at least 1")
CELERY_BEAT_SCHEDULE["retention"] = {"task": "operations.retention", "schedule": crontab(hour=3, minute=30)}
CELERY_BEAT_SCHEDULE["sessions-expired-clear"] = {
    "task": "onestop.sessions_expired_clear",
    "schedule": float(SESSION_CLEAR_SECONDS),
}

REQUIRE_SERVICES = env_bool("ONESTOP_REQUIRE_SERVICES", False)

# --- operations: health thresholds, metrics, error tracking (docs/operations.md) -------------
HEALTH_HEARTBEAT_SECONDS = env_int("HEALTH_HEARTBEAT_SECONDS", 30)  # beat sends the worker's heartbeat task
HEALTH_BEAT_MAX_AGE_SECONDS = env_int("HEALTH_BEAT_MAX_AGE_SECONDS", 120)
HEALTH_WORKER_MAX_AGE_SECONDS = env_int("HEALTH_WORKER_MAX_AGE_SECONDS", 300)
HEALTH_WORKER_PING_SECONDS = env_int("HEALTH_WORKER_PING_SECONDS", 2)  # the first answer ends the wait
HEALTH_POLL_MAX_AGE_SECONDS = env_int("HEALTH_POLL_MAX_AGE_SECONDS", max(900, 3 * JLIS_POLL_SECONDS))
HEALTH_OUTBOX_MAX_AGE_SECONDS = env_int("HEALTH_OUTBOX_MAX_AGE_SECONDS", 900)
CELERY_BEAT_SCHEDULE |= {
    "operations-heartbeat": {"task": "operations.heartbeat", "schedule": float(HEALTH_HEARTBEAT_SECONDS)},
}
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")  # unset: /metrics does not exist
METRICS_CACHE_SECONDS = env_int("METRICS_CACHE_SECONDS", 30)
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from operations.error_tracking import error_tracking_init

    error_tracking_init(dsn=SENTRY_DSN, environment=ONESTOP_ENV, release=os.environ.get("ONESTOP_RELEASE", ""))

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "onestop.logging.RequestIdFilter"},
        "request_without_query": {"()": "onestop.logging.RequestWithoutQueryFilter"},
    },
    "formatters": {"json": {"()": "onestop.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "request_without_query"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Pinned whatever LOG_LEVEL says: their DEBUG records carry SQL parameters and template
        # contexts, i.e. personal data.
        "django.db.backends": {"level": "WARNING"},
        "django.template": {"level": "INFO"},
        # Django's own handlers go (mail_admins would mail the request): its records reach the
        # JSON console through the root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
# Error reports (the DEBUG page, error mails) show where it failed, never the request's data.
DEFAULT_EXCEPTION_REPORTER_FILTER = "onestop.logging.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "onestop.logging.PersonalDataExceptionReporter"
