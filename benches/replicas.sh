#!/usr/bin/env bash
# Replica benchmark (issue 21): listing search throughput with the primary only
# and with the primary plus one streaming replica, and the per-request cost of
# the read-your-writes check (anonymous search vs search by a signed-in caller
# whose last write the replica has replayed, vs one whose write it has not).
#
#   benches/replicas.sh                    # 20k listings, 10 s runs, 32 connections
#   LISTINGS=100000 DURATION=30s benches/replicas.sh
#
# Starts its own primary (initdb) and a `pg_basebackup -R` replica on ports
# 55441/55442 under a temp directory (as the postgres user when run as root) and
# stops both on exit. Needs wrk, psql and PostgreSQL's server binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTINGS=${LISTINGS:-20000}
DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2}
PRIMARY_PORT=${PRIMARY_PORT:-55441} REPLICA_PORT=${REPLICA_PORT:-55442}
SERVER="postgres://postgres@127.0.0.1:$PRIMARY_PORT" DB=rigmarket PORT=${PORT:-18184} POOL_SIZE=$CONNECTIONS
URL_PATH="/v1/listings?tier=25to38&country=KZ&sort=usd_per_th_asc&limit=20"
source benches/common.sh

pg_bin() { ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1; }
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
CLUSTERS=$(mktemp -d /tmp/rigmarket-bench-replicas.XXXXXX)
chown postgres "$CLUSTERS" 2>/dev/null || true
stop_clusters() {
    for name in replica primary; do
        [[ -d "$CLUSTERS/$name" ]] && as_postgres "$(pg_bin pg_ctl)" -D "$CLUSTERS/$name" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$CLUSTERS"
}
trap 'cleanup; stop_clusters' EXIT
pg_start() { # name port
    as_postgres "$(pg_bin pg_ctl)" -D "$CLUSTERS/$1" -w -l "$CLUSTERS/$1.log" \
        -o "-c listen_addresses=127.0.0.1 -p $2 -k $CLUSTERS -c fsync=off -c max_connections=200" start >/dev/null
}

as_postgres "$(pg_bin initdb)" -D "$CLUSTERS/primary" -U postgres -A trust --no-sync -E UTF8 >/dev/null
pg_start primary "$PRIMARY_PORT"
start_server --no-worker
wait_ready
psql "$SERVER/$DB" -q -v ON_ERROR_STOP=1 -v listings="$LISTINGS" -f benches/search_seed.sql
echo "active_listings=$(psql "$SERVER/$DB" -Atc "SELECT count(*) FROM listings WHERE status = 'active'")"

# Two signed-in readers: one whose write the replica will have, one whose write it won't.
token_for() { # email
    curl -sf -X POST "$BASE/v1/auth/register" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"correct horse battery\",\"display_name\":\"Bench\"}" >/dev/null
    psql "$SERVER/$DB" -qc "UPDATE users SET email_verified_at = now() WHERE email = '$1'"
    curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"correct horse battery\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}
CAUGHT_UP=$(token_for caught-up@rigmarket.test)
AHEAD=$(token_for ahead@rigmarket.test)

echo "# primary only"
bench "$URL_PATH"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

as_postgres "$(pg_bin pg_basebackup)" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$CLUSTERS/replica" -R -X stream -c fast --no-sync
pg_start replica "$REPLICA_PORT"
export RIGMARKET_DATABASE_REPLICA_URLS="postgres://postgres@127.0.0.1:$REPLICA_PORT/$DB"
start_server --no-worker
wait_ready
# Marks: the caught-up reader wrote long ago; the other's mark is far ahead of
# any replay position, so its reads always go to the primary.
user_id() { psql "$SERVER/$DB" -Atc "SELECT id FROM users WHERE email = '$1'"; }
psql "$SERVER/$DB" -qc "INSERT INTO caller_write_lsns (user_id, lsn) VALUES ('$(user_id caught-up@rigmarket.test)', 0), ('$(user_id ahead@rigmarket.test)', 9223372036854775807)"
sleep 2 # one health interval or two

echo "# primary + replica, anonymous (replica, no check)"
bench "$URL_PATH"
echo "# primary + replica, signed in, replayed (token check + mark lookup on the primary, then the replica)"
bench "$URL_PATH" -H "Authorization: Bearer $CAUGHT_UP"
echo "# primary + replica, signed in, not replayed (mark lookup, then the primary)"
bench "$URL_PATH" -H "Authorization: Bearer $AHEAD"
curl -sf "$BASE/metrics" | grep -E "^rigmarket_db_(reads_routed_total|replica_)"
