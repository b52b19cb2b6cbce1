#!/usr/bin/env bash
# Foundation benchmarks: cold start to ready, idle RSS, and GET /v1/rig-models
# throughput against the /health/live baseline, measured with wrk in one run.
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
t0=$(now_ms); start_server; wait_ready; t1=$(now_ms)
echo "cold_start_ms=$((t1 - t0))"
kill -TERM "$PID"; wait "$PID" || true

echo "## warm start (database already migrated and seeded)"
t0=$(now_ms); start_server; wait_ready; t1=$(now_ms)
echo "warm_start_ms=$((t1 - t0))"
sleep 2
echo "idle_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"

bench /health/live
bench "/v1/rig-models?limit=20"
bench "/v1/rig-models?tier=25to38&limit=20"
echo "loaded_rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
