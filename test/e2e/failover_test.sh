#!/usr/bin/env bash
# failover_test.sh: buyers purchase, top up and release through two shims
# against a pg_auto_failover formation (scripts/ha_formation.sh: a monitor, a
# primary, two synchronous standbys) while the primary machine is lost
# (kill -9 of its keeper and postmaster), and then during a clean
# `pg_autoctl perform failover`. Afterwards, on the new primary:
#  * every request answered 2xx is in the database exactly once (its
#    idempotency key, the number it named), and each buyer's balance is what
#    the answered requests add up to: nothing lost, nothing doubled;
#  * no request answered with an error moved money;
#  * requests that carried an idempotency key (every purchase and top-up here,
#    and every release) got no 5xx: the failover was only latency;
#  * wallet_reconcile() is empty, and after one `reconcile` the fake Twilio's
#    inventory agrees with the database.
# It prints what RELIABILITY.md reports: requests in flight at the failover,
# how long writes were unavailable, how many 503s.
#
# NW_FAILOVER_SECONDS (default 8) is how long the load runs after each
# failover; test/stress/failover_stress.sh runs it longer. NW_HA_BASE_PORT
# (default 25441) is the first of the four ports the formation uses.
# Needs pg_autoctl (postgresql-15-auto-failover), bash, curl, jq, psql; the
# extension installed into the server scripts/lib.sh uses (NW_PG_ROOT or the
# system's). Prints "ok - ..." / "not ok - ..." and a last "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM_BIN=${NW_SHIM_BIN:-$ROOT/build/number-wallet-shim}
FAKE_BIN=${NW_FAKE_TWILIO_BIN:-$ROOT/build/fake-twilio}
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/nw_failover.XXXXXX")
chmod 755 "$W"
HA_DIR=$W/ha
[ "$(id -u)" -ne 0 ] || HA_DIR=/var/tmp/nw_failover_$$
DB=number_wallet
SECRET=failover-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
LOAD_SECONDS=${NW_FAILOVER_SECONDS:-8}
BUYERS=${NW_FAILOVER_BUYERS:-6}
FAKE_PID=
PID_A=
PID_B=
LOAD_PIDS=()
STARTED=$(date +%s)

ha() { bash "$ROOT/scripts/ha_formation.sh" --dir "$HA_DIR" --base-port "$BASE_PORT" "$@"; }

cleanup() {
    local pid
    touch "$W/stop"
    for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "$PID_A" "$PID_B" "$FAKE_PID"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    [ -z "${BASE_PORT:-}" ] || ha destroy >/dev/null 2>&1
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W (shim-*.log, requests.log, fake.log)"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql pg_autoctl

# Four free ports below 32768.
BASE_PORT=
for base in ${NW_HA_BASE_PORT:-25441} 25461 25481 25501 25521; do
    free=1
    for p in $base $((base + 1)) $((base + 2)) $((base + 3)); do
        (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && free=0
    done
    [ $free = 1 ] && { BASE_PORT=$base; break; }
done
[ -n "$BASE_PORT" ] || { not_ok "four free ports for the formation"; finish; }

t0=$(date +%s)
if ! ha create >"$W/formation.log" 2>&1; then
    not_ok "a monitor, a primary and two synchronous standbys start" "$(tail -n 15 "$W/formation.log")" \
        "$(tail -n 5 "$HA_DIR"/node*.log 2>/dev/null)"
    finish
fi
URL=$(tail -n 1 "$W/formation.log")
ok "formation of a monitor and three nodes ready in $(($(date +%s) - t0)) s"
PGUSER=$(sed -n 's|^postgresql://\([^@]*\)@.*|\1|p' <<<"$URL")
export PGHOST=127.0.0.1 PGUSER
primary_port() { export PGPORT=$((BASE_PORT + $(ha primary | tr -dc 0-9))); }
primary_port
check "number_sync_standbys = 1: the primary waits for one of two standbys" \
    "on 2" "$(q "SHOW synchronous_commit") $(q "SELECT count(*) FROM pg_stat_replication")"
# No hourly purchase limit for these busy buyers.
q "CREATE ROLE nw_failover_shim LOGIN; GRANT number_wallet_service TO nw_failover_shim;
   ALTER ROLE nw_failover_shim SET number_wallet.max_purchases_per_hour = 0" >/dev/null

start_fake "$W/fake.log" --buy-delay-ms 200 || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }
HOSTS=$(sed -n 's|^postgresql://[^@]*@\([^/]*\)/.*|\1|p' <<<"$URL")
SHIM_URL="postgresql://nw_failover_shim@$HOSTS/$DB?target_session_attrs=read-write&connect_timeout=2"
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="$SHIM_URL"
    DATABASE_FAILOVER_WAIT_SECONDS=60
    SUPABASE_JWT_SECRET="$SECRET"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=3000
    RECONCILE_INTERVAL_SECONDS=3600
    RECONCILE_PENDING_AFTER_SECONDS=60
)
start_shim "$W/shim-a.log" || { not_ok "shim A starts" "$(tail -n 20 "$W/shim-a.log")"; finish; }
PID_A=$SHIM_PID A=$BASE
SHIM_PORT=
start_shim "$W/shim-b.log" || { not_ok "shim B starts" "$(tail -n 20 "$W/shim-b.log")"; finish; }
PID_B=$SHIM_PID B=$BASE
ok "two shims serve the formation through one multi-host DATABASE_URL"
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }
SERVICE=$(token --service)
curl -sS --max-time 5 "$A/api/health" >"$W/health-before.json"
check "health names the primary it writes to" "127.0.0.1:$PGPORT" "$(jq -r .databaseNode "$W/health-before.json")"

# ---- the load ----------------------------------------------------------------------
# One line per request: op|user|key|status|detail|start|end (times in s since the epoch).
buyer() {
    local i=$1 user tok n=0 base status detail key start end owned="" phone bought=0 slice=$((900 / BUYERS))
    user=$(uuid)
    tok=$(token --sub "$user")
    echo "$user" >>"$W/users"
    while [ ! -f "$W/stop" ]; do
        n=$((n + 1))
        if [ $((n % 2)) = 0 ]; then base=$A; else base=$B; fi
        key="f$i-$n"
        start=$EPOCHREALTIME
        case $((n % 4)) in
        1)  # a top-up of 5.00 by the service, under a key
            op=topup
            status=$(curl -sS -o "$W/r-$i" -w '%{http_code}' --max-time 120 -X POST "$base/api/wallet/topup" \
                -H "Authorization: Bearer $SERVICE" -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
                --data-binary "{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$user\"}" 2>/dev/null)
            detail=$(jq -r '.transactionId // .code // "-"' "$W/r-$i" 2>/dev/null) ;;
        2 | 3)  # a purchase; every other one without a client key (the shim makes one)
            op=purchase
            # The fake sells +1415555 0100 to 0999: a slice of it per buyer.
            bought=$((bought + 1))
            phone=$(printf '+1415555%04d' $((100 + (i - 1) * slice + bought % slice)))
            if [ $((n % 4)) = 2 ]; then
                status=$(curl -sS -o "$W/r-$i" -w '%{http_code}' --max-time 120 -X POST "$base/api/numbers/purchase" \
                    -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
                    --data-binary "{\"phoneNumber\":\"$phone\"}" 2>/dev/null)
            else
                key=-
                status=$(curl -sS -o "$W/r-$i" -w '%{http_code}' --max-time 120 -X POST "$base/api/numbers/purchase" \
                    -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
                    --data-binary "{\"phoneNumber\":\"$phone\"}" 2>/dev/null)
            fi
            detail=$(jq -r '.number.id // .code // "-"' "$W/r-$i" 2>/dev/null)
            [[ $status == 20? ]] && owned="$owned $detail" ;;
        0)  # release the oldest number this buyer holds (naturally idempotent)
            op=release
            set -- $owned
            if [ $# -eq 0 ]; then continue; fi
            key=$1; owned="${owned#* $1}"
            status=$(curl -sS -o "$W/r-$i" -w '%{http_code}' --max-time 120 -X DELETE \
                "$base/api/numbers/$key/release" -H "Authorization: Bearer $tok" 2>/dev/null)
            detail=$(jq -r '.refund.amount // .code // "-"' "$W/r-$i" 2>/dev/null) ;;
        esac
        end=$EPOCHREALTIME
        echo "$op|$user|$key|${status:-000}|$detail|$start|$end" >>"$W/requests.log"
    done
}

# Writes through libpq's own failover (target_session_attrs=read-write): when
# did they stop and resume? Each line: ok|down and when the attempt began.
probe() {
    local at
    while [ ! -f "$W/stop" ]; do
        at=$EPOCHREALTIME
        if psql -X -q -At "postgresql://$PGUSER@$HOSTS/postgres?target_session_attrs=read-write&connect_timeout=1" \
            -c "SELECT txid_current()" >/dev/null 2>&1; then
            echo "ok $at" >>"$W/probe.log"
        else
            echo "down $at" >>"$W/probe.log"
        fi
        sleep 0.2
    done
}

: >"$W/requests.log"
for i in $(seq 1 "$BUYERS"); do buyer "$i" & LOAD_PIDS+=($!); done
probe & LOAD_PIDS+=($!)
sleep 4

# ---- 1: the primary machine is lost -------------------------------------------------
OLD=$(ha primary)
KILL_AT=$EPOCHREALTIME
ha kill "$OLD"
echo "# kill -9 of $OLD's keeper and postmaster at $KILL_AT"
if ha wait-primary 90 >/dev/null 2>&1; then
    ok "a standby is promoted after $OLD is lost (at $(awk -v a="$EPOCHREALTIME" -v b="$KILL_AT" 'BEGIN {printf "%.1f", a - b}') s)"
else
    not_ok "a standby is promoted after $OLD is lost" "$(ha state 2>&1 | tail -n 6)"
fi
ha run "$OLD"  # the lost machine comes back and rejoins as a standby
sleep "$LOAD_SECONDS"

# ---- 2: a planned failover ---------------------------------------------------------
for i in $(seq 1 120); do
    [ "$(psql -X -At -h 127.0.0.1 -p "$BASE_PORT" -d pg_auto_failover -c \
        "SELECT count(*) FROM pgautofailover.node WHERE reportedstate = 'secondary' AND goalstate = 'secondary'" 2>/dev/null)" -ge 1 ] && break
    sleep 0.5
done
SWITCH_FROM=$(ha primary)
SWITCH_AT=$EPOCHREALTIME
if ha failover >"$W/perform-failover.log" 2>&1 && ha wait-primary 60 >/dev/null 2>&1 && [ "$(ha primary)" != "$SWITCH_FROM" ]; then
    ok "pg_autoctl perform failover moves the primary off $SWITCH_FROM (to $(ha primary))"
else
    not_ok "pg_autoctl perform failover" "$(tail -n 5 "$W/perform-failover.log")" "$(ha state 2>&1 | tail -n 6)"
fi
sleep "$LOAD_SECONDS"
touch "$W/stop"
for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
LOAD_PIDS=()
ha wait-primary 60 >/dev/null 2>&1
primary_port

# ---- what the clients saw -----------------------------------------------------------
total=$(wc -l <"$W/requests.log")
count_status() { awk -F'|' -v re="$1" '$4 ~ re' "$W/requests.log" | wc -l; }
n2xx=$(count_status '^2')
n503=$(count_status '^503$')
n5xx=$(count_status '^5')
n000=$(count_status '^000$')
inflight() { awk -F'|' -v t="$1" '$6 < t && $7 > t' "$W/requests.log" | wc -l; }
down_for() { # the longest stretch without a successful write around $1 (between probes that began)
    awk -v t="$1" '$1 == "ok" && $2 > t - 5 && $2 < t + 90 { if (prev && $2 - prev > m) m = $2 - prev; prev = $2 }
        END {printf "%.1f", m}' "$W/probe.log"
}
slowest() { awk -F'|' -v t="$1" '$6 < t + 30 && $7 > t {d = $7 - $6; if (d > m) m = d} END {printf "%.1f", m}' "$W/requests.log"; }
echo "# requests: $total, 2xx: $n2xx, 503: $n503, other 5xx: $((n5xx - n503)), no answer: $n000"
echo "# kill -9: $(inflight "$KILL_AT") requests in flight, writes unavailable for $(down_for "$KILL_AT") s, slowest request around it $(slowest "$KILL_AT") s"
echo "# perform failover: $(inflight "$SWITCH_AT") requests in flight, writes unavailable for $(down_for "$SWITCH_AT") s, slowest request around it $(slowest "$SWITCH_AT") s"
check_true "the buyers made requests across both failovers ($total)" test "$total" -ge 40
check "no request went unanswered or had its connection dropped" 0 "$n000"
check "keyed requests (every purchase, top-up and release here) got no 5xx" "" \
    "$(awk -F'|' '$4 ~ /^5/' "$W/requests.log" | head -n 5)"
check_true "shim A wrote to the new primary afterwards" \
    test "$(curl -sS --max-time 5 "$A/api/health" | jq -r .databaseNode)" = "127.0.0.1:$PGPORT"

# ---- what the database holds ---------------------------------------------------------
# The request log goes into a temporary table; each check is one query.
verify() { # verify SQL: runs SQL after loading requests.log into req
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<SQL
CREATE TEMP TABLE req (op text, user_id uuid, key text, status int, detail text, t0 numeric, t1 numeric);
\copy req FROM '$W/requests.log' WITH (FORMAT csv, DELIMITER '|')
$1
SQL
}
check "every 2xx request is in the database exactly once" "" "$(verify "
SELECT string_agg(op || ':' || key || ':' || detail, ' ') FROM req r
 WHERE r.status BETWEEN 200 AND 299 AND NOT CASE r.op
   WHEN 'topup' THEN (SELECT count(*) = 1 FROM number_wallet.transactions t
                       WHERE t.user_id = r.user_id AND t.idempotency_key = r.key AND t.kind = 'topup'
                         AND t.id::text = r.detail)
   WHEN 'purchase' THEN (SELECT count(*) = 1 FROM number_wallet.business_numbers n
                          WHERE n.id::text = r.detail AND n.user_id = r.user_id
                            AND (r.key = '-' OR n.idempotency_key = r.key))
   WHEN 'release' THEN (SELECT count(*) = 1 FROM number_wallet.business_numbers n
                         WHERE n.id::text = r.key AND n.user_id = r.user_id AND n.status = 'released')
   END")"
# A refused purchase leaves no row, or a failed one whose debit was reversed;
# a refused top-up leaves no entry.
check "no request answered with an error moved money" "" "$(verify "
SELECT string_agg(op || ':' || key || ':' || status, ' ') FROM req r
 WHERE r.status NOT BETWEEN 200 AND 299 AND CASE r.op
   WHEN 'topup' THEN EXISTS (SELECT FROM number_wallet.transactions t
                              WHERE t.user_id = r.user_id AND t.idempotency_key = r.key)
   WHEN 'purchase' THEN EXISTS (SELECT FROM number_wallet.business_numbers n
                                 WHERE n.user_id = r.user_id AND n.idempotency_key = r.key AND n.status <> 'failed')
   ELSE false END")"
# Each buyer's balance is exactly what the answered requests add up to: 5.00
# per answered top-up, less 1.15 for each number still active or pending (a
# release inside the refund window gave it back; so did a failed purchase).
check "every buyer's balance is what the answered requests add up to (nothing lost or doubled)" "" "$(verify "
SELECT string_agg(u.user_id || ':' || coalesce(w.balance_usd, 0) || '<>' || u.want, ' ')
  FROM (SELECT r.user_id,
               5.00 * count(*) FILTER (WHERE r.op = 'topup' AND r.status BETWEEN 200 AND 299)
             - 1.15 * (SELECT count(*) FROM number_wallet.business_numbers n
                        WHERE n.user_id = r.user_id AND n.status IN ('active', 'pending')) AS want
          FROM req r GROUP BY r.user_id) u
  LEFT JOIN number_wallet.wallets w ON w.user_id = u.user_id
 WHERE coalesce(w.balance_usd, 0) <> u.want")"
check "wallet_reconcile() is empty on the new primary" 0 "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"

kill "$PID_A" "$PID_B" 2>/dev/null; wait "$PID_A" "$PID_B" 2>/dev/null; PID_A= PID_B=
(cd "$W" && env -i "${SHIM_ENV[@]}" RECONCILE_PENDING_AFTER_SECONDS=0 "$SHIM_BIN" reconcile) >"$W/reconcile.log" 2>&1
check "one reconcile against the formation settles everything (exit 0)" 0 "$?"
problems=""
while read -r user; do [ -z "$user" ] || problems+=$(inventory_problems "$user"); done <"$W/users"
check "the fake Twilio's inventory agrees with the database" "" "$problems"
check "no purchase bought twice at Twilio (one owned number per active or unfinished row)" \
    "$(q "SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'active' OR (status = 'released' AND provider_released_at IS NULL)")" \
    "$(fake_state | jq '.owned | length')"

finish
