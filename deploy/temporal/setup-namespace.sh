#!/bin/sh
# Creates inflow's Temporal namespace if it is missing and registers inflow's custom search
# attributes on it. Safe on every start: an existing namespace is kept, and registering an
# attribute that already exists with the same type is a no-op (a different type fails loudly).
#
# SEARCH_ATTRIBUTES holds "Name=Type" pairs separated by spaces (set in docker-compose.yml).
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
fi

before=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" -o json)
args=""
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  args="$args --name $name --type $type"
  printf '%s' "$before" | grep -q "\"$name\"" || changed=true
done
# shellcheck disable=SC2086 # $args is a list of flags
temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" $args

after=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" -o json)
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  if ! printf '%s' "$after" | grep -q "\"$name\""; then
    echo "Search attribute $name is not registered on $NAMESPACE" >&2
    exit 1
  fi
done

# The server's namespace caches refresh every 10s; wait once after a change so the worker's first
# workflows see the namespace and its attributes.
if [ "$changed" = true ]; then
  sleep 12
fi
echo "Namespace $NAMESPACE and its search attributes are ready"
