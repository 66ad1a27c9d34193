#!/usr/bin/env bash
# ops_actions_test.sh: operators and their audited actions through the real
# shim, a real database and the fake Twilio (test/fake_twilio), live mode.
#  * who: an operator token (app_metadata.number_wallet_operator: true), the
#    service key and ADMIN_API_KEY may use /api/admin/* and /metrics; a plain
#    user token is 403, no token 401;
#  * each action (fail, confirm, release, adjust, resolve) with its reason,
#    its refusals, its replay (no second audit row) and its effect at Twilio:
#    confirm first asks Twilio (409 PROVIDER_MISMATCH), release deletes there;
#  * audit_log records the actor (sub and email, service, admin-key) and the
#    request's X-Request-Id (or the id the shim made); /api/admin/audit pages
#    it newest first; the support look-ups.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_ops_$$ and role nw_ops_shim_$$, removes them on exit. Prints "ok - ..." /
# "not ok - ..." lines and a final "N passed, N failed". Needs bash, curl, jq, psql, openssl.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup ops
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_ops.XXXXXX")
SECRET=ops-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=ops-admin-key-$$-abcdefghijklmnopqrstuvwxyz
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
        echo "# logs kept in $W (shim.log, fake.log)"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq psql openssl
create_suite_database
start_fake "$W/fake.log" --timeout-sleep-ms 3000 || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    TWILIO_TESTING_MODE=false TWILIO_API_BASE="$FAKE" TWILIO_ACCOUNT_SID="$TW_SID" TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=2000 SUPABASE_JWT_SECRET="$SECRET" ADMIN_API_KEY="$ADMIN_KEY"
    RECONCILE_INTERVAL_SECONDS=3600 RECONCILE_PENDING_AFTER_SECONDS=600
)
start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
ok "database, fake Twilio and shim (live mode against the fake) are up"

HS='{"alg":"HS256","typ":"JWT"}'
EXP=$(($(now_s) + 3600))
user_token() { # SUB [EXTRA_JSON_FIELDS]
    jwt "$HS" "{\"sub\":\"$1\",\"aud\":\"authenticated\",\"role\":\"authenticated\",\"exp\":$EXP${2:+,$2}}" "$SECRET"
}
OPS_SUB=$(uuid)
OPS=$(user_token "$OPS_SUB" '"email":"ops@example.com","app_metadata":{"provider":"email","number_wallet_operator":true}')
SERVICE=$(jwt "$HS" "{\"role\":\"service_role\",\"iss\":\"supabase\",\"exp\":$EXP}" "$SECRET")
U=$(uuid)
T=$(user_token "$U")
# Flags that must not make an operator: a string, user_metadata (the user's own), the top level.
FAKE_OPS=(
    "$(user_token "$U" '"app_metadata":{"number_wallet_operator":"true"}')"
    "$(user_token "$U" '"user_metadata":{"number_wallet_operator":true}')"
    "$(user_token "$U" '"number_wallet_operator":true')"
)
api POST /api/wallet/topup "$ADMIN_KEY" "{\"amount\":\"20.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
expect "the user is topped up by the admin key" 201 '.wallet.balanceUsd == "20.00"'
last_audit() { q "SELECT $1 FROM number_wallet.audit_log ORDER BY id DESC LIMIT 1"; }
audit_rows() { q "SELECT count(*) FROM number_wallet.audit_log"; }
gone_at_twilio() { # NAME SID
    if fake_owns_sid "$2"; then not_ok "$1" "the fake still owns $2"; else ok "$1"; fi
}

# ---- who may use the operator routes ------------------------------------------
NID=$(uuid)
while IFS='|' read -r method path body; do
    api "$method" "$path" "$T" ${body:+"$body"}
    expect "a user token on $method $path: 403" 403 '.code == "FORBIDDEN"'
    api "$method" "$path" "" ${body:+"$body"}
    expect "no token on $method $path: 401" 401 '.code == "UNAUTHORIZED"'
done <<ROUTES
POST|/api/admin/numbers/$NID/fail|{"reason":"x"}
POST|/api/admin/numbers/$NID/confirm|{"twilioSid":"PN0","reason":"x"}
POST|/api/admin/numbers/$NID/release|{"refund":false,"reason":"x"}
POST|/api/admin/wallets/$U/adjust|{"amount":"1.00","currency":"USD","reason":"x"}
POST|/api/admin/discrepancies/1/resolve|{"reason":"x"}
GET|/api/admin/audit|
GET|/api/admin/numbers|
GET|/api/admin/users/$U|
GET|/api/admin/interventions|
ROUTES
for fake_ops in "${FAKE_OPS[@]}"; do
    api GET /api/admin/audit "$fake_ops"
    expect "a flag that is not app_metadata.number_wallet_operator = true grants nothing (403)" 403
done
api GET /metrics "$T"
expect "a user token on /metrics: 403" 403
api GET /metrics "$OPS"
check "an operator reads /metrics" "200" "$STATUS"
api GET /api/admin/interventions "$OPS"
expect "an operator reads the interventions" 200 '.interventions | type == "array"'
api GET /api/admin/summary "$OPS"
expect "an operator reads the summary" 200 '.summary | type == "object"'
api GET /api/admin/audit "$SERVICE"
expect "the service key reads the audit log" 200 '.audit == [] and .next == null'

# ---- a purchase stuck pending, nothing bought at Twilio: confirm is refused, fail settles it
PF=+14155550171
fake_fail "{\"op\":\"buy\",\"mode\":\"timeout\",\"phoneNumber\":\"$PF\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PF\",\"count\":10}"
api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$PF\"}"
expect "Twilio timeout, look-ups failing: 202 pending" 202 '.number.status == "pending"'
PF_ID=$(jb .number.id)
drain_rules
api POST "/api/admin/numbers/$PF_ID/confirm" "$OPS" '{"twilioSid":"PN00000000000000000000000000000171","reason":"I think it was bought"}'
expect "confirm of a number Twilio does not hold: 409 PROVIDER_MISMATCH" 409 \
    '.code == "PROVIDER_MISMATCH" and .providerSid == null'
check "the refused confirm changed nothing and wrote no audit row" "pending 0" "$(row_status "$PF_ID") $(audit_rows)"
api POST "/api/admin/numbers/$PF_ID/fail" "$OPS" '{}'
expect "fail without a reason: 400" 400 '.code == "INVALID_REQUEST"'
api POST "/api/admin/numbers/$PF_ID/fail" "$OPS" "{\"reason\":\"$(printf 'r%.0s' $(seq 1 501))\"}"
expect "fail with a 501-character reason: 400" 400 '.code == "INVALID_REQUEST"'
api POST "/api/admin/numbers/not-a-uuid/fail" "$OPS" '{"reason":"x"}'
expect "a malformed number id: 404" 404 '.code == "NOT_FOUND"'
api POST "/api/admin/numbers/$(uuid)/fail" "$OPS" '{"reason":"x"}'
expect "an unknown number: 404" 404 '.code == "NOT_FOUND"'
api POST "/api/admin/numbers/$PF_ID/fail" "$OPS" '{"reason":"Twilio never bought it (checked the console)"}' \
    -H 'X-Request-Id: ops-test-fail-1'
expect "an operator fails the stuck purchase: refunded" 200 \
    '.success and .refunded == "1.15" and .replayed == false and (.auditId | type) == "number" and .number.status == "failed"'
check "the number is failed and the user refunded" "failed 20.00" "$(row_status "$PF_ID") $(balance "$U")"
check "audit_log: action, number, owner, actor (sub and email), reason, X-Request-Id" \
    "force_fail|$PF_ID|$U|$OPS_SUB (ops@example.com)|Twilio never bought it (checked the console)|ops-test-fail-1" \
    "$(last_audit "action, number_id, user_id, actor, reason, request_id")"
rows=$(audit_rows)
api POST "/api/admin/numbers/$PF_ID/fail" "$OPS" '{"reason":"again"}'
expect "a repeated fail replays" 200 '.replayed == true and .auditId == null and .refunded == "1.15"'
check "the replay wrote no audit row and refunded nothing more" "$rows 20.00" "$(audit_rows) $(balance "$U")"

# ---- a purchase stuck pending that Twilio did buy: confirm checks the sid there
PC=+14155550172
fake_fail "{\"op\":\"buy\",\"mode\":\"lost_response\",\"phoneNumber\":\"$PC\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PC\",\"count\":10}"
api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$PC\"}"
expect "bought at Twilio, answer lost, look-ups failing: 202 pending" 202 '.number.status == "pending"'
PC_ID=$(jb .number.id)
drain_rules
PC_SID=$(fake_owned "$PC" | cut -d' ' -f1)
api POST "/api/admin/numbers/$PC_ID/confirm" "$OPS" '{"twilioSid":"PN00000000000000000000000000000bad","reason":"wrong sid"}'
expect "confirm under a sid Twilio does not hold the number by: 409 PROVIDER_MISMATCH" 409 \
    ".code == \"PROVIDER_MISMATCH\" and .providerSid == \"$PC_SID\""
api POST "/api/admin/numbers/$PC_ID/confirm" "$OPS" '{"reason":"no sid"}'
expect "confirm without twilioSid: 400" 400 '.code == "INVALID_REQUEST"'
api POST "/api/admin/numbers/$PC_ID/confirm" "$OPS" "{\"twilioSid\":\"$PC_SID\",\"reason\":\"seen in the Twilio console\"}" \
    -H 'X-Request-Id: ops-test-confirm-1'
expect "confirm under Twilio's sid: active" 200 \
    ".number.status == \"active\" and .number.twilioSid == \"$PC_SID\" and .replayed == false"
check "the row is active with that sid; audit row with the request id" "active $PC_SID force_confirm|ops-test-confirm-1" \
    "$(row_status "$PC_ID") $(row_sid "$PC_ID") $(last_audit "action, request_id")"
api POST "/api/admin/numbers/$PC_ID/confirm" "$OPS" "{\"twilioSid\":\"$PC_SID\",\"reason\":\"again\"}"
expect "a repeated confirm replays" 200 '.replayed == true and .auditId == null'

# ---- release: refund only when asked, then deleted at Twilio -----------------------
api POST "/api/admin/numbers/$PC_ID/release" "$OPS" '{"reason":"x"}'
expect "release without refund: 400" 400 '.code == "INVALID_REQUEST"'
api POST "/api/admin/numbers/$PC_ID/release" "$OPS" '{"refund":"yes","reason":"x"}'
expect "release with a non-boolean refund: 400" 400 '.code == "INVALID_REQUEST"'
before=$(balance "$U")
api POST "/api/admin/numbers/$PC_ID/release" "$OPS" '{"refund":true,"reason":"customer disputed the charge"}'
expect "release with refund: refunded and deleted at Twilio" 200 \
    '.refund.issued == true and .refund.amount == "1.15" and .providerReleased == true and .number.status == "released"'
check "the refund reached the wallet" "$(awk -v b="$before" 'BEGIN { printf "%.2f", b + 1.15 }')" "$(balance "$U")"
gone_at_twilio "Twilio no longer holds the number" "$PC_SID"
api POST "/api/admin/numbers/$PC_ID/release" "$OPS" '{"refund":true,"reason":"again"}'
expect "a repeated release replays the first refund" 200 '.replayed == true and .refund.issued == true and .auditId == null'
check "one refund entry" "1" "$(q "SELECT count(*) FROM number_wallet.transactions WHERE number_id = '$PC_ID' AND kind = 'refund'")"
api POST /api/numbers/purchase "$T" '{"phoneNumber":"+14155550173"}'
expect "a normal purchase" 201 '.number.status == "active"'
PN_ID=$(jb .number.id); PN_SID=$(jb .number.twilioSid)
api POST "/api/admin/numbers/$PN_ID/release" "$SERVICE" '{"refund":false,"reason":"abuse report 42"}'
expect "the service key releases without refund" 200 '.refund.issued == false and .providerReleased == true'
check "actor of a service-key action" "service|abuse report 42" "$(last_audit "actor, reason")"
check "the user's own release of it now replays" "yes" "$(
    api DELETE "/api/numbers/$PN_ID/release" "$T"; jb 'if .replayed == true and .refund.issued == false then "yes" else . end')"
gone_at_twilio "Twilio no longer holds that one either" "$PN_SID"

# ---- adjust ------------------------------------------------------------------------
before=$(balance "$U")
api POST "/api/admin/wallets/$U/adjust" "$ADMIN_KEY" '{"amount":-2.5,"currency":"USD","reason":"x"}'
expect "a JSON number amount: 400" 400 '.code == "INVALID_REQUEST"'
api POST "/api/admin/wallets/$U/adjust" "$ADMIN_KEY" '{"amount":"0.00","currency":"USD","reason":"x"}'
expect "a zero amount: 400" 400
api POST "/api/admin/wallets/$U/adjust" "$ADMIN_KEY" '{"amount":"-2.50","currency":"USD","reason":"goodwill reversal"}' \
    -H 'Idempotency-Key: ops-adj-1' -H 'X-Request-Id: bad id with spaces'
expect "an adjustment by the admin key" 201 '.amount == "-2.50" and .replayed == false and (.auditId | type) == "number"'
GEN_ID=$(hdr X-Request-Id)
check "a malformed X-Request-Id is replaced by one the shim makes, recorded in audit_log" \
    "admin-key|adjust_balance|$U|$GEN_ID" "$(last_audit "actor, action, user_id, request_id")"
api POST "/api/admin/wallets/$U/adjust" "$ADMIN_KEY" '{"amount":"-2.50","currency":"USD","reason":"goodwill reversal"}' \
    -H 'Idempotency-Key: ops-adj-1'
expect "the same Idempotency-Key replays" 201 '.replayed == true and .amount == "-2.50"'
check "one adjustment was made" "$(awk -v b="$before" 'BEGIN { printf "%.2f", b - 2.50 }') 1" \
    "$(balance "$U") $(q "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$U' AND kind = 'adjustment'")"
api POST "/api/admin/wallets/$U/adjust" "$ADMIN_KEY" '{"amount":"-3.00","currency":"USD","reason":"other"}' \
    -H 'Idempotency-Key: ops-adj-1'
expect "the key with another amount: 422" 422 '.code == "IDEMPOTENCY_KEY_REUSED"'
api POST "/api/admin/wallets/$U/adjust" "$OPS" '{"amount":"-1000.00","currency":"USD","reason":"too much"}'
expect "below zero: 402" 402 '.code == "INSUFFICIENT_BALANCE"'
api POST "/api/admin/wallets/not-a-user/adjust" "$OPS" '{"amount":"1.00","currency":"USD","reason":"x"}'
expect "a malformed user id: 404" 404

# ---- resolve a finding -----------------------------------------------------------
D=$(q "SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155550199', 'PN0199', NULL, 'seen at Twilio only')")
api POST "/api/admin/discrepancies/$D/resolve" "$OPS" '{"reason":""}'
expect "resolve with an empty reason: 400" 400
api POST "/api/admin/discrepancies/$D/resolve" "$OPS" '{"reason":"released it in the Twilio console"}' \
    -H 'X-Request-Id: ops-test-resolve-1'
expect "an operator resolves a finding" 200 ".discrepancy.id == $D and .replayed == false"
check "audit row of the resolve" "resolve_discrepancy|$D|ops-test-resolve-1" "$(last_audit "action, discrepancy_id, request_id")"
api POST "/api/admin/discrepancies/$D/resolve" "$OPS" '{"reason":"again"}'
expect "a repeated resolve replays" 200 '.replayed == true and .auditId == null'
api POST "/api/admin/discrepancies/999999/resolve" "$OPS" '{"reason":"x"}'
expect "an unknown finding: 404" 404 '.code == "NOT_FOUND"'

# ---- the audit log and the look-ups --------------------------------------------------
TOTAL=$(audit_rows)
api GET "/api/admin/audit?limit=2" "$OPS"
expect "the audit log, newest first, two per page" 200 \
    '(.audit | length) == 2 and .audit[0].id > .audit[1].id and .audit[0].action == "resolve_discrepancy" and .next == .audit[1].id'
NEXT=$(jb .next)
api GET "/api/admin/audit?limit=200&before=$NEXT" "$OPS"
expect "the next page starts below 'before'" 200 \
    "(.audit | length) == $((TOTAL - 2)) and all(.audit[]; .id < $NEXT) and .next == null and .audit[-1].action == \"force_fail\" and .audit[-1].request_id == \"ops-test-fail-1\" and .audit[-1].actor == \"$OPS_SUB (ops@example.com)\" and .audit[-1].number_id == \"$PF_ID\" and .audit[-1].user_id == \"$U\""
api GET "/api/admin/audit?limit=0" "$OPS"
expect "limit 0: 400" 400
api GET "/api/admin/audit?before=abc" "$OPS"
expect "a malformed before: 400" 400
api GET "/api/admin/numbers?phone=%2B14155550172" "$OPS"
expect "numbers by phone" 200 \
    "(.numbers | length) == 1 and .numbers[0].id == \"$PC_ID\" and .numbers[0].userId == \"$U\" and .numbers[0].status == \"released\""
api GET "/api/admin/numbers?user=$U&status=failed" "$OPS"
expect "numbers by user and status" 200 "(.numbers | length) == 1 and .numbers[0].id == \"$PF_ID\""
api GET "/api/admin/numbers?status=lost" "$OPS"
expect "an unknown status: 400" 400
api GET "/api/admin/numbers?phone=415" "$OPS"
expect "a phone that is not E.164: 400" 400
api GET "/api/admin/users/$U" "$OPS"
expect "a user's wallet, numbers and ledger" 200 \
    ".userId == \"$U\" and .wallet.balanceUsd == \"$(balance "$U")\" and (.numbers | length) == 3 and (.transactions | length) == 7 and .transactions[0].kind == \"adjustment\""
api GET "/api/admin/users/$(uuid)" "$OPS"
expect "a user without a wallet: wallet null, nothing else" 200 '.wallet == null and .numbers == [] and .transactions == []'

agree "after every operator action" "$U" "$(balance "$U")"
check "wallet_reconcile() finds nothing anywhere" "0" "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
finish
