"""gunicorn settings, read from ./gunicorn.conf.py by every gunicorn started in this folder
(Procfile, Dockerfile, docker compose)."""

# Access lines carry the path without its query string, and no referrer: a holder search by
# name travels in the query string (GET /counter/?q=...) and would otherwise land in the log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'
