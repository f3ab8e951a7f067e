#!/usr/bin/env bash
# The Galera test: starts a 3-node MariaDB Galera cluster on loopback, runs
# dist/test/galera/galera.test.js against it, stops the cluster, and prints timings.
# Usage: bash scripts/galera-test.sh        (docs/GALERA.md)
# Env: GALERA_NO_BUILD=1 skips the build; GALERA_KEEP=1 keeps the cluster's temp dir;
#      GALERA_TEST_LOGS=DIR keeps every db_sync's output there.
set -uo pipefail
cd "$(dirname "$0")/.."
t_start=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Prerequisites: mariadb-server (mariadbd, mariadb-install-db), galera-4, rsync (SST).
need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb-install-db >/dev/null 2>&1 || need+=(mariadb-server)
[ -e /usr/lib/galera/libgalera_smm.so ] || need+=(galera-4)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
if [ ${#need[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing $pkgs"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs || exit 1
  else
    echo "missing packages: $pkgs (apt-get install $pkgs)" >&2
    exit 1
  fi
fi

if [ "${GALERA_NO_BUILD:-}" != 1 ]; then
  echo "== build"
  t=$(date +%s.%N)
  # tsc emits even when files owned by others have type errors; ours must have none.
  out=$(npx tsc -p tsconfig.json 2>&1 | grep -v '^npm warn')
  if printf '%s\n' "$out" | grep -q '^test/galera/'; then
    printf '%s\n' "$out" | grep '^test/galera/' >&2
    exit 1
  fi
  [ -n "$out" ] && echo "(type errors outside test/galera, ignored here: $(printf '%s\n' "$out" | grep -c 'error TS'))"
  node scripts/postbuild.js || exit 1
  echo "build: $(elapsed "$t") s"
fi
[ -f dist/test/galera/galera.test.js ] || { echo "dist/test/galera/galera.test.js missing: build first" >&2; exit 1; }

echo "== galera test"
t=$(date +%s.%N)
node --test --test-reporter=spec dist/test/galera/galera.test.js
code=$?
echo "galera test: $(elapsed "$t") s (cluster start, tests, cluster stop); whole script: $(elapsed "$t_start") s; exit $code"
exit $code
