#!/bin/sh
# Run once by the postgres image when its data directory is created (deploy/compose.yaml):
# the role the hub connects as, beside the owner (POSTGRES_USER) that runs `hub migrate`.
# deploy/README.md, "The disclosure log on PostgreSQL: two roles".
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$(cat /run/secrets/hub_app_password)" <<'SQL'
CREATE ROLE hub_app LOGIN PASSWORD :'app_password';
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO hub_app;
SQL
