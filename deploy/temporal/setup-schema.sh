#!/bin/sh
# Creates Temporal's two databases on the shared Postgres and brings their schemas up to the
# version this admin-tools image ships (the server image does not set up schemas itself).
# Safe on every start: `create` ignores an existing database, `setup-schema -v 0.0` leaves a newer
# schema alone and `update-schema` applies only the missing versions.
#
# docker-compose.yml runs it in temporalio/admin-tools; `npm run prod:local` runs it too
# (dev/temporal-server.ts), with its own temporal-sql-tool on PATH and SCHEMA_DIR pointing at the
# same release's schemas. DBNAME and VISIBILITY_DBNAME come from server.env, as for the server.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" "$@"
}

sql_tool --db "$DBNAME" create
sql_tool --db "$DBNAME" setup-schema -v 0.0
sql_tool --db "$DBNAME" update-schema -d "$SCHEMA_DIR/temporal/versioned"

sql_tool --db "$VISIBILITY_DBNAME" create
sql_tool --db "$VISIBILITY_DBNAME" setup-schema -v 0.0
sql_tool --db "$VISIBILITY_DBNAME" update-schema -d "$SCHEMA_DIR/visibility/versioned"

echo "Temporal schemas are up to date"
