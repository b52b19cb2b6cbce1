#!/usr/bin/env bash
# Farms by serial (issue 15): 5,000 units registered through the API (one
# call) and through the CLI import (one CSV file), with time and rows/s; then
# `GET /v1/serials/{serial}` throughput against `/health/live` in the same run.
#
#   benches/units.sh     # DURATION=10s CONNECTIONS=32 THREADS=2 UNITS=5000
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2} UNITS=${UNITS:-5000}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_units_$$" PORT=${PORT:-18187} DROP_DB=1 POOL_SIZE=$CONNECTIONS
source benches/common.sh

SERVER_LOG=error start_server --no-worker --no-stratum
wait_ready
SELLER=$(account seller@bench.test)
ADMIN=$(admin_account admin@bench.test)
MODEL=$(curl -sf "$BASE/v1/rig-models?limit=100" | json '["items"][0]["id"]')
draft() { # draft QUANTITY -> id of a draft lot
    curl -sf -X POST "$BASE/v1/listings" -H "Authorization: Bearer $SELLER" -H 'content-type: application/json' \
        -d "{\"rig_model_id\":\"$MODEL\",\"title\":\"bench farm\",\"quantity\":$1,\"unit_price_cents\":95000,\"currency\":\"USD\",\"country\":\"KZ\"}" |
        json '["id"]'
}
now_ms() { date +%s%3N; }
rate() { python3 -c "print(f'$1 rows in {$2} ms: {$1 * 1000 / max($2, 1):,.0f} rows/s')"; }

echo "## API: $UNITS units in one POST /v1/listings/{id}/units"
API_LOT=$(draft "$UNITS")
python3 - "$UNITS" >"$WORK/units.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"units": [{"serial": f"API-{i:06d}", "mac": f"A4:5E:{i >> 16 & 255:02X}:{i >> 8 & 255:02X}:{i & 255:02X}:01",
                             "grade": "B", "hashboards_working": 3,
                             "hashboard_serials": [f"HB{i}A", f"HB{i}B", f"HB{i}C"]} for i in range(n)]}))
PY
echo "body: $(wc -c <"$WORK/units.json") bytes"
START=$(now_ms)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/listings/$API_LOT/units" \
    -H "Authorization: Bearer $SELLER" -H 'content-type: application/json' --data-binary @"$WORK/units.json")
rate "$UNITS" $(($(now_ms) - START))
echo "status $STATUS"

echo "## CLI: rigmarket units import, $UNITS rows"
CLI_LOT=$(draft "$UNITS")
python3 - "$UNITS" >"$WORK/units.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("serial,mac,grade,hashboards_working,hashboard_serials")
for i in range(n):
    print(f"CLI-{i:06d},A4:5E:{i >> 16 & 255:02X}:{i >> 8 & 255:02X}:{i & 255:02X}:02,B,3,HB{i}A;HB{i}B;HB{i}C")
PY
START=$(now_ms)
DATABASE_URL="$SERVER/$DB" RIGMARKET_MAIL_DIR="$WORK/mail" RIGMARKET_STORAGE_DIR="$WORK/storage" RUST_LOG=warn \
    "$BIN" units import --listing "$CLI_LOT" "$WORK/units.csv"
rate "$UNITS" $(($(now_ms) - START))
START=$(now_ms)
DATABASE_URL="$SERVER/$DB" RIGMARKET_MAIL_DIR="$WORK/mail" RIGMARKET_STORAGE_DIR="$WORK/storage" RUST_LOG=warn \
    "$BIN" units import --dry-run --listing "$API_LOT" "$WORK/units.csv" || true
echo "dry run against the other lot: $(($(now_ms) - START)) ms"

# Publish the API lot so its serials are public.
curl -sf -X POST "$BASE/v1/listings/$API_LOT/submit" -H "Authorization: Bearer $SELLER" >/dev/null
curl -sf -X POST "$BASE/v1/admin/listings/$API_LOT/approve" -H "Authorization: Bearer $ADMIN" >/dev/null
psql "$SERVER/$DB" -qc "ANALYZE"
echo "$(curl -sf "$BASE/v1/serials/api-000042")"
bench /health/live
bench /v1/serials/API-000042
bench /v1/serials/NEVER-SEEN-1

echo "## the per-unit verdict of a 1,000-unit proof (400,000 accepted shares)"
PROOF_LOT=$(draft 1000)
python3 -c "import json; print(json.dumps({'units': [{'serial': f'PRF-{i:06d}'} for i in range(1000)]}))" >"$WORK/proof-units.json"
curl -sf -o /dev/null -X POST "$BASE/v1/listings/$PROOF_LOT/units" -H "Authorization: Bearer $SELLER" \
    -H 'content-type: application/json' --data-binary @"$WORK/proof-units.json"
PROOF=$(curl -sf -X POST "$BASE/v1/listings/$PROOF_LOT/hashrate-proofs" -H "Authorization: Bearer $SELLER" \
    -H 'content-type: application/json' -d '{"duration_secs":600}' | json '["id"]')
# The shares as the group-commit writer stores them: 400 per unit, a few tired
# units at 300, ten units silent; the window just ended.
psql "$SERVER/$DB" -q <<SQL
INSERT INTO proof_shares (proof_id, header_hash, worker, accepted_at, counted)
SELECT '$PROOF', sha256((u || '-' || s)::bytea), 'PRF-' || lpad(u::text, 6, '0'), now(), true
  FROM generate_series(10, 999) u, generate_series(1, 400) s
 WHERE s <= CASE WHEN u % 50 = 0 THEN 300 ELSE 400 END;
UPDATE hashrate_proofs SET status = 'collecting', started_at = now() - interval '10 minutes', ends_at = now(),
       shares_accepted = (SELECT count(*) FROM proof_shares WHERE proof_id = '$PROOF') WHERE id = '$PROOF';
ANALYZE proof_shares;
SQL
kill -TERM "$PID" && wait "$PID" 2>/dev/null || true
SERVER_LOG=error start_server --no-stratum
wait_ready
sleep 2 # the worker is idle and polling
START=$(now_ms)
psql "$SERVER/$DB" -qc "INSERT INTO jobs (kind, payload, run_at, max_attempts)
    VALUES ('finalize_hashrate_proof', '{\"proof_id\": \"$PROOF\"}', now(), 5)"
until [[ $(psql "$SERVER/$DB" -tAc "SELECT status FROM hashrate_proofs WHERE id = '$PROOF'") != collecting ]]; do
    sleep 0.02
done
echo "decided in $(($(now_ms) - START)) ms from the job's insert (including the idle worker's poll)"
psql "$SERVER/$DB" -tAc "SELECT status || ': ' || count(*) FROM proof_units WHERE proof_id = '$PROOF' GROUP BY status ORDER BY 1"
START=$(now_ms)
curl -sf -o "$WORK/proof.json" "$BASE/v1/hashrate-proofs/$PROOF"
echo "GET /v1/hashrate-proofs/{id} with 1,000 unit verdicts: $(($(now_ms) - START)) ms, $(wc -c <"$WORK/proof.json") bytes"
