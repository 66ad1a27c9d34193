#!/usr/bin/env bash
# import_seed_test.sh: a seed deployment adopted end to end. Loads the seed's
# three tables (test/fixtures/seed/basic.sql) into schema seed_basic, with the
# numbers the seed holds owned by the fake Twilio under the seed's
# FriendlyNames; runs the dry run, the import and a second import; then,
# through the shim in live mode against the fake: the imported user sees its
# balance and numbers, buys a number, an imported number is renewed (SQL
# renew_due_numbers) and another is released with its refund and deleted at
# Twilio; the inventory sweep (`reconcile`) recognises imported numbers as ours
# (sid and phone number) and reports a seed number it did not adopt.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_import_$$ and role nw_import_shim_$$, removes them on exit. Prints
# "ok - ..." / "not ok - ..." lines and a final "N passed, N failed".
# Needs bash, curl, jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup import
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_import.XXXXXX")
SECRET=import-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=import-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=
STARTED=$(date +%s)

cleanup() {
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
start_fake "$W/fake.log" --page-size 1000 || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }

TWILIO_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=2000
)
SHIM_ENV=("${TWILIO_ENV[@]}" SUPABASE_JWT_SECRET="$SECRET" ADMIN_API_KEY="$ADMIN_KEY"
          RECONCILE_INTERVAL_SECONDS=3600 RECONCILE_PENDING_AFTER_SECONDS=60)
RECONCILES=0
reconcile() { # NAME: one `number-wallet-shim reconcile` pass; sets RC, log in LOG
    RECONCILES=$((RECONCILES + 1))
    LOG=$W/reconcile-$RECONCILES-$1.log
    (cd "$W" && env -i "${TWILIO_ENV[@]}" "$SHIM_BIN" reconcile) >"$LOG" 2>&1
    RC=$?
}
findings() { # KIND SID: open findings of that kind for that sid
    q "SELECT count(*) FROM number_wallet.discrepancies WHERE kind = '$1' AND twilio_sid = '$2' AND resolved_at IS NULL"
}

# ---- the seed deployment: its tables, and its numbers at Twilio --------------
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$ROOT/test/fixtures/seed/basic.sql" 2>&1) ||
    { not_ok "the seed's tables load" "$out"; finish; }
# The fake owns every number the seed holds (E.164 ones), under the seed's
# FriendlyName; the seed rows carry the fake's sids.
own() { # SEED_ID PHONE: the fake owns PHONE as "Seed line"; the seed row gets its sid
    local sid
    sid=$(fake POST /__control/own "{\"phoneNumber\":\"$2\",\"friendlyName\":\"Seed line $2\"}" | jq -r .sid)
    [ -n "$sid" ] && [ "$sid" != null ] || { not_ok "the fake owns $2"; return 1; }
    q "UPDATE seed_basic.business_numbers SET twilio_sid = '$sid' WHERE id = '$1'" >/dev/null
    echo "$sid"
}
N01=5eedbb00-0000-4000-8000-000000000001; N02=5eedbb00-0000-4000-8000-000000000002
N03=5eedbb00-0000-4000-8000-000000000003; N09=5eedbb00-0000-4000-8000-000000000009
S01=$(own $N01 +16285550101); S02=$(own $N02 +16285550102); S03=$(own $N03 +16285550103)
S09=$(own $N09 +16285550109)
for n in 11:+16285550111 15:+16285550115 16:+16285550116; do
    own "5eedbb00-0000-4000-8000-0000000000${n%%:*}" "${n#*:}" >/dev/null
done
U1=5eed0000-0000-4000-8000-000000000001
U2=5eed0000-0000-4000-8000-000000000002

# ---- dry run, import, second import ----------------------------------------
DRY=$(q "SELECT number_wallet.import_seed('seed_basic')")
check "the dry run reports 4 wallets, 6 numbers, 1 discrepancy, 2 balance mismatches" "true 4 6 1 2" \
    "$(jq -r '"\(.dry_run) \(.wallets) \(.numbers) \(.discrepancies) \(.balance_mismatches | length)"' <<<"$DRY")"
check "the dry run changed nothing" "0 0 0" \
    "$(q "SELECT (SELECT count(*) FROM number_wallet.wallets) || ' ' || (SELECT count(*) FROM number_wallet.business_numbers)
           || ' ' || (SELECT count(*) FROM number_wallet.imported_transactions)")"
RUN1=$(q "SELECT number_wallet.import_seed('seed_basic', false)")
check "the import creates what the dry run said" "$(jq -c 'del(.dry_run)' <<<"$DRY")" "$(jq -c 'del(.dry_run)' <<<"$RUN1")"
check "after the import wallet_reconcile() is empty" "0" "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
RUN2=$(q "SELECT number_wallet.import_seed('seed_basic', false)")
check "a second import creates nothing and reports what it had imported" "true 4 6 1 0 0 0" \
    "$(jq -r '"\(.replayed) \(.wallets) \(.numbers) \(.discrepancies) \(.created.wallets) \(.created.numbers) \(.created.discrepancies)"' <<<"$RUN2")"
check "still one wallet per seed wallet, one number per adopted row" "4 6 10" \
    "$(q "SELECT (SELECT count(*) FROM number_wallet.wallets) || ' ' || (SELECT count(*) FROM number_wallet.business_numbers)
           || ' ' || (SELECT count(*) FROM number_wallet.imported_transactions)")"

# ---- the shim serves the imported users ------------------------------------
start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
T1=$(cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token --sub "$U1")
api GET /api/wallet "$T1"
expect "an imported user's wallet holds the seed balance" 200 '.wallet.balanceUsd == "20.00"'
api GET /api/numbers "$T1"
expect "its imported numbers are listed, active, with the seed's sids" 200 \
    "([.numbers[] | select(.status == \"active\") | .twilioSid] | sort) == ([\"$S01\", \"$S02\"] | sort)"

# ---- the sweep knows imported numbers by sid and phone number ----------------
reconcile first
check "the sweep passes (exit 0)" "0" "$RC"
check "no unknown_at_provider for the imported numbers (FriendlyName is the seed's)" "0 0 0" \
    "$(findings unknown_at_provider "$S01") $(findings unknown_at_provider "$S02") $(findings unknown_at_provider "$S03")"
check "no missing_at_provider for them either" "0" \
    "$(q "SELECT count(*) FROM number_wallet.discrepancies WHERE kind = 'missing_at_provider' AND number_id::text LIKE '5eedbb00-%'")"
check "a seed number the import skipped (negative wallet) is reported unknown_at_provider" "1" \
    "$(findings unknown_at_provider "$S09")"
check "the sweep deleted nothing at Twilio" "yes yes yes" \
    "$(for s in "$S01" "$S02" "$S03"; do fake_owns_sid "$s" && echo yes || echo no; done | paste -sd' ')"

# ---- buy, renew, release --------------------------------------------------
api POST /api/numbers/purchase "$T1" '{"phoneNumber":"+14155550170"}'
expect "the imported user buys a number with its imported balance" 201 '.number.status == "active"'
check "paid from the imported balance (20.00 - 1.15)" "18.85" "$(balance "$U1")"

q "UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 hour' WHERE id = '$N02'" >/dev/null
PAID_BEFORE=$(q "SELECT paid_until FROM number_wallet.business_numbers WHERE id = '$N02'")
check "renew_due_numbers bills the imported number" '{"unpaid": 0, "renewed": 1, "released": 0}' \
    "$(q "SELECT number_wallet.renew_due_numbers(100)")"
check "one renewal debit of its monthly cost, paid_until a month on" "renewal 1.15 17.70 yes" \
    "$(q "SELECT kind || ' ' || amount || ' ' || balance_after FROM number_wallet.transactions WHERE number_id = '$N02'") $(
       q "SELECT CASE WHEN paid_until > '$PAID_BEFORE'::timestamptz + interval '27 days' THEN 'yes' ELSE 'no' END
            FROM number_wallet.business_numbers WHERE id = '$N02'")"

api DELETE "/api/numbers/$N01/release" "$T1"
expect "releasing an imported number inside the refund window refunds its monthly cost and deletes it at Twilio" 200 \
    '.refund.issued == true and .refund.amount == "8.00" and .refund.currency == "USD" and .providerReleased == true'
check "the refund is in the wallet (17.70 + 8.00)" "25.70" "$(balance "$U1")"
check "Twilio no longer has it" "no" "$(fake_owns_sid "$S01" && echo yes || echo no)"
api DELETE "/api/numbers/$N01/release" "$T1"
expect "a repeated release refunds nothing more" 200 '.replayed == true and .refund.amount == "8.00"'
check "balance unchanged by the repeat" "25.70" "$(balance "$U1")"

T2=$(cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token --sub "$U2")
api DELETE "/api/numbers/$N01/release" "$T2"
expect "another user cannot release it" 404 '.code == "NOT_FOUND"'

reconcile after
check "after buy, renew and release: sweep clean for the imported numbers, wallet_reconcile empty" "0 0 0 0" \
    "$RC $(findings unknown_at_provider "$S02") $(findings missing_at_provider "$S02") $(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"

finish
