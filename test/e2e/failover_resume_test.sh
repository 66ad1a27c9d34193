#!/usr/bin/env bash
# failover_resume_test.sh: what the shim does when its database connection
# breaks right after a COMMIT, before the answer arrives (docs/high-availability.md),
# made deterministic with the testing-mode seam NW_TEST_FAULT_DROP_AFTER_COMMIT
# (the pool closes its connection once after each listed statement commits):
#  * a top-up with an Idempotency-Key, a top-up without one (the shim keys it),
#    a purchase's reservation and a purchase's confirmation: the shim
#    reconnects, runs the statement again under the same key, and answers 2xx;
#    the money moved exactly once (one ledger row per key, the balance);
#  * an operator force_release (an audited action, not repeated by the pool):
#    answered 503 UNAVAILABLE saying its outcome is unknown, and run once
#    (released, one refund entry, one audit row); sent again, it replays;
#  * the seam is refused with live Twilio, and a failover wait below 20 s is refused.
# One database server is enough: the seam stands in for the lost connection
# (test/e2e/failover_test.sh does it with a real pg_auto_failover formation).
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_resume_$$ and role nw_resume_shim_$$, removes them on exit. Prints
# "ok - ..." / "not ok - ..." lines and a final "N passed, N failed". Needs
# bash, curl, jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup resume
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_resume.XXXXXX")
SECRET=resume-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
SHIM_PID=
STARTED=$(date +%s)

stop_shim() {
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    SHIM_PID=
}
cleanup() {
    stop_shim
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then echo "# logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql
create_suite_database

BASE_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET"
    TWILIO_TESTING_MODE=true
    RECONCILE_INTERVAL_SECONDS=3600
)
# serve_with LOG DROPS: a shim whose pool drops its connection after these statements commit.
serve_with() {
    stop_shim
    SHIM_ENV=("${BASE_ENV[@]}" NW_TEST_FAULT_DROP_AFTER_COMMIT="$2")
    start_shim "$1" || { not_ok "shim with NW_TEST_FAULT_DROP_AFTER_COMMIT=$2 starts" "$(tail -n 20 "$1")"; finish; }
}
# dropped LOG STATEMENT: how often the seam fired for that statement.
dropped() {
    grep '"msg":"test fault: dropping the connection after the statement committed"' "$1" |
        jq -r --arg s "$2" 'select(.statement == $s) | .statement' | wc -l
}
# resumed LOG STATEMENT: the pool said it would wait and run that statement again.
resumed() {
    grep '"msg":"database call failed; waiting for a writable primary"' "$1" |
        jq -r --arg s "$2" 'select(.statement == $s and .fate == "unknown") | .statement' | wc -l
}
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }
SERVICE=$(token --service)
U=$(uuid); T=$(token --sub "$U")
ledger() { q "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$U' AND $1"; }
fives=0
count5xx() { [[ $STATUS == 5?? ]] && fives=$((fives + 1)); return 0; }

# ---- keyed calls: dropped after COMMIT, run again under the same key --------------
serve_with "$W/shim-1.log" "credit,purchase"
L=$W/shim-1.log

api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"10.00\",\"currency\":\"USD\",\"userId\":\"$U\"}" \
    -H "Idempotency-Key: resume-topup-1"
count5xx
expect "top-up with a key whose connection broke after COMMIT: 201" 201 '.wallet.balanceUsd == "10.00"'
check "the seam dropped the keyed top-up's connection once, and the pool ran it again" "1 1" \
    "$(dropped "$L" credit) $(resumed "$L" credit)"
check "one ledger row for that key, balance 10.00" "1 10.00" \
    "$(ledger "idempotency_key = 'resume-topup-1'") $(balance "$U")"

api POST /api/numbers/purchase "$T" '{"phoneNumber":"+14155550101"}' -H "Idempotency-Key: resume-buy-1"
count5xx
expect "purchase whose reservation's connection broke after COMMIT: 201, active" 201 \
    '.number.status == "active" and .number.phoneNumber == "+14155550101"'
N1=$(jb .number.id)
check "the seam dropped the reservation's connection, the pool ran it again, the saga resumed" "1 1 1" \
    "$(dropped "$L" purchase) $(resumed "$L" purchase) $(
        grep -c '"msg":"resuming a purchase whose reservation survived a failover"' "$L")"
check "one number for that key, one purchase debit, balance 8.85" "1 1 8.85" \
    "$(q "SELECT count(*) FROM number_wallet.business_numbers WHERE user_id = '$U' AND idempotency_key = 'resume-buy-1'") $(
        ledger "kind = 'purchase'") $(balance "$U")"
api POST /api/numbers/purchase "$T" '{"phoneNumber":"+14155550101"}' -H "Idempotency-Key: resume-buy-1"
count5xx
expect "the same key again answers that number" 201 ".number.id == \"$N1\" and .number.status == \"active\""
check "still one purchase debit" "1" "$(ledger "kind = 'purchase'")"

# ---- a top-up the shim keys, a confirmation, and an operator action not repeated --
serve_with "$W/shim-2.log" "credit,confirm,force_release"
L=$W/shim-2.log

api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
count5xx
expect "top-up without a key (the shim keys it) whose connection broke after COMMIT: 201" 201 \
    '.wallet.balanceUsd == "13.85"'
check "the seam dropped its connection once, and the pool ran it again" "1 1" \
    "$(dropped "$L" credit) $(resumed "$L" credit)"
check "two top-up rows in all (each credited once)" "2" "$(ledger "kind = 'topup'")"

api POST /api/numbers/purchase "$T" '{"phoneNumber":"+14155550102"}'
count5xx
expect "purchase (no key: the shim keys it) whose confirmation's connection broke after COMMIT: 201" 201 \
    '.number.status == "active"'
N2=$(jb .number.id)
check "the seam dropped the confirmation's connection, and the pool ran it again" "1 1" \
    "$(dropped "$L" confirm) $(resumed "$L" confirm)"
check "two purchase debits in all, balance 12.70" "2 12.70" "$(ledger "kind = 'purchase'") $(balance "$U")"
check "no 5xx for any keyed call above" "0" "$fives"

api POST "/api/admin/numbers/$N2/release" "$SERVICE" '{"refund":true,"reason":"resume test"}'
expect "force_release whose connection broke after COMMIT: 503 UNAVAILABLE, outcome unknown" 503 \
    '.code == "UNAVAILABLE" and (.error | test("outcome|whether it took effect"))'
check "the pool did not run it again (fate unknown, logged as not repeated)" "1 unknown 0" \
    "$(dropped "$L" force_release) $(grep '"msg":"database call failed; not repeating it"' "$L" |
        jq -r 'select(.statement == "force_release") | .fate') $(resumed "$L" force_release)"
check "it committed once: released, one refund entry, one audit row, balance 13.85" "released 1 1 13.85" \
    "$(row_status "$N2") $(ledger "kind = 'refund' AND number_id = '$N2'") $(
        q "SELECT count(*) FROM number_wallet.audit_log WHERE action = 'force_release' AND number_id = '$N2'") $(
        balance "$U")"
api POST "/api/admin/numbers/$N2/release" "$SERVICE" '{"refund":true,"reason":"resume test"}'
expect "sent again, it replays the first run's refund" 200 '.replayed == true and .refund.issued == true'
check "still one refund entry and one audit row" "1 1" "$(ledger "kind = 'refund' AND number_id = '$N2'") $(
    q "SELECT count(*) FROM number_wallet.audit_log WHERE action = 'force_release' AND number_id = '$N2'")"
check "wallet_reconcile finds nothing to correct" "0" \
    "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile() WHERE user_id = '$U'")"
stop_shim

# ---- start-up refusals ------------------------------------------------------------
refused() { # refused LOG ENV...: serve exits 2 with "refusing to start"
    local log=$1 rc
    shift
    (cd "$W" && exec env -i "${BASE_ENV[@]}" PORT=0 "$@" timeout 20 "$SHIM_BIN" serve) >"$log" 2>&1
    rc=$?
    [ "$rc" = 2 ] && grep -q 'refusing to start' "$log"
}
check_true "the seam is refused with live Twilio" \
    refused "$W/refused-1.log" TWILIO_TESTING_MODE=false TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 \
    TWILIO_AUTH_TOKEN=x NW_TEST_FAULT_DROP_AFTER_COMMIT=credit
check_true "a failover wait below 20 s is refused" \
    refused "$W/refused-2.log" DATABASE_FAILOVER_WAIT_SECONDS=19

finish
