#!/usr/bin/env bash
# Search benchmark (issue 4): GET /v1/listings with a filter and a sort over
# 100,000 active listings, next to (a) the /health/live baseline and (b) pgbench
# running the same SQL at the same concurrency, plus EXPLAIN of every sort.
#
#   benches/search.sh                      # 100k listings, 10 s runs, 32 connections
#   LISTINGS=500000 DURATION=30s benches/search.sh
#
# Needs wrk and PostgreSQL's pgbench/psql. The database `rigmarket_bench_search`
# is created once and reused (drop it to regenerate).
set -euo pipefail
cd "$(dirname "$0")/.."

LISTINGS=${LISTINGS:-100000}
DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-rigmarket_bench_search} PORT=${PORT:-18182} POOL_SIZE=$CONNECTIONS
URL_PATH="/v1/listings?tier=25to38&country=KZ&sort=usd_per_th_asc&limit=20"
source benches/common.sh

start_server --no-worker
wait_ready

count=$(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM listings WHERE status = 'active'")
if (( count < LISTINGS )); then
    echo "## generating $((LISTINGS - count)) listings"
    psql "$SERVER/$DB" -q -v ON_ERROR_STOP=1 -v listings=$((LISTINGS - count)) -f benches/search_seed.sql
fi
echo "active_listings=$(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM listings WHERE status = 'active'")"
echo "matches_for_query=$(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM listings WHERE status='active' AND model_tier='25to38' AND country='KZ'")"

bench /health/live
bench "$URL_PATH"

echo "## pgbench, the same SQL, -c$CONNECTIONS -j$THREADS"
pgbench "$SERVER/$DB" -n -c "$CONNECTIONS" -j "$THREADS" -T "${DURATION%s}" -f benches/search_query.sql 2>/dev/null |
    grep -E "^tps|latency average"

echo "## EXPLAIN per sort (index used)"
for order in "published_at DESC, id DESC" "unit_price_cents ASC, id ASC" "unit_price_cents DESC, id DESC" \
    "usd_per_th_cents ASC, id ASC" "discount_rank DESC, id DESC" "model_efficiency_j_per_th ASC, id ASC"; do
    plan=$(psql "$SERVER/$DB" -Atc "EXPLAIN SELECT id FROM listings WHERE status = 'active' AND country = 'KZ' ORDER BY $order LIMIT 21" |
        grep -oE "Index Scan( Backward)? using [a-z_]+" | head -n1)
    echo "$order -> ${plan:-NO INDEX}"
done
