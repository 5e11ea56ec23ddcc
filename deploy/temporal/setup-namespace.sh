#!/bin/sh
# Creates inflow's Temporal namespace if it is missing and registers inflow's custom search
# attributes on it. Safe on every start: an existing namespace is kept, and registering an
# attribute that already exists with the same type is a no-op. An attribute an older inflow
# registered with another type (Network, Currency and TxHash were Keyword, now KeywordList) is
# removed first, then registered with its new type: workflows could not set it otherwise, and SQL
# visibility has room for only 10 Keyword attributes. Its values on existing workflows stop being
# searchable (docs/operations.md, "Upgrading").
#
# SEARCH_ATTRIBUTES holds "Name=Type" pairs separated by spaces (set in docker-compose.yml), with
# the CLI's type names (Keyword, KeywordList, Bool, ...).
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
: "${SEARCH_ATTRIBUTES:?}"

# The frontend's port opens before the cluster serves requests.
tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "Temporal at $ADDRESS did not become healthy" >&2
    exit 1
  fi
  sleep 2
done

changed=false
if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "Namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --address "$ADDRESS"
  changed=true
  # A new namespace is unknown to the frontend's other calls until its namespace cache refreshes
  # (every 10 s): listing its search attributes before then fails with "not found".
  tries=0
  until temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
      echo "Namespace $NAMESPACE was created but is still not found" >&2
      exit 1
    fi
    sleep 1
  done
fi

# The JSON listing spells types as enum values: KeywordList -> "INDEXED_VALUE_TYPE_KEYWORD_LIST".
indexed_type() {
  printf 'INDEXED_VALUE_TYPE_%s' "$(printf '%s' "$1" | sed 's/\([a-z]\)\([A-Z]\)/\1_\2/g' | tr '[:lower:]' '[:upper:]')"
}

before=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" -o json)
# Attributes an older inflow registered that no workflow sets now (DepositStatus, OrderStatus became
# ObjectStatus): removed first, or the new ones would not fit beside them.
for name in ${RETIRED_SEARCH_ATTRIBUTES:-}; do
  if printf '%s' "$before" | grep -q "\"$name\": "; then
    echo "Search attribute $name is retired; removing it"
    temporal operator search-attribute remove --namespace "$NAMESPACE" --address "$ADDRESS" --name "$name" --yes
    changed=true
  fi
done
args=""
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  args="$args --name $name --type $type"
  if ! printf '%s' "$before" | grep -q "\"$name\": "; then
    changed=true
  elif ! printf '%s' "$before" | grep -q "\"$name\": \"$(indexed_type "$type")\""; then
    echo "Search attribute $name is registered with another type; registering it again as $type"
    temporal operator search-attribute remove --namespace "$NAMESPACE" --address "$ADDRESS" --name "$name" --yes
    changed=true
  fi
done
# shellcheck disable=SC2086 # $args is a list of flags
temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" $args

after=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" -o json)
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if ! printf '%s' "$after" | grep -q "\"$name\": \"$(indexed_type "$type")\""; then
    echo "Search attribute $name is not registered as $type on $NAMESPACE" >&2
    exit 1
  fi
done

# The server's namespace caches refresh every 10s; wait once after a change so the worker's first
# workflows see the namespace and its attributes.
if [ "$changed" = true ]; then
  sleep 12
fi
echo "Namespace $NAMESPACE and its search attributes are ready"
