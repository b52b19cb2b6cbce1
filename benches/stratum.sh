#!/usr/bin/env bash
# Stratum benchmark (issue 5): accepted shares/s over TCP (every share verified
# and committed to PostgreSQL before "accepted"), and the service's RSS with
# 10,000 idle connected sessions. Share verification per core in-process is
# `cargo bench --bench domain`.
#
#   benches/stratum.sh          # CONNECTIONS=8 SECONDS=10 IDLE=10000
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-8} SECONDS_RUN=${SECONDS_RUN:-10} IDLE=${IDLE:-10000}
DURATION=10s THREADS=2
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_stratum_$$" PORT=${PORT:-18184} DROP_DB=1
STRATUM_PORT=${STRATUM_PORT:-13334}
export RIGMARKET_STRATUM_ADDR="127.0.0.1:$STRATUM_PORT"
source benches/common.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # as many descriptors as allowed

start_server --no-worker
wait_ready
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench-proof@rigmarket.test","password":"correct horse battery","display_name":"Bench"}' >/dev/null
psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now(), roles = '{admin}'"
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench-proof@rigmarket.test","password":"correct horse battery"}' | json "['access_token']")
auth=(-H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')
# A 1 H/s "rig": its proof gets the floor difficulty, so nearly every fourth hash
# is a share and the load generator is not the bottleneck.
MODEL=$(curl -sf -X POST "$BASE/v1/admin/rig-models" "${auth[@]}" \
    -d '{"manufacturer":"bench","name":"share pump","hashrate_hs":1,"power_w":1}' | json "['id']")
LISTING=$(curl -sf -X POST "$BASE/v1/listings" "${auth[@]}" -d "{\"rig_model_id\":\"$MODEL\",\"title\":\"bench lot\",
    \"quantity\":1,\"unit_price_cents\":100,\"currency\":\"USD\",\"country\":\"KZ\"}" | json "['id']")
USERNAME=$(curl -sf -X POST "$BASE/v1/listings/$LISTING/hashrate-proofs" "${auth[@]}" \
    -d '{"duration_secs":3600}' | json "['username']")

echo "## accepted shares over TCP: $CONNECTIONS connections, ${SECONDS_RUN}s"
python3 benches/stratum_load.py shares 127.0.0.1 "$STRATUM_PORT" "$USERNAME" "$CONNECTIONS" "$SECONDS_RUN"

echo "## RSS with $IDLE idle sessions"
echo "rss_before_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
python3 benches/stratum_load.py idle 127.0.0.1 "$STRATUM_PORT" "$IDLE" 8 &
LOADER=$!
sleep 6
echo "rss_with_idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
echo "open_fds=$(ls /proc/$PID/fd | wc -l)"
wait "$LOADER"
