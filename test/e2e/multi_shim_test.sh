#!/usr/bin/env bash
# multi_shim_test.sh: two `serve` processes against one database, the same
# buyers on both. What must hold across shims lives in the database:
#  * the per-user rate limit (10 purchases an hour) counts purchases made
#    through either shim;
#  * one Idempotency-Key sent to both shims at once makes one purchase, one
#    debit and one buy at the (fake) Twilio, and both answer that number;
#  * the reconciler runs one pass at a time: while another pass holds the
#    advisory lock, neither shim's background pass runs and the `reconcile`
#    command waits; once it is free, passes run again.
#  * /api/health names the database node each shim talks to.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_multi_$$ and role nw_multi_shim_$$, removes them on exit. Prints "ok - ..." /
# "not ok - ..." lines and a final "N passed, N failed". Needs bash, curl, jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup multi
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_multi.XXXXXX")
SECRET=multi-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
FAKE_PID=
PID_A=
PID_B=
LOCK_PID=
STARTED=$(date +%s)

cleanup() {
    local pid
    for pid in "$LOCK_PID" "$PID_A" "$PID_B" "$FAKE_PID"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W (shim-a.log, shim-b.log, fake.log)"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql
create_suite_database
start_fake "$W/fake.log" --buy-delay-ms 300 || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }

SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=3000
    RECONCILE_INTERVAL_SECONDS=1
    RECONCILE_PENDING_AFTER_SECONDS=60
)

start_shim "$W/shim-a.log" || { not_ok "shim A starts" "$(tail -n 20 "$W/shim-a.log")"; finish; }
PID_A=$SHIM_PID A=$BASE
SHIM_PORT=
start_shim "$W/shim-b.log" || { not_ok "shim B starts" "$(tail -n 20 "$W/shim-b.log")"; finish; }
PID_B=$SHIM_PID B=$BASE
ok "two shims serve one database ($A and $B)"

token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }
SERVICE=$(token --service)
NEXT_NUMBER=100
# The fake Twilio sells +1415555 0100 to 0999.
pick() { PHONE=$(printf '+1415555%04d' "$NEXT_NUMBER"); NEXT_NUMBER=$((NEXT_NUMBER + 1)); }
# on SHIM_BASE METHOD PATH TOKEN [BODY [curl args]]: api against one shim.
on() { local base=$1; shift; BASE=$base api "$@"; }
buy_on() { # buy_on BASE TOKEN PHONE [KEY]
    if [ -n "${4:-}" ]; then
        on "$1" POST /api/numbers/purchase "$2" "{\"phoneNumber\":\"$3\"}" -H "Idempotency-Key: $4"
    else
        on "$1" POST /api/numbers/purchase "$2" "{\"phoneNumber\":\"$3\"}"
    fi
}

# ---- health names the node ---------------------------------------------------------
for base in "$A" "$B"; do
    on "$base" GET /api/health ""
    expect "health of $base names the database node it talks to" 200 \
        ".database == \"ok\" and .databaseNode == \"127.0.0.1:$PGPORT\""
done

# ---- the per-user rate limit counts both shims -------------------------------------
U=$(uuid); T=$(token --sub "$U")
on "$A" POST /api/wallet/topup "$SERVICE" "{\"amount\":\"20.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
expect "top-up through shim A" 201
made=0
for i in $(seq 1 10); do
    pick
    if [ $((i % 2)) = 1 ]; then buy_on "$A" "$T" "$PHONE"; else buy_on "$B" "$T" "$PHONE"; fi
    [ "$STATUS" = 201 ] && made=$((made + 1))
done
check "ten purchases alternating between the shims: 201 each" 10 "$made"
pick; buy_on "$A" "$T" "$PHONE"
expect "the 11th purchase of the hour through shim A: 429" 429 '.code == "RATE_LIMITED"'
pick; buy_on "$B" "$T" "$PHONE"
expect "and through shim B: 429 too (the limit lives in the database)" 429 '.code == "RATE_LIMITED"'
agree "rate limit across shims" "$U" 8.50

# ---- one key sent to both shims at once: one purchase --------------------------------
U=$(uuid); T=$(token --sub "$U")
on "$B" POST /api/wallet/topup "$SERVICE" "{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
expect "top-up through shim B" 201
pick
buys0=$(fake_calls buy)
KEY=both-shims-$$
: >"$W/dup-status"
for base in "$A" "$B" "$A" "$B"; do
    curl -sS -o "$W/dup-$RANDOM.json" -w '%{http_code}\n' --max-time 60 -X POST "$base/api/numbers/purchase" \
        -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -H "Idempotency-Key: $KEY" \
        --data-binary "{\"phoneNumber\":\"$PHONE\"}" >>"$W/dup-status" &
done
wait_dups() { local i; for i in $(seq 1 600); do [ "$(wc -l <"$W/dup-status")" -ge 4 ] && return 0; sleep 0.1; done; return 1; }
wait_dups
ids=$(jq -rs '[.[].number.id] | unique | join(",")' "$W"/dup-*.json 2>/dev/null)
check "four concurrent requests with one key over two shims answer 2xx" "201 201 201 201" \
    "$(sed 's/202/201/' "$W/dup-status" | sort | tr '\n' ' ' | sed 's/ $//')"
check "they name one number" 1 "$(tr ',' '\n' <<<"$ids" | grep -c .)"
check "one row, one debit, one buy at Twilio" "1 3.85 1" \
    "$(q "SELECT count(*) FROM number_wallet.business_numbers WHERE user_id = '$U'") $(balance "$U") $(($(fake_calls buy) - buys0))"
# A top-up under one key through both shims credits once.
for base in "$A" "$B"; do
    on "$base" POST /api/wallet/topup "$SERVICE" "{\"amount\":\"2.00\",\"currency\":\"USD\",\"userId\":\"$U\"}" \
        -H "Idempotency-Key: topup-$KEY"
done
expect "the same top-up key on the other shim: replayed" 201 '.replayed == true'
check "one credit" 5.85 "$(balance "$U")"
agree "idempotency across shims" "$U" 5.85

# ---- the reconciler: one pass at a time across shims ---------------------------------
# Passes run every second in both shims.
passes() { grep -c '"msg":"reconcile pass"' "$W/shim-a.log" "$W/shim-b.log" | awk -F: '{s += $2} END {print s}'; }
sleep 2.5
p0=$(passes)
check_true "both shims run background passes (none held back)" test "$p0" -ge 2
# Another pass (here: a psql session) holds the reconciler's advisory lock.
mkfifo "$W/lock-in"
psql -X -q -At -d "$DB" <"$W/lock-in" >"$W/lock.out" 2>&1 &
LOCK_PID=$!
exec 7>"$W/lock-in"
echo "SELECT pg_advisory_lock(1314332721); SELECT 'locked';" >&7
for i in $(seq 1 50); do grep -q locked "$W/lock.out" && break; sleep 0.1; done
# A pass that began before the lock ends: wait until the count holds still for 1.5 s
# (at most 15 s). While the lock did not hold them back, both shims would add one a second.
p1=$(passes)
for i in $(seq 1 10); do sleep 1.5; p=$(passes); [ "$p" = "$p1" ] && break; p1=$p; done
sleep 3
p2=$(passes)
check "while another pass holds the lock, neither shim runs one" "$p1" "$p2"
(cd "$W" && env -i "${SHIM_ENV[@]}" "$SHIM_BIN" reconcile) >"$W/reconcile.log" 2>&1 &
RPID=$!
sleep 2
check_true "the reconcile command waits for the running pass" kill -0 "$RPID"
echo "SELECT pg_advisory_unlock(1314332721);" >&7
exec 7>&-
wait "$LOCK_PID" 2>/dev/null; LOCK_PID=
rc=0
for i in $(seq 1 300); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
wait "$RPID" || rc=$?
check "then it runs its pass (exit 0)" 0 "$rc"
sleep 2.5
check_true "and the shims' passes resume" test "$(passes)" -gt "$p2"

finish
