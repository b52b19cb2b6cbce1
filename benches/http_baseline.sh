#!/usr/bin/env bash
# Foundation benchmarks: cold start to ready, idle RSS, and GET /v1/rig-models
# throughput against the /health/live baseline, measured with wrk in one run.
#
#   benches/http_baseline.sh            # release build, 10 s per wrk run
#   DURATION=30s CONNECTIONS=64 benches/http_baseline.sh
#
# Needs: PostgreSQL at $BENCH_DATABASE_SERVER (default the local one), wrk
# (`apt-get install -y wrk`). Uses a throwaway database and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_$$"
PORT=${PORT:-18181}

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

start() {
    DATABASE_URL="$SERVER/$DB" RIGMARKET_HTTP_ADDR="127.0.0.1:$PORT" RIGMARKET_MAIL_DIR="$WORK/mail" \
        RIGMARKET_STORAGE_DIR="$WORK/storage" RUST_LOG=warn "$BIN" serve &
    PID=$!
}

wait_ready() {
    until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.01; done
}

now_ms() { date +%s%3N; }

echo "## cold start (fresh database: create, migrate, seed)"
t0=$(now_ms); start; wait_ready; t1=$(now_ms)
echo "cold_start_ms=$((t1 - t0))"
kill -TERM "$PID"; wait "$PID" || true

echo "## warm start (database already migrated and seeded)"
t0=$(now_ms); start; wait_ready; t1=$(now_ms)
echo "warm_start_ms=$((t1 - t0))"
sleep 2
echo "idle_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"

for path in /health/live "/v1/rig-models?limit=20" "/v1/rig-models?tier=25to38&limit=20"; do
    echo "## wrk -t$THREADS -c$CONNECTIONS -d$DURATION $path"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path" |
        grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
done
echo "loaded_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
