#!/usr/bin/env bash
# Outbound webhooks benchmark (issue 20): deliveries per second to fast loopback
# receivers, and the same with one endpoint that hangs past the 15 s timeout.
#
# EVENTS domain events (`order.paid`, for an order that does not exist, so
# `data` is the recorded facts) are inserted in one statement; the worker fans
# them out (one delivery per endpoint) and delivers them to receivers that
# verify every signature with the Standard Webhooks reference library
# (tests/api/webhooks/receiver.py). The clock starts at the insert and stops
# when every delivery to the fast endpoints has succeeded.
#
#   benches/webhooks.sh     # EVENTS=500 ENDPOINTS=4 WORKERS=4 by default
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-500} ENDPOINTS=${ENDPOINTS:-4} WORKERS=${WORKERS:-4}
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="rigmarket_bench_webhooks_$$" PORT=${PORT:-18190} DROP_DB=1 POOL_SIZE=16
# No wrk here; common.sh asks for it only for its `bench` helper.
command -v wrk >/dev/null || wrk() { :; }
source benches/common.sh

PYTHON=$(tests/api/webhooks/venv.sh)
start_receiver() { # -> port on stdout; the process is stopped on exit
    local fifo="$WORK/receiver.$RANDOM"
    mkfifo "$fifo"
    "$PYTHON" tests/api/webhooks/receiver.py >"$fifo" &
    # Called as $(start_receiver), a subshell: the pid goes to a file, not a variable.
    echo $! >>"$WORK/receivers.pids"
    head -n1 "$fifo"
}
stop_receivers() {
    if [[ -f "$WORK/receivers.pids" ]]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$WORK/receivers.pids"
    fi
    cleanup
}
trap stop_receivers EXIT

RIGMARKET_WEBHOOK_ALLOW_PRIVATE=true RIGMARKET_WORKER_CONCURRENCY=$WORKERS SERVER_LOG=error \
    start_server --no-stratum
wait_ready
PASSWORD="correct horse battery"
curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"hooks@bench.test\",\"password\":\"$PASSWORD\",\"display_name\":\"Integrator\"}" >/dev/null
psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now()"
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"hooks@bench.test\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
USER_ID=$(psql "$SERVER/$DB" -tAc "SELECT id FROM users WHERE email = 'hooks@bench.test'")

endpoint() { # endpoint URL -> id
    curl -sf -X POST "$BASE/v1/me/webhooks" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        -d "{\"url\":\"$1\",\"event_types\":[\"order.paid\"]}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
for _ in $(seq "$ENDPOINTS"); do
    port=$(start_receiver)
    endpoint "http://127.0.0.1:$port/reply/200" >/dev/null
done

# run LABEL: inserts EVENTS events and times their fast deliveries.
run() {
    local label=$1 before total start end
    before=$(psql "$SERVER/$DB" -tAc "SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.status = 'succeeded' AND e.url LIKE '%/reply/200'")
    total=$((before + EVENTS * ENDPOINTS))
    start=$(date +%s.%N)
    psql "$SERVER/$DB" -qc "INSERT INTO domain_events (id, type, subject_id, parties, data, created_at)
        SELECT gen_random_uuid(), 'order.paid', gen_random_uuid(), ARRAY['$USER_ID'::uuid], '{\"bench\": true}', now()
        FROM generate_series(1, $EVENTS)"
    until [[ $(psql "$SERVER/$DB" -tAc "SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.status = 'succeeded' AND e.url LIKE '%/reply/200'") -ge $total ]]; do
        sleep 0.1
    done
    end=$(date +%s.%N)
    python3 -c "n=$EVENTS*$ENDPOINTS; s=$end-$start; print(f'$label: {n} deliveries in {s:.2f} s = {n/s:.0f} deliveries/s')"
}

run "fast receivers only"
hang_port=$(start_receiver)
endpoint "http://127.0.0.1:$hang_port/reply/hang20" >/dev/null
run "with one endpoint hanging 20 s (15 s timeout)"
psql "$SERVER/$DB" -tAc "SELECT 'hanging endpoint: ' || count(*) FILTER (WHERE last_error LIKE 'timed out%') || ' attempts timed out, '
    || count(*) FILTER (WHERE attempts = 0) || ' not tried yet' FROM webhook_deliveries d JOIN webhook_endpoints e
    ON e.id = d.endpoint_id WHERE e.url LIKE '%hang20'"
