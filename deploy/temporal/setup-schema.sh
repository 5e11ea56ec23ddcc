#!/bin/sh
# Creates Temporal's two databases on the shared Postgres and brings their schemas up to the
# version this admin-tools image ships (the server image does not set up schemas itself).
# Safe on every start: `create` ignores an existing database, `setup-schema -v 0.0` leaves a newer
# schema alone and `update-schema` applies only the missing versions.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" "$@"
}

sql_tool --db temporal create
sql_tool --db temporal setup-schema -v 0.0
sql_tool --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"

sql_tool --db temporal_visibility create
sql_tool --db temporal_visibility setup-schema -v 0.0
sql_tool --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"

echo "Temporal schemas are up to date"
