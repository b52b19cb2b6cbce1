#!/usr/bin/env bash
# Offers benchmark (issue 18): offer accept-to-order beside plain order
# placement in the same run. Throughput: wrk posts one-unit orders, then
# one-unit offers at the listings' auto-accept price (each accepted at once and
# turned into an order in its transaction), on the same 200 listings. Latency:
# a plain placement, an offer, the seller's accept -> order and an auto-accepted
# offer, walked one at a time.
#
#   benches/offers.sh     # DURATION=10s CONNECTIONS=32 THREADS=2 ROUNDS=200
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-200}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_offers_$$" PORT=${PORT:-18187} DROP_DB=1 POOL_SIZE=$CONNECTIONS
source benches/common.sh

SERVER_LOG=error start_server --no-worker --no-stratum
wait_ready
SELLER=$(account seller@bench.test)
ADMIN=$(admin_account admin@bench.test)
MODEL=$(curl -sf "$BASE/v1/rig-models?limit=100" | json '["items"][0]["id"]')
new_listing() { # new_listing QUANTITY -> id of an active listing auto-accepting offers at 90,000
    local id
    id=$(curl -sf -X POST "$BASE/v1/listings" -H "Authorization: Bearer $SELLER" -H 'content-type: application/json' \
        -d "{\"rig_model_id\":\"$MODEL\",\"title\":\"bench lot\",\"quantity\":$1,\"unit_price_cents\":95000,\"currency\":\"USD\",\"country\":\"KZ\",\"offers\":{\"auto_accept_unit_price_cents\":90000}}" |
        json '["id"]')
    curl -sf -X POST "$BASE/v1/listings/$id/submit" -H "Authorization: Bearer $SELLER" >/dev/null
    curl -sf -X POST "$BASE/v1/admin/listings/$id/approve" -H "Authorization: Bearer $ADMIN" >/dev/null
    echo "$id"
}
echo "seeding 32 buyers and 200 listings"
for i in $(seq 1 32); do account "buyer$i@bench.test" >>"$WORK/tokens"; done
for i in $(seq 1 200); do new_listing 100000 >>"$WORK/listings"; done
psql "$SERVER/$DB" -qc "ANALYZE"

export ORDER_TOKENS="$WORK/tokens" ORDER_LISTINGS="$WORK/listings"
bench /health/live
echo "## plain placement (200 listings)"
ORDER_RUN=plain bench /v1/orders -s benches/place_order.lua
echo "## auto-accepted offers -> orders (same 200 listings)"
ORDER_RUN=offers OFFER_PRICE=90000 bench /v1/listings -s benches/offer_auto_accept.lua
psql "$SERVER/$DB" -Atc "SELECT 'orders: ' || count(*) || ' (' || count(offer_thread_id) || ' from offers), units reserved: ' || sum(quantity) FROM orders"
psql "$SERVER/$DB" -Atc "SELECT 'listings: ' || sum(quantity_reserved) || ' units reserved' FROM listings"

echo "## latency, $ROUNDS rounds one at a time"
python3 benches/offer_transitions.py "$BASE" "$(sed -n 2p "$WORK/tokens")" "$SELLER" "$WORK/listings" "$ROUNDS" 80000 90000
