#!/usr/bin/env bash
# with-postgres.sh COMMAND...: start a throwaway PostgreSQL cluster on a free loopback
# port, export COSIGNATORY_TEST_PG_URL for COMMAND, and remove the cluster afterwards.
set -euo pipefail
bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
work=$(mktemp -d /tmp/cosignatory-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: run the cluster as the `postgres` system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust --no-sync >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200 -c fsync=on" start >/dev/null
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE cosignatory_test" >/dev/null
export COSIGNATORY_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/cosignatory_test"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port (removed on exit)"
set +e
"$@"
status=$?
set -e
exit $status
