#!/bin/sh
# heat-entrypoint: start script of the heat-migrate image, in the style of kolla's
# extend_start.sh and openstack-helm's db-sync scripts.
#
#   heat-entrypoint COMMAND [ARG...]
#
# 1. Unless HEAT_DB_SYNC is false, runs `heat-manage $HEAT_MANAGE_ARGS db_sync [$HEAT_DB_SYNC_VERSION]`.
#    If it fails, exits with heat-manage's exit code (1 error, 2 usage) and does not start COMMAND.
#    SIGTERM/SIGINT/SIGHUP received meanwhile are passed on to heat-manage.
# 2. Replaces itself with COMMAND (`exec`): COMMAND keeps this process's pid (pid 1 in a
#    container) and receives the container's signals directly. Without COMMAND it just exits 0.
#
# Environment:
#   HEAT_DB_SYNC          true (default) | false: run db_sync first (also yes/no, 1/0, on/off)
#   HEAT_MANAGE_ARGS      global heat-manage options, split on blanks, no globbing, no quotes
#                         (e.g. "--config-file /etc/heat/heat.conf --debug")
#   HEAT_DB_SYNC_VERSION  target schema version (default: the latest)
# plus whatever heat-manage reads (OS_DATABASE__CONNECTION, ...).
set -eu

log() {
  printf 'heat-entrypoint: %s\n' "$*" >&2
}

want_sync() {
  case "${HEAT_DB_SYNC:-true}" in
    [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | 1 | [Oo][Nn] | '') return 0 ;;
    [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo] | 0 | [Oo][Ff][Ff]) return 1 ;;
    *)
      log "HEAT_DB_SYNC must be true or false, not '${HEAT_DB_SYNC}'"
      exit 2
      ;;
  esac
}

# Runs heat-manage in the background so that this shell (pid 1, which the kernel shields from
# signals it does not handle) can pass termination signals on; returns heat-manage's status.
db_sync() {
  set -f # HEAT_MANAGE_ARGS is split on blanks but never globbed
  # shellcheck disable=SC2086
  heat-manage ${HEAT_MANAGE_ARGS:-} db_sync ${HEAT_DB_SYNC_VERSION:-} &
  set +f
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null || :' TERM
  trap 'kill -INT "$child" 2>/dev/null || :' INT
  trap 'kill -HUP "$child" 2>/dev/null || :' HUP
  status=0
  wait "$child" || status=$?
  # A trapped signal interrupts `wait` (status > 128) while heat-manage is still finishing.
  while kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  trap - TERM INT HUP
  return "$status"
}

if want_sync; then
  log "running heat-manage ${HEAT_MANAGE_ARGS:+$HEAT_MANAGE_ARGS }db_sync${HEAT_DB_SYNC_VERSION:+ $HEAT_DB_SYNC_VERSION}"
  rc=0
  db_sync || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "heat-manage db_sync failed (exit $rc); not starting${1:+ $1}"
    exit "$rc"
  fi
else
  log "HEAT_DB_SYNC=${HEAT_DB_SYNC}: skipping heat-manage db_sync"
fi

if [ "$#" -eq 0 ]; then
  exit 0
fi
exec "$@"
