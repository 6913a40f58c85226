"""The application's settings plus one URL: B3's trivial view (served by the same gunicorn,
through the same middleware and guard as the counter pages)."""

from onestop.settings import *  # noqa: F403

ROOT_URLCONF = "bench.site_urls"
