# Shared by the benchmark scripts: build the release binary, start `serve`
# against a database, wait until ready, and clean up on exit.
# Expects: SERVER, DB, PORT; optional DROP_DB=1 to drop DB on exit.

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/rigmarket
WORK=$(mktemp -d)
BASE="http://127.0.0.1:$PORT"

cleanup() {
    if [[ -n "${PID:-}" ]]; then kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; fi
    if [[ "${DROP_DB:-0}" == 1 ]]; then
        psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server [serve flags...]: starts the service in the background (PID).
start_server() {
    DATABASE_URL="$SERVER/$DB" RIGMARKET_HTTP_ADDR="127.0.0.1:$PORT" RIGMARKET_MAIL_DIR="$WORK/mail" \
        RIGMARKET_STORAGE_DIR="$WORK/storage" RIGMARKET_DB_POOL_SIZE="${POOL_SIZE:-16}" RUST_LOG="${SERVER_LOG:-warn}" \
        "$BIN" serve "$@" &
    PID=$!
}

wait_ready() {
    until curl -sf "$BASE/health/ready" >/dev/null; do sleep 0.01; done
}

# bench PATH [wrk args...]: one wrk run, summarised; sets RPS, P50_MS and P99_MS
# for the ratios the scripts report.
bench() {
    local path=$1 out
    shift
    echo "## wrk -t$THREADS -c$CONNECTIONS -d$DURATION $* $path (load average $(load_average))"
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$BASE$path")
    grep -E "Requests/sec|Latency  |50%|99%|Non-2xx" <<<"$out"
    RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    P50_MS=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
    P99_MS=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
}

# wrk's latency ("850.00us", "12.34ms", "1.02s") in milliseconds.
to_ms() {
    awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000} printf "%.2f\n", v}'
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# ratio A B: A / B with two decimals.
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# pgbench_run FILE [pgbench args...]: pgbench at $CONNECTIONS for $DURATION with
# per-transaction logs; sets TPS and P99_MS.
pgbench_run() {
    local file=$1 out
    shift
    rm -f "$WORK"/pgbench_log*
    echo "## pgbench -c$CONNECTIONS -j$THREADS -T${DURATION%s} $* -f $file (load average $(load_average))"
    out=$(pgbench "$SERVER/$DB" -n -c "$CONNECTIONS" -j "$THREADS" -T "${DURATION%s}" "$@" -f "$file" \
        -l --log-prefix="$WORK/pgbench_log" 2>/dev/null)
    grep -E "^tps|latency average" <<<"$out"
    TPS=$(awk '/^tps/ {print $3}' <<<"$out")
    P99_MS=$(cat "$WORK"/pgbench_log* | awk '{print $3}' | sort -n |
        awk '{v[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f\n", v[i]/1000}')
    echo "    p99 ${P99_MS}ms"
}

# Accounts for scripts that drive the API as users (after start_server: uses $BASE, $SERVER, $DB).
PASSWORD="correct horse battery"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
account() { # account EMAIL -> access token (registered, verified, logged in)
    curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\",\"display_name\":\"$1\"}" >/dev/null
    psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now() WHERE email = '$1'"
    curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | json '["access_token"]'
}
admin_account() { # admin_account EMAIL -> access token of an admin (roles are read at login)
    account "$1" >/dev/null
    psql "$SERVER/$DB" -qc "UPDATE users SET roles = '{admin}' WHERE email = '$1'"
    curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | json '["access_token"]'
}
