#!/usr/bin/env bash
# Price-index benchmark (issues 7 and 17): GET /v1/price-index/series for 5 tiers
# x 3 years daily (and other shapes) over OBSERVATIONS price observations, p50/p99
# from wrk, both as pollers see it (the same request again: a kept answer,
# revalidated against the data's version) and rendered afresh (every request a
# range of its own, benches/price_index_distinct.lua); the bucket query's plan;
# and the cost of recording one observation (insert + the trigger that marks its
# buckets stale) against the bare insert. Ends with each target and its figure.
#
#   benches/price_index.sh                          # 5,000,000 observations
#   OBSERVATIONS=500000 DURATION=5s benches/price_index.sh
#
# Needs wrk, psql and pgbench, and a superuser connection (the bulk load inserts
# with triggers off, then runs price_index_rebuild()). The database
# `rigmarket_bench_index` is created once and reused (drop it to regenerate).
set -euo pipefail
cd "$(dirname "$0")/.."

OBSERVATIONS=${OBSERVATIONS:-5000000}
DURATION=${DURATION:-10s} THREADS=${THREADS:-1}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-rigmarket_bench_index} PORT=${PORT:-18184} POOL_SIZE=8
# Latency, not throughput: one connection at a time unless told otherwise.
CONNECTIONS=${CONNECTIONS:-1}
# The public per-IP quota would turn most of a wrk run into 429s.
export RIGMARKET_PRICE_INDEX_IP_PER_MINUTE=1000000000
source benches/common.sh

start_server --no-worker --no-stratum
wait_ready

count=$(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM price_observations")
if (( count < OBSERVATIONS )); then
    echo "## loading $((OBSERVATIONS - count)) observations and rebuilding the buckets"
    start=$(date +%s)
    psql "$SERVER/$DB" -q -v observations=$((OBSERVATIONS - count)) -f benches/price_index_seed.sql
    echo "load_seconds=$(( $(date +%s) - start ))"
fi
psql "$SERVER/$DB" -At <<'SQL'
SELECT 'observations=' || count(*) FROM price_observations;
SELECT 'folded_pending=' || COALESCE(price_index_materialize(1000000), 0);
-- The write runs below roll back one insert each into price_index_pending; their
-- dead rows would slow every read's look at the oldest pending day until
-- autovacuum came by, so each run starts from the same state.
VACUUM (ANALYZE) price_index_pending;
SELECT 'packed_months=' || count(*) FROM price_index_months;
SELECT 'buckets=' || count(*) FROM price_index_buckets;
SELECT 'observations_size=' || pg_size_pretty(pg_total_relation_size('price_observations'));
SELECT 'buckets_size=' || pg_size_pretty(pg_total_relation_size('price_index_materialized'));
SELECT 'largest_week_bucket=' || max(observations) FROM price_index_buckets WHERE period = 'week';
SQL

# An API key without a practical quota, so wrk measures the query, not 429s.
KEY="rmk_bench_$(date +%s%N)"
psql "$SERVER/$DB" -qc "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, requests_per_minute, created_at)
    VALUES (gen_random_uuid(), '00000000-0000-4000-8000-00000000be01', 'bench', 'rmk_bench', sha256('$KEY'::bytea),
            1000000000, now())"

THREE_YEARS="from=2021-01-01&to=2023-12-31"
TIERS_DAILY="/v1/price-index/series?group_by=tier&interval=day"
MODELS_DAILY="/v1/price-index/series?group_by=model&interval=day"
bench "$TIERS_DAILY&$THREE_YEARS" -H "X-Api-Key: $KEY"
TIERS_KEPT=$P50_MS
bench "$TIERS_DAILY&from=2021-01-01" -H "X-Api-Key: $KEY" -s benches/price_index_distinct.lua
TIERS_FRESH=$P50_MS
bench "/v1/price-index/series?group_by=tier&interval=day&$THREE_YEARS&format=csv" -H "X-Api-Key: $KEY"
bench "/v1/price-index/series?group_by=tier&interval=week&$THREE_YEARS" -H "X-Api-Key: $KEY"
bench "/v1/price-index/series?group_by=country&interval=day&tier=25to38&$THREE_YEARS" -H "X-Api-Key: $KEY"
bench "$MODELS_DAILY&$THREE_YEARS" -H "X-Api-Key: $KEY"
MODELS_KEPT=$P50_MS
bench "$MODELS_DAILY&from=2021-01-01" -H "X-Api-Key: $KEY" -s benches/price_index_distinct.lua
MODELS_FRESH=$P50_MS
bench "/v1/price-index/series?group_by=tier" -H "X-Api-Key: $KEY"
bench "/v1/price-index/fire-sales?group_by=country&interval=week&$THREE_YEARS" -H "X-Api-Key: $KEY"
bench "/v1/price-index/latest"
echo "response_bytes_5_tiers_3_years_daily=$(curl -s -H "X-Api-Key: $KEY" \
    "$BASE/v1/price-index/series?group_by=tier&interval=day&$THREE_YEARS" | wc -c)"

echo "## EXPLAIN ANALYZE of the bucket read (5 tiers x 3 years daily)"
psql "$SERVER/$DB" -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM price_index_buckets
    WHERE basis = 'asking' AND period = 'day' AND cell = 'tier'
      AND bucket_start BETWEEN '2021-01-01' AND '2023-12-31' ORDER BY bucket_start" |
    grep -E "Index Scan|Planning Time|Execution Time" | head -n 6

echo "## write path: one observation per transaction, pgbench -c1, ${DURATION} (load average $(load_average))"
written=$(pgbench "$SERVER/$DB" -n -c 1 -T "${DURATION%s}" -f benches/price_index_write.sql 2>/dev/null)
grep -E "^tps|latency average" <<<"$written" | sed 's/^/with trigger:    /'
bare=$(PGOPTIONS="-c session_replication_role=replica" \
    pgbench "$SERVER/$DB" -n -c 1 -T "${DURATION%s}" -f benches/price_index_write.sql 2>/dev/null)
grep -E "^tps|latency average" <<<"$bare" | sed 's/^/bare insert:     /'
WRITE_MS=$(awk '/latency average/ {print $4}' <<<"$written")
BARE_MS=$(awk '/latency average/ {print $4}' <<<"$bare")

echo "## targets (load average $(load_average))"
echo "observation write / bare insert: $WRITE_MS / $BARE_MS ms = $(ratio "$WRITE_MS" "$BARE_MS")x (target <= 2x)"
echo "series 5 tiers x 3 years daily p50: kept ${TIERS_KEPT} ms, rendered afresh ${TIERS_FRESH} ms (target <= 10 ms)"
echo "series group_by=model 3 years daily p50: kept ${MODELS_KEPT} ms, rendered afresh ${MODELS_FRESH} ms (target <= 40 ms)"
