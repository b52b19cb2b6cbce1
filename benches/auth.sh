#!/usr/bin/env bash
# Accounts benchmark (issue 3): login throughput (dominated by argon2id) and
# authenticated GET /v1/me against the /health/live baseline. The per-core hash
# rate itself comes from `cargo bench --bench domain` (argon2id group).
#
#   benches/auth.sh     # DURATION=10s CONNECTIONS=32 by default
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_auth_$$"
PORT=${PORT:-18183}
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/rigmarket
WORK=$(mktemp -d)
cleanup() {
    [[ -n "${PID:-}" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

DATABASE_URL="$SERVER/$DB" RIGMARKET_HTTP_ADDR="127.0.0.1:$PORT" RIGMARKET_MAIL_DIR="$WORK/mail" \
    RIGMARKET_STORAGE_DIR="$WORK/storage" RIGMARKET_DB_POOL_SIZE=$CONNECTIONS RUST_LOG=warn "$BIN" serve --no-worker &
PID=$!
until curl -sf "$BASE/health/ready" >/dev/null; do sleep 0.05; done

curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench-login@rigmarket.test","password":"correct horse battery","display_name":"Bench"}' >/dev/null
psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now()"
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench-login@rigmarket.test","password":"correct horse battery"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

echo "## wrk /health/live (baseline)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$BASE/health/live" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "## wrk GET /v1/me (JWT + session check)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$BASE/v1/me" |
    grep -E "Requests/sec|50%|99%|Non-2xx"
echo "## wrk POST /v1/auth/login (argon2id verify + session insert)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/login.lua "$BASE/v1/auth/login" |
    grep -E "Requests/sec|50%|99%|Non-2xx"
