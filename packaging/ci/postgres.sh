#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the storage tests and print the variables that point at it.
#
#   eval "$(bash packaging/ci/postgres.sh)"      # then: pytest -m postgres ... ; stop with the printed hint
#
# Run as root on a fresh Debian machine: installs the server if missing (apt-get install postgresql),
# creates a cluster in a temporary folder owned by the `postgres` user (created if absent), starts it on
# a free localhost port with trust authentication (no password: it is a test server, listening on
# 127.0.0.1 only), creates the database `affectscope_test`, and prints on stdout only:
#   export AFFECTSCOPE_PG_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/affectscope_test
#   export AFFECTSCOPE_PG_DIR=/tmp/affectscope-pg.XXXX   (stop: bash packaging/ci/postgres.sh stop)
# Everything else goes to stderr.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && echo "$found"
}

if [ "${1:-}" = "stop" ]; then
    : "${AFFECTSCOPE_PG_DIR:?set AFFECTSCOPE_PG_DIR (printed when the server started)}"
    BIN=$(pg_bin)
    su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$AFFECTSCOPE_PG_DIR/data' -m fast -w stop" >&2
    rm -rf "$AFFECTSCOPE_PG_DIR"
    exit 0
fi

BIN=$(pg_bin || true)
if [ -z "$BIN" ]; then
    log "installing the PostgreSQL server (apt-get install -y postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN=$(pg_bin)
fi
[ -n "$BIN" ] || { log "no initdb/pg_ctl found even after installing postgresql"; exit 1; }

# The server refuses to run as root: use the postgres account (Debian's package creates it).
if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi

DIR=$(mktemp -d /tmp/affectscope-pg.XXXXXX)
chown postgres "$DIR"
chmod 700 "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

as_pg() { su postgres -s /bin/sh -c "$1" >&2; }
as_pg "'$BIN/initdb' -D '$DIR/data' -U postgres -A trust --no-sync -E UTF8 >'$DIR/initdb.log'"
# fsync off: a throwaway test server (our crash tests kill the client, never this server).
as_pg "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 60 \
    -o \"-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start"
CREATEDB="$BIN/createdb"
[ -x "$CREATEDB" ] || CREATEDB=$(command -v createdb || ls /usr/lib/postgresql/*/bin/createdb 2>/dev/null | sort -V | tail -n 1)
as_pg "'$CREATEDB' -h 127.0.0.1 -p $PORT -U postgres affectscope_test"
log "PostgreSQL running on 127.0.0.1:$PORT (data in $DIR)"
echo "export AFFECTSCOPE_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/affectscope_test"
echo "export AFFECTSCOPE_PG_DIR=$DIR"
