#!/usr/bin/env bash
# metrics_test.sh: the shim's /metrics through the real binary, a real database
# and the fake Twilio (test/fake_twilio).
#  * only the service role (and the admin key) may read it;
#  * every series of the documented set is there, with its type and exactly
#    its labels, every label value from its fixed set;
#  * the values move: a purchase, a refunded release, a conflict (409), a
#    Twilio authentication failure (20003), a ledger broken behind the
#    extension's back (drift); the database-derived ones within 15 s (cached,
#    so not at once);
#  * with its database unreachable the shim says nw_database_up 0.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser): creates database nw_met_$$ and role
# nw_met_shim_$$ and removes them on exit. Prints "ok - ..." / "not ok - ..."
# lines and a final "N passed, N failed". Needs bash, curl, jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup met
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_met.XXXXXX")
SECRET=met-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=met-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=
DOWN_PID=
STARTED=$(date +%s)

cleanup() {
    [ -n "$DOWN_PID" ] && kill "$DOWN_PID" 2>/dev/null && wait "$DOWN_PID" 2>/dev/null
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql
create_suite_database
start_fake "$W/fake.log" || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET" ADMIN_API_KEY="$ADMIN_KEY"
    TWILIO_TESTING_MODE=false TWILIO_API_BASE="$FAKE" TWILIO_ACCOUNT_SID="$TW_SID" TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=3000 RECONCILE_INTERVAL_SECONDS=3600 RECONCILE_PENDING_AFTER_SECONDS=60
)
start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }
SERVICE=$(token --service)

# scrape: /metrics as the service role into $M (and the time of the scrape in MT).
scrape() { api GET /metrics "$SERVICE"; M=$BODY; MT=$(date +%s); }
# value SERIES: the value of one exact series line of $M (empty when absent).
value() { awk -v s="$1" '$1 == s { print $2 }' <<<"$M"; }

# ---- access ---------------------------------------------------------------------------------------
api GET /metrics ""
expect "/metrics without a token: 401" 401
api GET /metrics "$(token --sub "$(uuid)")"
expect "/metrics as an end user: 403" 403
api GET /metrics "$ADMIN_KEY"
check "/metrics with the admin key: 200" "200" "$STATUS"
scrape
check "/metrics as the service role: 200, Prometheus text" "200 text/plain; version=0.0.4" "$STATUS $(hdr Content-Type)"

# ---- every series, its type and its labels --------------------------------------------------------------
type_of() { sed -n "s/^# TYPE $1 //p" <<<"$M"; }
for pair in nw_http_requests_total:counter nw_http_request_duration_seconds:histogram \
            nw_twilio_requests_total:counter nw_twilio_request_duration_seconds:histogram \
            nw_twilio_errors_total:counter nw_purchases_total:counter nw_purchase_conflicts_total:counter \
            nw_ledger_entries_total:counter nw_ledger_amount_total:counter nw_numbers:gauge \
            nw_interventions:gauge nw_pending_overdue:gauge nw_wallet_balance_total:gauge \
            nw_ledger_drift_rows:gauge nw_database_up:gauge; do
    check "${pair%%:*} is a ${pair#*:}" "${pair#*:}" "$(type_of "${pair%%:*}")"
done
# Each line of a family: exactly the documented labels, in a fixed set of values.
ROUTE='/api/[a-z/{}A-Z]+|/metrics|other'
STATUS_RE='[1-5][0-9][0-9]|[1-5]xx|other'
NUM='[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?'
LE='le="([0-9.]+|\+Inf)"'
declare -A SHAPES=(
    [nw_http_requests_total]="\\{route=\"($ROUTE)\",status=\"($STATUS_RE)\"\\}"
    [nw_http_request_duration_seconds_bucket]="\\{route=\"($ROUTE)\",$LE\\}"
    [nw_http_request_duration_seconds_sum]="\\{route=\"($ROUTE)\"\\}"
    [nw_http_request_duration_seconds_count]="\\{route=\"($ROUTE)\"\\}"
    [nw_twilio_requests_total]='\{op="(search|buy|lookup|delete)",outcome="(ok|refused|unknown|rate_limited)"\}'
    [nw_twilio_request_duration_seconds_bucket]="\\{op=\"(search|buy|lookup|delete)\",$LE\\}"
    [nw_twilio_request_duration_seconds_sum]='\{op="(search|buy|lookup|delete)"\}'
    [nw_twilio_request_duration_seconds_count]='\{op="(search|buy|lookup|delete)"\}'
    [nw_twilio_errors_total]='\{code="([0-9]{5}|other)"\}'
    [nw_purchases_total]='\{outcome="(bought|refused|pending)"\}'
    [nw_purchase_conflicts_total]=''
    [nw_ledger_entries_total]='\{kind="(topup|purchase|reversal|refund|renewal|adjustment|other)",currency="(USD|INR|other)"\}'
    [nw_ledger_amount_total]='\{kind="(topup|purchase|reversal|refund|renewal|adjustment|other)",currency="(USD|INR|other)"\}'
    [nw_numbers]='\{status="(pending|active|failed|released|other)"\}'
    [nw_interventions]='\{reason="[a-z_]+"\}'
    [nw_pending_overdue]=''
    [nw_wallet_balance_total]='\{currency="(USD|INR)"\}'
    [nw_ledger_drift_rows]=''
    [nw_database_up]=''
)
for name in "${!SHAPES[@]}"; do
    lines=$(grep -E "^$name(\{| )" <<<"$M")
    bad=$(grep -vE "^$name${SHAPES[$name]} $NUM\$" <<<"$lines")
    check "$name: present, every line with exactly its labels" "yes " \
        "$([ -n "$lines" ] && echo yes || echo no) $bad"
done
check "nw_twilio_requests_total: all 16 op x outcome series declared" "16" \
    "$(grep -c '^nw_twilio_requests_total{' <<<"$M")"
check "nw_ledger_entries_total: every kind x currency (12 series)" "12" "$(grep -c '^nw_ledger_entries_total{' <<<"$M")"
check "nw_numbers: every status (4 series)" "4" "$(grep -c '^nw_numbers{' <<<"$M")"
check "nw_twilio_errors_total{code=\"20003\"} exists before any error (0)" "0" "$(value 'nw_twilio_errors_total{code="20003"}')"
check "nw_database_up 1" "1" "$(value nw_database_up)"
check "nw_ledger_drift_rows 0 on a sound ledger" "0" "$(value nw_ledger_drift_rows)"
check "no series for the shim's route /metrics yet beyond its own scrapes" "yes" \
    "$([ -n "$(value 'nw_http_requests_total{route="/metrics",status="200"}')" ] && echo yes || echo no)"

# ---- the values move ----------------------------------------------------------------------------------
# Fresh database values are read now (a scrape earlier than 15 s ago may have been cached: wait it out).
sleep 15
scrape
T0=$MT
entries0=$(value 'nw_ledger_entries_total{kind="purchase",currency="USD"}')
refund0=$(value 'nw_ledger_amount_total{kind="refund",currency="USD"}')
check "before: no purchase in the ledger" "0" "$entries0"

U=$(uuid)
T=$(token --sub "$U")
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"10.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
expect "top-up 10.00" 201
PHONE=+14155550123
api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$PHONE\"}" -H "Idempotency-Key: met-$$-1"
expect "purchase" 201 '.number.status == "active"'
NUMBER_ID=$(jb .number.id)
U2=$(uuid)
T2=$(token --sub "$U2")
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$U2\"}"
api POST /api/numbers/purchase "$T2" "{\"phoneNumber\":\"$PHONE\"}" -H "Idempotency-Key: met-$$-2"
expect "the same number for another user: 409 NUMBER_ALREADY_EXISTS" 409 '.code == "NUMBER_ALREADY_EXISTS"'
api DELETE "/api/numbers/$NUMBER_ID/release" "$T"
expect "release within the refund window" 200
fake_fail '{"op":"search","mode":"20003"}'
api GET "/api/numbers/available?country=US&areaCode=212&limit=2" "$T"
SEARCH_STATUS=$STATUS
# The ledger broken behind the extension's back (a superuser skipping its triggers): a drift row.
q "SET session_replication_role = replica; UPDATE number_wallet.wallets SET balance_usd = balance_usd + 1 WHERE user_id = '$U2'" >/dev/null

scrape
check "right away: nw_purchases_total{outcome=\"bought\"} 1" "1" "$(value 'nw_purchases_total{outcome="bought"}')"
check "right away: nw_purchase_conflicts_total 1" "1" "$(value nw_purchase_conflicts_total)"
check "right away: nw_twilio_requests_total{op=\"buy\",outcome=\"ok\"} 1" "1" \
    "$(value 'nw_twilio_requests_total{op="buy",outcome="ok"}')"
check "right away: a Twilio delete was counted" "yes" \
    "$([ "$(value 'nw_twilio_requests_total{op="delete",outcome="ok"}')" -ge 1 ] && echo yes || echo no)"
check "right away: the search Twilio refused with 20003 counted (search answered $SEARCH_STATUS)" "1 1" \
    "$(value 'nw_twilio_requests_total{op="search",outcome="refused"}') $(value 'nw_twilio_errors_total{code="20003"}')"
check "right away: nw_http_requests_total for the purchase route (201 and 409)" "1 1" \
    "$(value 'nw_http_requests_total{route="/api/numbers/purchase",status="201"}') $(value 'nw_http_requests_total{route="/api/numbers/purchase",status="409"}')"
check "right away: the release counted under its route pattern" "1" \
    "$(value 'nw_http_requests_total{route="/api/numbers/{id}/release",status="200"}')"
check "right away: two purchase requests in the latency histogram" "2 2" \
    "$(value 'nw_http_request_duration_seconds_count{route="/api/numbers/purchase"}') $(value 'nw_http_request_duration_seconds_bucket{route="/api/numbers/purchase",le="+Inf"}')"
if [ $((MT - T0)) -lt 13 ]; then
    check "right away: the database-derived values are still the cached ones" "$entries0" \
        "$(value 'nw_ledger_entries_total{kind="purchase",currency="USD"}')"
else
    ok "right away: (skipped: the machine took $((MT - T0)) s, the cache may have expired)"
fi

# Within 15 s of the cached read (plus a second of slack) the new values show.
while :; do
    scrape
    [ "$(value 'nw_ledger_entries_total{kind="purchase",currency="USD"}')" = 1 ] && break
    [ $((MT - T0)) -gt 16 ] && break
    sleep 1
done
check "the database-derived values are at most 15 s old" "yes" \
    "$([ $((MT - T0)) -le 16 ] && echo yes || echo "no: $((MT - T0)) s")"
check "nw_ledger_entries_total{kind=\"purchase\",currency=\"USD\"} 1" "1" \
    "$(value 'nw_ledger_entries_total{kind="purchase",currency="USD"}')"
check "nw_ledger_amount_total{kind=\"purchase\",currency=\"USD\"} 1.15" "1.15" \
    "$(value 'nw_ledger_amount_total{kind="purchase",currency="USD"}')"
check "nw_ledger_amount_total{kind=\"refund\",currency=\"USD\"} 1.15" "1.15" \
    "$(value 'nw_ledger_amount_total{kind="refund",currency="USD"}')"
check "nw_ledger_amount_total{kind=\"topup\",currency=\"USD\"} 15.00" "15.00" \
    "$(value 'nw_ledger_amount_total{kind="topup",currency="USD"}')"
check "nw_numbers{status=\"released\"} 1" "1" "$(value 'nw_numbers{status="released"}')"
check "nw_wallet_balance_total{currency=\"USD\"}: 10.00 + 5.00 + the 1 added behind the ledger" "16.00" \
    "$(value 'nw_wallet_balance_total{currency="USD"}')"
check "nw_ledger_drift_rows counts the broken wallet" "1" "$(value nw_ledger_drift_rows)"
check "nw_pending_overdue 0" "0" "$(value nw_pending_overdue)"

# ---- a database that cannot be reached ---------------------------------------------------------------
DOWN_LOG=$W/shim-down.log
(cd "$W" && exec env -i "${SHIM_ENV[@]}" DATABASE_URL="postgresql://$ROLE@127.0.0.1:1/$DB?connect_timeout=2" PORT=0 \
    "$SHIM_BIN" serve) >"$DOWN_LOG" 2>&1 &
DOWN_PID=$!
DOWN_PORT=
for i in $(seq 1 100); do
    DOWN_PORT=$(grep '"msg":"listening"' "$DOWN_LOG" 2>/dev/null | jq -r '.port // empty' 2>/dev/null)
    [ -n "$DOWN_PORT" ] && break
    sleep 0.1
done
M=$(curl -sS --max-time 30 -H "Authorization: Bearer $SERVICE" "http://127.0.0.1:$DOWN_PORT/metrics")
check "database unreachable: nw_database_up 0" "0" "$(value nw_database_up)"
check "database unreachable: no stale database-derived series" "" "$(grep -E '^nw_(numbers|ledger_|wallet_balance)' <<<"$M")"
check "database unreachable: the shim's own series are still there" "0" "$(value nw_purchase_conflicts_total)"

finish
