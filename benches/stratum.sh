#!/usr/bin/env bash
# Stratum benchmark (issues 5 and 16), release build, one run each:
#   1. accepted shares/s sustained from SESSIONS sessions for SECONDS (closed
#      loop: each session submits its next pre-solved share when the last is
#      answered; every share committed by the group-commit writer before its
#      answer), and the same-run baseline: a bare multi-row INSERT of the same
#      rows through pgbench (the physical limit of this PostgreSQL);
#   2. submit-to-answer latency at RATE shares/s (open loop);
#   3. a 1,000-unit lot proof by serial: each unit's verdict vs the rate it was sent at;
#   4. the service's RSS with IDLE idle authorized sessions, sampled after all
#      of them are connected.
# The load generator is Rust (benches/stratum_load.rs, one thread) and reports
# its own CPU use. Ports are free ones picked at start, not the defaults.
#
#   benches/stratum.sh     # SESSIONS=2000 SECONDS_RUN=60 RATE=10000 IDLE=20000
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-2000} SECONDS_RUN=${SECONDS_RUN:-60} RATE=${RATE:-10000} IDLE=${IDLE:-20000}
# Which steps to run (e.g. STEPS=4 for the idle-sessions step alone).
STEPS=${STEPS:-1234}
step() { [[ $STEPS == *"$1"* ]]; }
SERVER=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DB="rigmarket_bench_stratum_$$" PORT=$(free_port) DROP_DB=1
STRATUM_PORT=$(free_port)
export RIGMARKET_STRATUM_ADDR="127.0.0.1:$STRATUM_PORT"
# One job per session for the whole run (pre-solved shares stay valid), and
# caps above the load: every session comes from 127.0.0.1.
export RIGMARKET_STRATUM_JOB_INTERVAL_SECS=3600 RIGMARKET_STRATUM_IDLE_SECS=3600
export RIGMARKET_STRATUM_MAX_CONNECTIONS_PER_IP=100000 RIGMARKET_STRATUM_MAX_CONNECTIONS=100000
# 20,000 idle sessions need more descriptors than the usual hard limit on
# each side (service and generator); root may raise it.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
source benches/common.sh
cargo build --release --quiet --bench stratum_load
LOADGEN=$(ls -t target/release/deps/stratum_load-* | grep -v '\.d$' | head -1)

start_server --no-worker
wait_ready
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
sql() { psql "$SERVER/$DB" -qtAc "$1"; }

curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench-proof@rigmarket.test","password":"correct horse battery","display_name":"Bench"}' >/dev/null
sql "UPDATE users SET email_verified_at = now(), roles = '{admin}'" >/dev/null
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench-proof@rigmarket.test","password":"correct horse battery"}' | json "['access_token']")
auth=(-H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')
# A 1 H/s "rig": its proofs get the floor difficulty, so about every fourth hash
# is a share and pre-solving costs the generator almost nothing.
MODEL=$(curl -sf -X POST "$BASE/v1/admin/rig-models" "${auth[@]}" \
    -d '{"manufacturer":"bench","name":"share pump","hashrate_hs":1,"power_w":1}' | json "['id']")
LISTING=$(curl -sf -X POST "$BASE/v1/listings" "${auth[@]}" -d "{\"rig_model_id\":\"$MODEL\",\"title\":\"bench lot\",
    \"quantity\":5000,\"unit_price_cents\":100,\"currency\":\"USD\",\"country\":\"KZ\"}" | json "['id']")
new_proof() {
    curl -sf -X POST "$BASE/v1/listings/$LISTING/hashrate-proofs" "${auth[@]}" -d '{"duration_secs":3600}' |
        json "['username'].split('.')[0]"
}
proof_id() { sql "SELECT id FROM hashrate_proofs ORDER BY created_at DESC LIMIT 1"; }

if step 1; then
echo "## 1. accepted shares/s: $SESSIONS sessions, ${SECONDS_RUN}s, closed loop"
"$LOADGEN" shares "127.0.0.1:$STRATUM_PORT" "$(new_proof)" "$SESSIONS" "$SECONDS_RUN"
echo "rows_committed=$(sql "SELECT count(*) FROM proof_shares")"
echo "## 1b. baseline: bare multi-row INSERT of the same rows (pgbench, 500 rows per transaction, 8 clients, ${SECONDS_RUN}s)"
sql "CREATE TABLE bench_shares (LIKE proof_shares INCLUDING ALL)" >/dev/null
cat > "$WORK/insert.sql" <<'SQL'
INSERT INTO bench_shares (proof_id, header_hash, worker, accepted_at)
SELECT gen_random_uuid(), sha256(random()::text::bytea), 'SN-' || (g % 2000), now() FROM generate_series(1, 500) g;
SQL
pgbench -n -c 8 -j 2 -T "$SECONDS_RUN" -f "$WORK/insert.sql" "$SERVER/$DB" 2>/dev/null | grep -E "^tps" |
    awk '{printf "baseline_rows_per_sec=%.0f (%s transactions/s x 500 rows)\n", $3 * 500, $3}'

fi

if step 2; then
echo "## 2. latency at $RATE shares/s: $SESSIONS sessions, 30s, open loop"
"$LOADGEN" shares "127.0.0.1:$STRATUM_PORT" "$(new_proof)" "$SESSIONS" 30 "$RATE"

fi

if step 3; then
echo "## 3. a 1,000-unit lot proof by serial: 1,000 rigs at 2 shares/s each for its 60 s window"
# The lot's units are the generator's worker names, so the proof is by serial
# and its verdict judges each unit; a job worker decides it once the window ends.
python3 -c "import json; print(json.dumps({'units': [{'serial': f'SN-{i:05d}'} for i in range(1000)]}))" >"$WORK/units.json"
curl -sf -o /dev/null -X POST "$BASE/v1/listings/$LISTING/units" "${auth[@]}" --data-binary @"$WORK/units.json"
SERIAL_TOKEN=$(curl -sf -X POST "$BASE/v1/listings/$LISTING/hashrate-proofs" "${auth[@]}" -d '{"duration_secs":60}' |
    json "['username'].split('.')[0]")
PROOF=$(proof_id)
"$LOADGEN" shares "127.0.0.1:$STRATUM_PORT" "$SERIAL_TOKEN" 1000 62 2000
DATABASE_URL="$SERVER/$DB" RIGMARKET_MAIL_DIR="$WORK/mail" RIGMARKET_STORAGE_DIR="$WORK/storage" RUST_LOG=warn \
    "$BIN" worker &
WORKER=$!
for _ in $(seq 600); do
    [[ $(sql "SELECT status FROM hashrate_proofs WHERE id = '$PROOF'") =~ ^(verified|failed)$ ]] && break
    sleep 0.1
done
kill -TERM "$WORKER" && wait "$WORKER" 2>/dev/null || true
D=$(sql "SELECT share_difficulty FROM hashrate_proofs WHERE id = '$PROOF'")
sql "SELECT 'proof=' || status || ' units_judged=' || (SELECT count(*) FROM proof_units WHERE proof_id = '$PROOF' AND status IS NOT NULL)
     FROM hashrate_proofs WHERE id = '$PROOF'"
sql "SELECT status || ': ' || count(*) || ' units, shares per unit ' || min(shares_accepted) || '-' || max(shares_accepted)
            || ', estimated H/s per unit ' || round(min(estimated_hashrate_hs)::numeric, 3) || '-'
            || round(max(estimated_hashrate_hs)::numeric, 3)
     FROM proof_units WHERE proof_id = '$PROOF' GROUP BY status"
python3 -c "print(f'rate sent per unit: 2 shares/s x D x 2^32 = {2 * $D * 2**32:.3f} H/s (D = $D)')"
fi

if step 4; then
# Each side holds one descriptor per session: keep under the hard limit when
# it cannot be raised (a container without CAP_SYS_RESOURCE), and say so.
if (( IDLE > $(ulimit -Hn) - 500 )); then
    echo "the descriptor limit is $(ulimit -Hn): measuring $(( $(ulimit -Hn) - 500 )) idle sessions instead of $IDLE"
    IDLE=$(( $(ulimit -Hn) - 500 ))
fi
echo "## 4. RSS with $IDLE idle authorized sessions"
echo "rss_before_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
MARKER="$WORK/connected"
CONNECTED_MARKER="$MARKER" "$LOADGEN" idle "127.0.0.1:$STRATUM_PORT" "$(new_proof)" "$IDLE" 600 &
LOADER=$!
# Until every session is in, or the generator gave up (it says why).
for _ in $(seq 600); do [[ -s "$MARKER" ]] && break; kill -0 "$LOADER" 2>/dev/null || break; sleep 0.5; done
sleep 2
echo "idle_sessions=$(cat "$MARKER") rss_with_idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
echo "open_fds=$(ls /proc/$PID/fd | wc -l)"
kill "$LOADER" 2>/dev/null || true
wait "$LOADER" 2>/dev/null || true
fi
