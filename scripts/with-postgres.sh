#!/usr/bin/env bash
# Run a command against a private PostgreSQL cluster on loopback, then stop it.
# The cluster lives in .pg/ and belongs to the unprivileged `postgres` user
# (initdb refuses to run as root).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${EXPEDITER_PG_PORT:-54329}
data="$root/.pg/data"
sock="$root/.pg/run"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$root/.pg" "$sock"
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$root/.pg" postgres
  chown -R postgres "$root/.pg"
fi
chmod 755 "$root" "$root/.pg" 2>/dev/null || true
if [ ! -f "$data/PG_VERSION" ]; then
  as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
as_pg "$bindir/pg_ctl" -D "$data" -l "$root/.pg/server.log" -w \
  -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
trap 'as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null' EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/expediter"
"$@"
