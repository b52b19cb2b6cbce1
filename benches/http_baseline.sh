#!/usr/bin/env bash
# Foundation benchmarks: cold start to ready, idle RSS, and GET /v1/rig-models
# throughput against the /health/live baseline, measured with wrk in one run and
# reported as a ratio (issue 17's target: rig models >= 0.25 x /health/live).
#
#   benches/http_baseline.sh            # release build, 10 s per wrk run
#   DURATION=30s CONNECTIONS=64 benches/http_baseline.sh
#
# Needs PostgreSQL at $BENCH_DATABASE_SERVER (default the local one) and wrk.
# Uses a throwaway database and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_$$" PORT=${PORT:-18181} DROP_DB=1
source benches/common.sh

now_ms() { date +%s%3N; }

echo "## cold start (fresh database: create, migrate, seed)"
t0=$(now_ms); start_server --no-stratum; wait_ready; t1=$(now_ms)
echo "cold_start_ms=$((t1 - t0))"
kill -TERM "$PID"; wait "$PID" || true

echo "## warm start (database already migrated and seeded)"
t0=$(now_ms); start_server --no-stratum; wait_ready; t1=$(now_ms)
echo "warm_start_ms=$((t1 - t0))"
sleep 2
echo "idle_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"

bench /health/live
health=$RPS
bench "/v1/rig-models?limit=20"
models=$RPS
bench "/v1/rig-models?tier=25to38&limit=20"
tier=$RPS
echo "ratio rig-models / health-live = $(ratio "$models" "$health") (tier filter: $(ratio "$tier" "$health")); target >= 0.25"
echo "load average after: $(load_average)"
echo "loaded_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
