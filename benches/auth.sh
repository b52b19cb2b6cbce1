#!/usr/bin/env bash
# Accounts benchmark (issue 3): login throughput (dominated by argon2id) and
# authenticated GET /v1/me against the /health/live baseline. The per-core hash
# rate itself comes from `cargo bench --bench domain` (argon2id group).
#
#   benches/auth.sh     # DURATION=10s CONNECTIONS=32 by default
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_auth_$$" PORT=${PORT:-18183} DROP_DB=1 POOL_SIZE=$CONNECTIONS
source benches/common.sh

start_server --no-worker
wait_ready
curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench-login@rigmarket.test","password":"correct horse battery","display_name":"Bench"}' >/dev/null
psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now()"
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench-login@rigmarket.test","password":"correct horse battery"}' |
    sed -E 's/.*"access_token":"([^"]+)".*/\1/')

bench /health/live
bench /v1/me -H "Authorization: Bearer $TOKEN"
bench /v1/auth/login -s benches/login.lua
