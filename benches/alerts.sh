#!/usr/bin/env bash
# Saved-search alerts and the live event stream (issue 19).
#
# 1. Matching cost: SEARCHES saved searches (100,000) are seeded by SQL
#    (benches/alerts_seed.sql, which says why they look as they do); then
#    PUBLICATIONS S19 Pro lots in KZ, priced 75-105 % of the reference, are
#    published through the API, one at a time, and the worker's
#    `listing matched against saved searches` log line gives the time to match
#    each one (`match_ms`: candidate index scan + exact filters in memory) and
#    its candidates, reported as p50/p99. Target: <= 50 ms.
# 2. Publish -> notification: for each publication, from the approve answer to
#    the first `saved_search.matched` notification of that listing (polled in
#    the database every 5 ms), p50/p99.
# 3. SSE: a second `serve` instance (no worker) takes STREAMS (10,000) streams
#    from benches/sse_load.py spread over STREAM_USERS accounts; its RSS is read
#    once they are open (target <= 200 MB). Then EVENTS notifications are
#    written through the first instance's database session the way
#    `events::inbox` writes them (row + pg_notify pointer, `sent_at_ms` in the
#    data) and the client reports delivery latency p50/p99 (target p99 <= 500 ms).
#
# Heavy: it needs `ulimit -n` above STREAMS + 1,000 and a quiet machine.
#   benches/alerts.sh                       # SEARCHES=100000 PUBLICATIONS=50 STREAMS=10000
#   STREAMS=1000 SEARCHES=10000 benches/alerts.sh   # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

SEARCHES=${SEARCHES:-100000} PUBLICATIONS=${PUBLICATIONS:-50}
STREAMS=${STREAMS:-10000} STREAM_USERS=${STREAM_USERS:-100} EVENTS=${EVENTS:-200}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_alerts_$$" PORT=${PORT:-18195} PORT_B=${PORT_B:-18196} DROP_DB=1 POOL_SIZE=16
command -v wrk >/dev/null || wrk() { :; }
source benches/common.sh
ulimit -n $((STREAMS + 4096)) 2>/dev/null || echo "warning: ulimit -n is $(ulimit -n)" >&2

RUST_LOG_FORMAT=json SERVER_LOG="warn,rigmarket::alerts=info" start_server --no-stratum >"$WORK/a.log" 2>&1
wait_ready

seller=$(account seller@bench.test)
buyer=$(account buyer@bench.test)
admin=$(admin_account admin@bench.test)
owner=$(psql "$SERVER/$DB" -Atc "SELECT id FROM users WHERE email = 'buyer@bench.test'")
echo "## seeding $SEARCHES saved searches"
psql "$SERVER/$DB" -q -v ON_ERROR_STOP=1 -v searches="$SEARCHES" -v owner="$owner" -f benches/alerts_seed.sql
model=$(psql "$SERVER/$DB" -Atc "SELECT id FROM rig_models WHERE name = 'Antminer S19 Pro'")
reference=$(curl -sf "$BASE/v1/rig-models/$model" | json '["reference"]["unit_price_cents"]')
tier=$(psql "$SERVER/$DB" -Atc "SELECT tier FROM rig_models WHERE id = '$model'")
# The candidate query `alerts::searches::candidates` sends, for a KZ lot 10 % below the reference.
psql "$SERVER/$DB" -c "EXPLAIN ANALYZE SELECT id FROM saved_searches WHERE saved_searches.alert <> 'off'
    AND match_key = ANY(ARRAY['model:$model', 'tier:$tier', 'any'])
    AND coalesce(country, '') = ANY(ARRAY['KZ', ''])
    AND coalesce(max_price_cents, 9223372036854775807) >= $((reference * 90 / 100))
    AND coalesce(min_discount_bps, '-9223372036854775808'::bigint) <= 1000"

# Lots priced as a market prices them: 75 % to 105 % of the reference
# ($((reference / 100)) for an S19 Pro), rounded to $10.
echo "## $PUBLICATIONS publications (S19 Pro, KZ, 75-105 % of the reference)"
: >"$WORK/publish_ms"
for i in $(seq "$PUBLICATIONS"); do
    price=$((reference * (75 + i * 37 % 31) / 100 / 1000 * 1000))
    id=$(curl -sf -X POST "$BASE/v1/listings" -H "Authorization: Bearer $seller" -H 'content-type: application/json' \
        -d "{\"rig_model_id\":\"$model\",\"title\":\"Antminer S19 Pro lot $i\",\"quantity\":10,\"unit_price_cents\":$price,\"currency\":\"USD\",\"country\":\"KZ\"}" |
        json '["id"]')
    curl -sf -X POST "$BASE/v1/listings/$id/submit" -H "Authorization: Bearer $seller" >/dev/null
    start=$(date +%s%N)
    curl -sf -X POST "$BASE/v1/admin/listings/$id/approve" -H "Authorization: Bearer $admin" >/dev/null
    # A lot no search matches never notifies: give up on it after 10 s.
    until [[ $(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM notifications WHERE type = 'saved_search.matched' AND subject_id = '$id'") != 0 ]]; do
        if (( $(date +%s%N) - start > 10000000000 )); then echo "lot $i (\$$((price / 100))): no notification in 10 s" >&2; break; fi
        sleep 0.005
    done
    echo $(( ($(date +%s%N) - start) / 1000000 )) >>"$WORK/publish_ms"
done
# Nearest-rank percentiles of the numbers on stdin.
percentiles() {
    sort -n | awk '{v[NR] = $1} END {
        p99 = int(NR * 0.99) + 1; if (p99 > NR) p99 = NR
        printf "n=%d p50=%s p99=%s max=%s\n", NR, v[int(NR * 0.5) + 1], v[p99], v[NR]
    }'
}
echo "publish -> notification (ms): $(percentiles <"$WORK/publish_ms")"
echo "match one listing against $SEARCHES searches (ms): $(grep -o '"match_ms":[0-9.]*' "$WORK/a.log" | cut -d: -f2 | percentiles)"
echo "candidates per listing: $(grep -o '"candidates":[0-9]*' "$WORK/a.log" | cut -d: -f2 | percentiles)"
echo "searches matched per listing: $(grep -o '"matched":[0-9]*' "$WORK/a.log" | cut -d: -f2 | percentiles)"
echo "alerts fired: $(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM saved_search_alerts")," \
    "notifications: $(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM notifications WHERE type = 'saved_search.matched'")," \
    "report jobs still queued: $(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM jobs WHERE kind = 'report_saved_search_alerts'")"

echo "## $STREAMS SSE streams on a second instance"
tokens=()
for u in $(seq "$STREAM_USERS"); do tokens+=("$(account "stream$u@bench.test")"); done
# Both instances behind one public URL, as in a deployment: it is the access
# tokens' issuer, and B's default (its own address) would refuse A's tokens.
DATABASE_URL="$SERVER/$DB" RIGMARKET_HTTP_ADDR="127.0.0.1:$PORT_B" RIGMARKET_PUBLIC_URL="$BASE" RIGMARKET_MAIL_DIR="$WORK/mail" \
    RIGMARKET_STORAGE_DIR="$WORK/storage" RIGMARKET_DB_POOL_SIZE=32 RUST_LOG=warn \
    "$BIN" serve --no-worker --no-stratum &
PID_B=$!
trap 'kill -TERM $PID_B 2>/dev/null || true; cleanup' EXIT
until curl -sf "http://127.0.0.1:$PORT_B/health/ready" >/dev/null; do sleep 0.01; done
echo "RSS before streams: $(awk '/VmRSS/ {print $2 " kB"}' /proc/$PID_B/status)"
# `exec`: LOAD_PID must be the client itself, or the SIGTERM below stops only
# the coprocess's shell and the read waits out the client's 600 s.
coproc LOAD { exec python3 benches/sse_load.py 127.0.0.1 "$PORT_B" "$STREAMS" 600 "${tokens[@]}"; }
read -r line <&"${LOAD[0]}"
[[ $line == ready ]] || { echo "load client: $line" >&2; exit 1; }
echo "RSS with $STREAMS streams: $(awk '/VmRSS/ {print $2 " kB"}' /proc/$PID_B/status)"
users=$(psql "$SERVER/$DB" -Atc "SELECT string_agg(id::text, ',') FROM users WHERE email LIKE 'stream%@bench.test'")
for e in $(seq "$EVENTS"); do
    psql "$SERVER/$DB" -qAt -c "WITH added AS (
        INSERT INTO notifications (user_id, event_id, type, subject_id, data, created_at)
        SELECT u, gen_random_uuid(), 'order.paid', gen_random_uuid(),
               jsonb_build_object('sent_at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint), now()
          FROM unnest(string_to_array('$users', ',')::uuid[]) AS u ORDER BY random() LIMIT 1
        RETURNING user_id, seq)
        SELECT pg_notify('rigmarket_notifications', user_id::text || ':' || seq::text) FROM added" >/dev/null
    sleep 0.05
done
sleep 2
kill -TERM "$LOAD_PID"
read -r line <&"${LOAD[0]}" || true
echo "cross-instance delivery over $STREAMS streams: $line"
