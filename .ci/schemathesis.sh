#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis (from PyPI, in a local venv) against the release
# binary's own /openapi.json, with an authenticated user and every check on.
#
#   .ci/schemathesis.sh sqlite|postgres [seconds]
#
# For postgres, TEST_DATABASE_URL must point at a server (.ci/postgres.sh starts one);
# a fresh database is made on it. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:?sqlite or postgres}
budget=${2:-150}
binary=target/release/todo-server
venv=${SCHEMATHESIS_VENV:-.venv/schemathesis}
workdir=$(mktemp -d /tmp/todo-schemathesis.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$workdir"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4.3,<5'
fi
[ -x "$binary" ] || cargo build --release --locked -p todo-server

case "$backend" in
    sqlite) database_url="sqlite://$workdir/todo.db" ;;
    postgres)
        : "${TEST_DATABASE_URL:?TEST_DATABASE_URL must name a PostgreSQL server}"
        name="todo_schemathesis_$$"
        psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name" >/dev/null
        database_url="${TEST_DATABASE_URL%/*}/$name"
        ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
esac

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
DATABASE_URL=$database_url HOST=127.0.0.1 PORT=$port RUST_LOG=warn HASHING_CONCURRENCY=2 \
    JWT_SECRET=schemathesis-secret-of-at-least-32-bytes "$binary" >"$workdir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
curl -sf "$base/health" >/dev/null || { cat "$workdir/server.log"; exit 1; }

# A user for every authenticated route, and a second token of theirs that only
# /auth/logout uses (signing out must not revoke the token the other routes use).
session=$(curl -sf -X POST "$base/auth/register" -H 'Content-Type: application/json' \
    -d '{"email": "fuzz@example.com", "password": "schemathesis-1"}')
token=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["access_token"])' "$session")
user_id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["user_id"])' "$session")
logout_token=$(curl -sf -X POST "$base/auth/login" -H 'Content-Type: application/json' \
    -d '{"email": "fuzz@example.com", "password": "schemathesis-1"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# Answers that the document cannot foresee but the contract mandates:
# - register: 400 EMAIL_ALREADY_REGISTERED when the fuzzer reuses an address;
# - create/update: 422 for rules across fields (remind_at <= due_at, recurrence needs a
#   due_at) and, for PUT, across the stored task, which OpenAPI 3.0 cannot express;
# - list: 422 for a cursor the server did not issue (a cursor is opaque).
cat >"$workdir/schemathesis.toml" <<TOML
base-url = "$base"
seed = 20261129
max-time = $budget
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large"]
headers = { Authorization = "Bearer $token" }
parameters = { "path.user_id" = "$user_id" }

[checks]
enabled = true

# A body over 64 KiB (e.g. far more than 1000 ids) is refused with 413 before it is read.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

# Follow the document's own links and Location headers between operations; guessing
# links from field names pairs unrelated ids (a new task's id with random bulk ids).
[phases.stateful.inference]
algorithms = ["location-headers"]

[[operations]]
include-path = "/auth/logout"
headers = { Authorization = "Bearer $logout_token" }

[[operations]]
include-path = "/auth/register"
checks = { positive_data_acceptance = { expected-statuses = ["2xx", "400", "429"] } }

[[operations]]
include-operation-id = ["create_task", "update_task"]
checks = { positive_data_acceptance = { expected-statuses = ["2xx", "401", "403", "404", "422"] } }

[[operations]]
include-operation-id = "list_tasks"
checks = { positive_data_acceptance = { expected-statuses = ["2xx", "401", "403", "422"] } }
TOML

echo "--- schemathesis on $backend ($budget s, all checks)"
"$venv/bin/schemathesis" --config-file "$workdir/schemathesis.toml" run "$base/openapi.json" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-examples "${MAX_EXAMPLES:-40}" --workers 2 \
    --report junit --report-dir "$workdir/report" --no-color --output-truncate true 2>&1 \
    | tee "$workdir/schemathesis.log" | cut -c1-2000
status=${PIPESTATUS[0]}
if grep -qi panicked "$workdir/server.log"; then
    echo "the server panicked:" >&2; grep -i -A5 panicked "$workdir/server.log" >&2; status=1
fi
exit "$status"
