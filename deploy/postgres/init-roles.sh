#!/bin/sh
# The database and its two roles, made once by the postgres image on an empty data directory
# (docker-compose.yml mounts this into /docker-entrypoint-initdb.d), as the image's superuser:
# - the owner runs `manage.py migrate` and owns the tables (docker-compose: the `migrate` service);
# - the application (web, worker, beat) reads and writes rows, may not change the schema, and
#   gets what the owner's tables grant it by default; `migrate` then takes UPDATE, DELETE and
#   TRUNCATE on the audit trail back from it (onestop/db_roles.py).
# Neither is a superuser: the audit trail's guards let only a superuser empty it (docs/security.md).
set -eu
: "${ONESTOP_DB_OWNER_PASSWORD:?set ONESTOP_DB_OWNER_PASSWORD}"
: "${ONESTOP_DB_APP_PASSWORD:?set ONESTOP_DB_APP_PASSWORD}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v db="${ONESTOP_DB_NAME:-onestop}" \
  -v owner="${ONESTOP_DB_OWNER:-onestop_owner}" -v owner_password="$ONESTOP_DB_OWNER_PASSWORD" \
  -v app="${ONESTOP_DB_APP:-onestop_app}" -v app_password="$ONESTOP_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE :"db" OWNER :"owner";
-- Only these two connect; neither makes temporary tables.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
\connect :"db"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
