#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster, whose URL it finds in
# BETROKKEN_TEST_DATABASE_URL; the cluster is stopped and its directory removed when the command
# ends, however it ends.  Example: scripts/with-postgres.sh npm test
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: with-postgres.sh COMMAND [ARG...]" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
dir=$(mktemp -d -t betrokken-pg.XXXXXX)
trap '"$here/pg-cluster.sh" stop "$dir"' EXIT
trap 'exit 130' INT TERM
BETROKKEN_TEST_DATABASE_URL=$("$here/pg-cluster.sh" start "$dir")
export BETROKKEN_TEST_DATABASE_URL
echo "with-postgres: throwaway cluster at ${BETROKKEN_TEST_DATABASE_URL##*@}" >&2
"$@"
