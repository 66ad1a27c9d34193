#!/usr/bin/env bash
# reconcile_ops_test.sh: the `reconcile` command as an operator runs it, and the
# inventory sweep racing a purchase, through the real binaries, a real database
# and the fake Twilio (test/fake_twilio).
#  * `reconcile` needs only DATABASE_URL and the Twilio settings: with no JWT
#    setting and RECONCILE_PENDING_AFTER_SECONDS=0 it settles a stuck pending
#    purchase at once, and says that a buy in flight in `serve` may be failed;
#    `serve` still refuses a value below 60.
#  * a number bought while the sweep pages through Twilio is not recorded as
#    missing_at_provider; a number really gone still is.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_rops_$$ and role nw_rops_shim_$$, removes them on exit. Prints "ok - ..." /
# "not ok - ..." lines and a final "N passed, N failed". Needs bash, curl, jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup rops
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_rops.XXXXXX")
SECRET=rops-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=rops-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=
RECON_PID=
STARTED=$(date +%s)

cleanup() {
    [ -n "$RECON_PID" ] && kill "$RECON_PID" 2>/dev/null && wait "$RECON_PID" 2>/dev/null
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W (shim.log, fake.log, reconcile-*.log)"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql

create_suite_database

# One page holds the whole inventory: a number bought during the sweep's pause
# is then on no page the sweep reads.
start_fake "$W/fake.log" --timeout-sleep-ms 3000 --page-size 1000 ||
    { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }

TWILIO_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB?application_name=rops-test"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=2000
)
SHIM_ENV=("${TWILIO_ENV[@]}" SUPABASE_JWT_SECRET="$SECRET" ADMIN_API_KEY="$ADMIN_KEY"
          RECONCILE_INTERVAL_SECONDS=3600 RECONCILE_PENDING_AFTER_SECONDS=60)

# reconcile NAME [VAR=VALUE...]: `number-wallet-shim reconcile` with only the
# database and Twilio settings (plus the given ones); sets RC, log in LOG.
RECONCILES=0
reconcile() {
    local name=$1; shift
    RECONCILES=$((RECONCILES + 1))
    LOG=$W/reconcile-$RECONCILES-$name.log
    (cd "$W" && env -i "${TWILIO_ENV[@]}" "$@" "$SHIM_BIN" reconcile) >"$LOG" 2>&1
    RC=$?
}

start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
ok "database, fake Twilio and shim (live mode against the fake) are up"
check "the shim's connections carry DATABASE_URL's application_name" "yes" \
    "$(q "SELECT CASE WHEN count(*) > 0 THEN 'yes' ELSE 'no' END FROM pg_stat_activity WHERE usename = '$ROLE' AND application_name = 'rops-test'")"

new_user() { # AMOUNT: U (user id) and T (its token), topped up by the admin key
    U=$(uuid)
    T=$(cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token --sub "$U")
    api POST /api/wallet/topup "$ADMIN_KEY" "{\"amount\":\"$1\",\"currency\":\"USD\",\"userId\":\"$U\"}"
    [ "$STATUS" = 201 ] || not_ok "top-up of a new user" "HTTP $STATUS: $BODY"
}
missing_of() { # NUMBER_ID: open missing_at_provider findings for that row
    q "SELECT count(*) FROM number_wallet.discrepancies WHERE kind = 'missing_at_provider' AND number_id = '$1' AND resolved_at IS NULL"
}

# ---- serve keeps refusing a pending age below 60 s ---------------------------
out=$(cd "$W" && env -i "${SHIM_ENV[@]}" RECONCILE_PENDING_AFTER_SECONDS=0 PORT=0 timeout 10 "$SHIM_BIN" serve 2>&1)
rc=$?
check "serve with RECONCILE_PENDING_AFTER_SECONDS=0 refuses to start (exit 2)" "2 yes" \
    "$rc $(grep -q RECONCILE_PENDING_AFTER_SECONDS <<<"$out" && echo yes || echo "no: $out")"

# ---- start-up refusals (no request is made: the process exits at once) --------
refuses() { # NAME COMMAND MESSAGE_PART VAR=VALUE...: the command exits 2 naming MESSAGE_PART
    local name=$1 command=$2 part=$3 out rc; shift 3
    out=$(cd "$W" && env -i "${SHIM_ENV[@]}" PORT=0 "$@" timeout 10 "$SHIM_BIN" "$command" 2>&1)
    rc=$?
    check "$name" "2 yes" "$rc $(grep -q "$part" <<<"$out" && echo yes || echo "no: ${out:0:300}")"
}
refuses "an option libpq does not know in DATABASE_URL is a start-up error (reconcile)" reconcile sslmod \
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB?sslmod=disable"
refuses "an option libpq does not know in DATABASE_URL is a start-up error (serve)" serve sslmod \
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB?sslmod=disable"
refuses "serve refuses an ADMIN_API_KEY shorter than 32 bytes" serve ADMIN_API_KEY ADMIN_API_KEY=admin
refuses "serve refuses a SUPABASE_JWKS URL in plain http to another host" serve SUPABASE_JWKS \
    SUPABASE_JWKS=http://jwks.example.test/.well-known/jwks.json
refuses "NUMBER_COUNTRIES that lists no country is refused" serve NUMBER_COUNTRIES NUMBER_COUNTRIES=" , "

# ---- a stuck pending purchase, settled now by an operator --------------------
new_user 5.00; UP=$U
PP=+14155550150
fake_fail "{\"op\":\"buy\",\"mode\":\"lost_response\",\"phoneNumber\":\"$PP\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PP\",\"count\":40}"
api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$PP\"}"
expect "bought at Twilio, answer lost, look-ups failing: 202 pending" 202 '.number.status == "pending"'
UP_ID=$(jb .number.id)
drain_rules
reconcile default-age
# (exit 0: a pending purchase younger than RECONCILE_PENDING_AFTER_SECONDS is not overdue)
check "reconcile with the default age leaves a fresh pending purchase alone" "0 pending" \
    "$RC $(row_status "$UP_ID")"
reconcile now RECONCILE_PENDING_AFTER_SECONDS=0
check "reconcile without JWT settings and RECONCILE_PENDING_AFTER_SECONDS=0: exit 0, row active with Twilio's sid" \
    "0 active $(fake_owned "$PP" | cut -d' ' -f1)" "$RC $(row_status "$UP_ID") $(row_sid "$UP_ID")"
check "it warns that a buy in flight in a running serve may be failed" "yes" \
    "$(grep -q 'in flight' "$LOG" && echo yes || echo "no: $(head -c 600 "$LOG")")"
check "the purchase was paid once (balance 3.85)" "3.85" "$(balance "$UP")"

# A timeout (nothing bought) left pending: settled as failed and refunded.
new_user 5.00; UF=$U
PF=+14155550151
fake_fail "{\"op\":\"buy\",\"mode\":\"timeout\",\"phoneNumber\":\"$PF\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PF\",\"count\":40}"
api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$PF\"}"
expect "Twilio timeout, look-ups failing: 202 pending" 202 '.number.status == "pending"'
UF_ID=$(jb .number.id)
drain_rules
reconcile now-fail RECONCILE_PENDING_AFTER_SECONDS=0
check "reconcile now: a pending purchase Twilio does not have is failed and refunded (exit 0)" "0 failed 5.00" \
    "$RC $(row_status "$UF_ID") $(balance "$UF")"

# ---- a buy landing while the sweep pages through Twilio ----------------------
new_user 10.00; US=$U; TS=$T
api POST /api/numbers/purchase "$TS" '{"phoneNumber":"+14155550160"}'
expect "a number bought before the sweep: 201" 201 '.number.status == "active"'
BEFORE_ID=$(jb .number.id)
fake POST /__control/config '{"listPauseMs":3000}' >/dev/null
paused0=$(fake_calls list_paused)
RECONCILES=$((RECONCILES + 1))
LOG=$W/reconcile-$RECONCILES-mid-sweep.log
# (a Twilio timeout well above the pause, so the sweep waits for its page)
(cd "$W" && exec env -i "${TWILIO_ENV[@]}" TWILIO_TIMEOUT_MS=10000 "$SHIM_BIN" reconcile) >"$LOG" 2>&1 &
RECON_PID=$!
for _ in $(seq 1 200); do [ "$(fake_calls list_paused)" -gt "$paused0" ] && break; sleep 0.05; done
check "the sweep read its page and is paused before answering" "yes" \
    "$([ "$(fake_calls list_paused)" -gt "$paused0" ] && echo yes || echo no)"
api POST /api/numbers/purchase "$TS" '{"phoneNumber":"+14155550161"}'
expect "a number bought during the sweep's listing: 201" 201 '.number.status == "active"'
MID_ID=$(jb .number.id)
wait "$RECON_PID"; RC=$?; RECON_PID=
fake POST /__control/config '{"listPauseMs":0}' >/dev/null
check "the pass ends (exit 0) after a complete sweep" "0 true" "$RC $(grep '"msg":"reconcile pass"' "$LOG" | jq -r .swept)"
check "no missing_at_provider for the number bought mid-sweep" "0" "$(missing_of "$MID_ID")"
check "nor for the number bought before it" "0" "$(missing_of "$BEFORE_ID")"
reconcile after-sweep
check "the next pass sees both numbers: exit 0, no finding" "0 0 0" \
    "$RC $(missing_of "$MID_ID") $(missing_of "$BEFORE_ID")"

# A number really gone from Twilio is still found.
fake POST /__control/disown "{\"sid\":\"$(row_sid "$BEFORE_ID")\"}" >/dev/null
reconcile gone
check "a number Twilio no longer has is recorded missing_at_provider" "1 0" \
    "$(missing_of "$BEFORE_ID") $(missing_of "$MID_ID")"

finish
