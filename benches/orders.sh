#!/usr/bin/env bash
# Escrow orders benchmark (issue 6): order placement throughput uncontended
# (each request on one of 200 listings) and on one hot listing (every request
# takes the same row lock), then the latency of each transition walked one
# order at a time (place, confirm payment, ship, confirm delivery, accept).
#
#   benches/orders.sh     # DURATION=10s CONNECTIONS=32 THREADS=2 ORDERS=200
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2} ORDERS=${ORDERS:-200}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_orders_$$" PORT=${PORT:-18186} DROP_DB=1 POOL_SIZE=$CONNECTIONS
source benches/common.sh

# Refusals are logged at warn; keep the output to the measurements.
SERVER_LOG=error start_server --no-worker --no-stratum
wait_ready
SELLER=$(account seller@bench.test)
ADMIN=$(admin_account admin@bench.test)
MODEL=$(curl -sf "$BASE/v1/rig-models?limit=100" | json '["items"][0]["id"]')
new_listing() { # new_listing QUANTITY -> id of an active listing
    local id
    id=$(curl -sf -X POST "$BASE/v1/listings" -H "Authorization: Bearer $SELLER" -H 'content-type: application/json' \
        -d "{\"rig_model_id\":\"$MODEL\",\"title\":\"bench lot\",\"quantity\":$1,\"unit_price_cents\":95000,\"currency\":\"USD\",\"country\":\"KZ\"}" |
        json '["id"]')
    curl -sf -X POST "$BASE/v1/listings/$id/submit" -H "Authorization: Bearer $SELLER" >/dev/null
    curl -sf -X POST "$BASE/v1/admin/listings/$id/approve" -H "Authorization: Bearer $ADMIN" >/dev/null
    echo "$id"
}
echo "seeding 32 buyers and 201 listings"
for i in $(seq 1 32); do account "buyer$i@bench.test" >>"$WORK/tokens"; done
for i in $(seq 1 200); do new_listing 100000 >>"$WORK/listings"; done
new_listing 100000 >"$WORK/hot"
psql "$SERVER/$DB" -qc "ANALYZE"

export ORDER_TOKENS="$WORK/tokens"
bench /health/live
echo "## placement, uncontended (200 listings)"
ORDER_RUN=spread ORDER_LISTINGS="$WORK/listings" bench /v1/orders -s benches/place_order.lua
echo "## placement, one hot listing"
ORDER_RUN=hot ORDER_LISTINGS="$WORK/hot" bench /v1/orders -s benches/place_order.lua
psql "$SERVER/$DB" -Atc "SELECT 'orders placed: ' || count(*) || ', units reserved: ' || sum(quantity) FROM orders"
psql "$SERVER/$DB" -Atc "SELECT 'hot listing: ' || quantity_reserved || ' reserved, ' || (SELECT count(*) FROM orders o WHERE o.listing_id = l.id) || ' orders' FROM listings l WHERE id = '$(cat "$WORK/hot")'"

echo "## transition latency, $ORDERS orders walked one at a time"
python3 benches/order_transitions.py "$BASE" "$(head -n1 "$WORK/tokens")" "$SELLER" "$ADMIN" "$(cat "$WORK/hot")" "$ORDERS"
