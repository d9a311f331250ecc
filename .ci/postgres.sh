# Source this: starts a throwaway PostgreSQL (initdb/pg_ctl from the PATH) for the tests,
# as an unprivileged user, listening on 127.0.0.1 only, with its data in a temp dir,
# exports TEST_DATABASE_URL, and stops and removes it when the shell exits.
#
#   . .ci/postgres.sh && cargo nextest run --workspace

pg_start() {
    local user="" port dir
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root.
        if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
    fi
    as_user() { if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }

    dir=$(mktemp -d /tmp/todo-pg.XXXXXX)
    [ -n "$user" ] && chown "$user" "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_user initdb -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    as_user pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=300" \
        >/dev/null || { cat "$dir/server.log" >&2; return 1; }

    PG_TEST_DIR=$dir
    PG_TEST_USER=$user
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    trap pg_stop EXIT
    echo "PostgreSQL for tests: $TEST_DATABASE_URL (data in $dir)"
}

pg_stop() {
    [ -n "${PG_TEST_DIR:-}" ] || return 0
    if [ -n "${PG_TEST_USER:-}" ]; then
        runuser -u "$PG_TEST_USER" -- pg_ctl -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    else
        pg_ctl -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=""
}

pg_start
