#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, in a directory of its own.
#
#   pg-cluster.sh bindir      prints the directory of initdb/pg_ctl, or fails naming what to install
#   pg-cluster.sh start DIR   initdb in DIR (which must be empty or absent), start the server on
#                             127.0.0.1 at a free port with its unix socket in DIR, and print its URL
#   pg-cluster.sh stop DIR    stop the server and remove DIR
#
# The server runs as an unprivileged user: as root, the `postgres` system user (created when
# missing); otherwise the caller. TCP logins need the password written to DIR, which only that
# user can read; the cluster trades durability for speed (fsync off), as a test cluster may.
set -euo pipefail

find_bindir() {
  local initdb
  if initdb=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$initdb")"
    return
  fi
  # Debian keeps the server binaries off PATH, one directory per major version: take the newest.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n1 || true)
  if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
    echo "$dir"
    return
  fi
  echo "pg-cluster: PostgreSQL server binaries (initdb, pg_ctl) not found; install them, e.g. 'apt-get install postgresql'" >&2
  return 1
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local dir=$1 bindir port password
  bindir=$(find_bindir)
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  [[ $EUID -eq 0 ]] && chown postgres: "$dir"
  password=$(node -e "console.log(require('node:crypto').randomBytes(18).toString('base64url'))")
  (umask 077 && printf '%s\n' "$password" >"$dir/password")
  [[ $EUID -eq 0 ]] && chown postgres: "$dir/password"
  as_owner "$bindir/initdb" --pgdata="$dir/data" --username=postgres --pwfile="$dir/password" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  local attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --silent \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
      echo "postgres://postgres:$password@127.0.0.1:$port/postgres"
      return
    fi
  done
  cat "$dir/server.log" >&2
  return 1
}

stop() {
  local dir=$1 bindir
  if [[ -f $dir/data/postmaster.pid ]]; then
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait --silent stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case ${1:-} in
  bindir) find_bindir ;;
  start) start "${2:?usage: pg-cluster.sh start DIR}" ;;
  stop) stop "${2:?usage: pg-cluster.sh stop DIR}" ;;
  *) echo "usage: pg-cluster.sh bindir | start DIR | stop DIR" >&2; exit 2 ;;
esac
