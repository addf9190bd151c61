#!/usr/bin/env bash
# Starts the PostgreSQL server the tests and benches use, or finds it running, and prints its
# URL (postgres://rackboot@127.0.0.1:PORT/postgres). Debian's binaries (scripts/peers.sh
# installs them), a data directory of its own (RACKBOOT_PG_DIR, default
# /tmp/rackboot-test-pg-$UID), loopback only on a free port, trust authentication for the
# superuser `rackboot`, durability off (test data; PG_DURABLE=1 keeps it on). PostgreSQL refuses to run as root, so as
# root it runs as the unprivileged `postgres` user (made by the package), or `nobody`.
# Safe to call from many test processes at once (flock); idempotent. `scripts/pg.sh stop`
# stops it. The server is started with none of this script's descriptors (not the lock, not
# the caller's pipes), so a caller reading its output is not held open by the server.
set -euo pipefail

dir="${RACKBOOT_PG_DIR:-/tmp/rackboot-test-pg-$(id -u)}"
bin="$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg.sh: no PostgreSQL binaries in /usr/lib/postgresql/*/bin: run scripts/peers.sh (installs Debian's postgresql)" >&2
    exit 1
fi
as=()
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
    as=(runuser -u "$user" --)
fi

mkdir -p "$dir"
[ ${#as[@]} -eq 0 ] || chown "${as[2]}" "$dir"
exec 9>"$dir.lock"
flock 9

data="$dir/data"
if [ "${1:-}" = stop ]; then
    [ -f "$data/postmaster.pid" ] && "${as[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true
    exit 0
fi

if [ -f "$dir/port" ] && "${as[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres://rackboot@127.0.0.1:$(cat "$dir/port")/postgres"
    exit 0
fi

if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    "${as[@]}" "$bin/initdb" -D "$data" -U rackboot --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
fi
# Test data needs no durability; a benchmark (PG_DURABLE=1, its own RACKBOOT_PG_DIR) keeps
# PostgreSQL's defaults, so it is measured as a site would run it.
if [ "${PG_DURABLE:-0}" = 1 ]; then
    durability=""
else
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir $durability -c max_connections=400" \
    start </dev/null >"$dir/pg_ctl.log" 2>&1 9>&- || { cat "$dir/pg_ctl.log" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
echo "$port" >"$dir/port"
echo "postgres://rackboot@127.0.0.1:$port/postgres"
