#!/usr/bin/env bash
# shim_test.sh: end-to-end tests of the HTTP shim (docs/http-api.md) through the real
# binary, a real database and the fake Twilio (test/fake_twilio).
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates database
# nw_e2e_$$ (CREATE EXTENSION number_wallet) and LOGIN role nw_e2e_shim_$$
# (granted number_wallet_service), starts build/fake-twilio and
# build/number-wallet-shim serve on free ports, and removes all of it on exit.
# Prints "ok - <check>" / "not ok - <check>" lines and a final "N passed, N failed";
# exits non-zero when a check failed. Needs bash, curl, jq, openssl, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup e2e
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_e2e.XXXXXX")
SECRET=e2e-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=e2e-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
VOICE_URL=https://hooks.example.test/voice
SMS_URL=https://hooks.example.test/sms
CORS_ORIGIN=https://app.example.test
PRICE=1.15
SHIM_PID=
FAKE_PID=
STARTED=$(date +%s)

cleanup() {
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] && [ -z "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W (shim.log, fake.log, reconcile-*.log)"
    elif [ -z "${NW_E2E_KEEP_LOGS:-}" ]; then
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- setup -----------------------------------------------------------------
require_suite_tools curl jq openssl psql

create_suite_database
ok "database $DB with the extension and role $ROLE"

start_fake "$W/fake.log" --timeout-sleep-ms 4000 || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }

SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET"
    ADMIN_API_KEY="$ADMIN_KEY"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=2000
    TWILIO_VOICE_URL="$VOICE_URL"
    TWILIO_SMS_URL="$SMS_URL"
    NUMBER_MONTHLY_PRICE="$PRICE"
    ALLOW_SELF_TOPUP=false
    RECONCILE_INTERVAL_SECONDS=3600
    RECONCILE_PENDING_AFTER_SECONDS=60
    CORS_ORIGINS="$CORS_ORIGIN"
)

# reconcile NAME: runs `number-wallet-shim reconcile` with the shim's environment; sets RC.
RECONCILES=0
reconcile() {
    RECONCILES=$((RECONCILES + 1))
    (cd "$W" && env -i "${SHIM_ENV[@]}" "$SHIM_BIN" reconcile) >"$W/reconcile-$RECONCILES-$1.log" 2>&1
    RC=$?
}
# token --sub UUID | --service [--anonymous]: a demo token from the binary (testing mode only).
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }

start_shim "$W/shim.log" || { not_ok "shim starts and answers /api/health" "$(tail -n 20 "$W/shim.log")"; finish; }
ok "shim starts (live mode against the fake Twilio) and answers /api/health"

SERVICE=$(token --service)
[ -n "$SERVICE" ] || { not_ok "mint a service token" "$(token --service 2>&1)"; finish; }

# Numbers from the fake's inventory (+1415555 0100..0999), one per scenario.
NEXT_NUMBER=100
pick() { PHONE=$(printf '+1415555%04d' "$NEXT_NUMBER"); NEXT_NUMBER=$((NEXT_NUMBER + 1)); }
# new_user AMOUNT: a new user id in U and its token in T, topped up with AMOUNT by the service (none if 0).
new_user() {
    U=$(uuid)
    T=$(token --sub "$U")
    if [ "$1" != 0 ]; then
        api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"$1\",\"currency\":\"USD\",\"userId\":\"$U\"}"
        [ "$STATUS" = 201 ] || not_ok "top-up of a new user" "HTTP $STATUS: $BODY"
    fi
}
# buy TOKEN PHONE [IDEMPOTENCY_KEY [EXTRA_JSON]]
buy() {
    local body="{\"phoneNumber\":\"$2\"${4:+,$4}}"
    if [ -n "${3:-}" ]; then
        api POST /api/numbers/purchase "$1" "$body" -H "Idempotency-Key: $3"
    else
        api POST /api/numbers/purchase "$1" "$body"
    fi
}
NUMBER_SHAPE='(.number | keys | sort) == (["id","phoneNumber","displayName","status","twilioSid","monthlyCost","currency","purchaseDate","paidUntil"] | sort)'

# ---- health -----------------------------------------------------------------------
api GET /api/health ""
expect "GET /api/health without a token: 200 ok, database ok, twilio live" 200 \
    '.status == "ok" and .database == "ok" and .twilio == "live"'

# ---- auth: 401 with WWW-Authenticate: Bearer ---------------------------------------------
NOW=$(now_s)
USER_CLAIMS() { printf '{"sub":"%s","aud":"authenticated","role":"authenticated","iat":%s,"exp":%s%s}' "$1" "$2" "$3" "${4:-}"; }
AUTH_USER=$(uuid)
H256='{"alg":"HS256","typ":"JWT"}'
GOOD=$(jwt "$H256" "$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 600)))" "$SECRET")
api GET /api/wallet "$GOOD"
expect "a token signed here with the secret (HS256) is accepted; new user's wallet is 0.00" 200 \
    '.wallet.balanceUsd == "0.00" and .wallet.balanceInr == "0.00"'

auth_401() { # NAME TOKEN [PATH]
    api GET "${3:-/api/wallet}" "$2"
    local www; www=$(hdr WWW-Authenticate)
    if [ "$STATUS" = 401 ] && [ "$(jb .code)" = UNAUTHORIZED ] && [[ $www == Bearer* ]]; then ok "$1"
    else not_ok "$1" "expected 401 UNAUTHORIZED with WWW-Authenticate: Bearer…" "got HTTP $STATUS, WWW-Authenticate: '$www', body: $BODY"; fi
}
auth_401 "401 without a token" ""
auth_401 "401 for a garbage token" "not-a-jwt"
check "a rejected token is told error=\"invalid_token\" (RFC 6750)" 'Bearer error="invalid_token"' "$(hdr WWW-Authenticate)"
api GET /api/wallet ""
check "a request without a token is told plain Bearer" "Bearer" "$(hdr WWW-Authenticate)"
auth_401 "401 for a garbage three-part token" "aaa.bbb.ccc"
auth_401 "401 for an expired token (exp 1 h ago, HS256, right secret)" \
    "$(jwt "$H256" "$(USER_CLAIMS "$AUTH_USER" $((NOW - 7200)) $((NOW - 3600)))" "$SECRET")"
auth_401 "401 for alg none" \
    "$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 600)) | b64url)."
auth_401 "401 for alg none with a signature" \
    "$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 600)) | b64url).$(printf x | b64url)"
auth_401 "401 for a token signed with the wrong secret" \
    "$(jwt "$H256" "$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 600)))" "wrong-secret-wrong-secret-wrong-secret-0000")"
auth_401 "401 for a token without exp" \
    "$(jwt "$H256" "{\"sub\":\"$AUTH_USER\",\"aud\":\"authenticated\",\"iat\":$NOW}" "$SECRET")"
auth_401 "401 for a token whose nbf is 10 minutes ahead" \
    "$(jwt "$H256" "$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 1200)) ",\"nbf\":$((NOW + 600))")" "$SECRET")"
auth_401 "401 for a user token with another audience" \
    "$(jwt "$H256" "{\"sub\":\"$AUTH_USER\",\"aud\":\"other\",\"iat\":$NOW,\"exp\":$((NOW + 600))}" "$SECRET")"
auth_401 "401 for a user token whose sub is not a uuid" \
    "$(jwt "$H256" "$(USER_CLAIMS "not-a-uuid" "$NOW" $((NOW + 600)))" "$SECRET")"
auth_401 "401 for a wrong ADMIN_API_KEY" "${ADMIN_KEY}x" /api/admin/summary
auth_401 "401 for /metrics without a token" "" /metrics
auth_401 "401 for an HS512 token signed with the secret (algorithms come from config)" \
    "$(h=$(printf '%s' '{"alg":"HS512","typ":"JWT"}' | b64url); p=$(USER_CLAIMS "$AUTH_USER" "$NOW" $((NOW + 600)) | b64url);
       printf '%s.%s.%s' "$h" "$p" "$(printf '%s' "$h.$p" | openssl dgst -sha512 -hmac "$SECRET" -binary | b64url)")"
api GET /api/wallet "$(jwt "$H256" "{\"sub\":\"$AUTH_USER\",\"aud\":[\"other\",\"authenticated\"],\"iat\":$NOW,\"exp\":$((NOW + 600))}" "$SECRET")"
expect "a user token whose aud array contains authenticated is accepted" 200 '.wallet.balanceUsd == "0.00"'
api GET /api/wallet "$(token --sub "$AUTH_USER" --anonymous)"
expect "an anonymous user may read its own wallet (200)" 200 '.wallet.balanceUsd == "0.00"'
api POST /api/wallet/topup "$(token --sub "$AUTH_USER" --anonymous)" '{"amount":"1.00","currency":"USD"}'
expect "top-up by an anonymous user: 403" 403 '.code == "FORBIDDEN"'
# A fresh clock: the checks above may have taken seconds on a loaded machine.
T=$(now_s)
api GET /api/wallet "$(jwt "$H256" "$(USER_CLAIMS "$AUTH_USER" $((T - 600)) $((T - 10)))" "$SECRET")"
expect "a token expired 10 s ago is accepted (30 s leeway)" 200 '.wallet.balanceUsd == "0.00"'
api GET /api/numbers/available?limit=1 "$(jwt '{"alg":"HS256"}' "{\"role\":\"service_role\",\"iss\":\"supabase\",\"iat\":$NOW,\"exp\":$((NOW + 600))}" "$SECRET")"
check "a service_role token signed here is a service token (not 401)" yes "$([ "$STATUS" != 401 ] && echo yes || echo "no: HTTP $STATUS $BODY")"

# ---- search -------------------------------------------------------------------------
new_user 0; SEARCH_T=$T
api GET "/api/numbers/available?country=US&areaCode=415&limit=5" "$SEARCH_T"
expect "search: 200 with up to 5 US numbers of area 415, priced by the server" 200 \
    '(.numbers | length) >= 1 and (.numbers | length) <= 5 and all(.numbers[];
       (.phoneNumber | startswith("+1415")) and .isoCountry == "US" and .monthlyCost == "1.15" and .currency == "USD"
       and has("friendlyName") and has("locality") and has("region") and (.capabilities | type) == "object")'
api GET "/api/numbers/available?country=CA&limit=3" "$(token --sub "$(uuid)" --anonymous)"
expect "search: an anonymous user may search (200)" 200 '(.numbers | length) >= 1 and all(.numbers[]; .isoCountry == "CA")'
api GET "/api/numbers/available?country=US" ""
expect "search: 401 without a token" 401 '.code == "UNAUTHORIZED"'
api GET "/api/numbers/available?country=GB" "$SEARCH_T"
expect "search: a country that is not sold → 400" 400 '.code == "UNSUPPORTED_NUMBER" or .code == "INVALID_REQUEST"'
api GET "/api/numbers/available?country=US&limit=abc" "$SEARCH_T"
expect "search: a malformed limit → 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'

# ---- purchase: happy path -------------------------------------------------------------
new_user 10.00; A=$U; AT=$T
pick; A_PHONE=$PHONE
buys0=$(fake_calls buy)
api POST /api/numbers/purchase "$AT" "{\"phoneNumber\":\"$A_PHONE\",\"displayName\":\"Main line\",\"expectedMonthlyCost\":\"1.15\",\"extra\":1}" \
    -H 'Content-Type: application/json; charset=utf-8' -H 'Idempotency-Key: a-buy-1'
expect "purchase: 201 with success and a number object (charset allowed, unknown fields ignored)" 201 \
    "$NUMBER_SHAPE and .success == true and .number.status == \"active\" and .number.phoneNumber == \"$A_PHONE\"
     and .number.displayName == \"Main line\" and .number.monthlyCost == \"1.15\" and .number.currency == \"USD\"
     and (.number.twilioSid | test(\"^PN[0-9a-f]{32}$\")) and (.number.purchaseDate | test(\"^[0-9]{4}-.*Z$\"))
     and (.number.paidUntil | test(\"Z$\"))"
A_ID=$(jb .number.id); A_SID=$(jb .number.twilioSid)
check "purchase: Location is /api/numbers/<id>" "/api/numbers/$A_ID" "$(hdr Location)"
check "purchase: wallet debited 1.15" "8.85" "$(balance "$A")"
check "purchase: the fake bought it once, FriendlyName = number id, webhooks set" \
    "1 $A_SID $A_ID $VOICE_URL $SMS_URL" \
    "$(($(fake_calls buy) - buys0)) $(fake_state | jq -r --arg p "$A_PHONE" '.owned[] | select(.phoneNumber == $p) | "\(.sid) \(.friendlyName) \(.voiceUrl) \(.smsUrl)"')"
api GET "/api/numbers/$A_ID" "$AT"
expect "GET /api/numbers/{id}: own number, 200" 200 "$NUMBER_SHAPE and .number.id == \"$A_ID\" and .number.status == \"active\""
api GET /api/wallet "$AT"
expect "GET /api/wallet after the purchase: 8.85" 200 '.wallet.balanceUsd == "8.85" and .wallet.balanceInr == "0.00"'

# Idempotency-Key replay
buys0=$(fake_calls buy)
buy "$AT" "$A_PHONE" a-buy-1
expect "purchase replay (same key, same number): 201 with the same id" 201 ".number.id == \"$A_ID\" and .number.status == \"active\""
check "purchase replay: no second debit and no second buy" "8.85 0" "$(balance "$A") $(($(fake_calls buy) - buys0))"
pick; buy "$AT" "$PHONE" a-buy-1
expect "purchase: same Idempotency-Key, other number → 422 IDEMPOTENCY_KEY_REUSED" 422 '.code == "IDEMPOTENCY_KEY_REUSED"'
check "purchase: key reuse debits nothing and buys nothing" "8.85 0" "$(balance "$A") $(($(fake_calls buy) - buys0))"

# 409 NUMBER_ALREADY_EXISTS, existingNumber only for the owner
buy "$AT" "$A_PHONE"
expect "purchase of a number the caller holds: 409 NUMBER_ALREADY_EXISTS with existingNumber" 409 \
    ".code == \"NUMBER_ALREADY_EXISTS\" and .existingNumber.id == \"$A_ID\""
new_user 5.00; B=$U; BT=$T
buy "$BT" "$A_PHONE"
expect "purchase of a number another user holds: 409 NUMBER_ALREADY_EXISTS without existingNumber" 409 \
    '.code == "NUMBER_ALREADY_EXISTS" and (has("existingNumber") | not)'
check "409s debit nothing" "8.85 5.00" "$(balance "$A") $(balance "$B")"

# other user's number: 404
api GET "/api/numbers/$A_ID" "$BT"
expect "GET /api/numbers/{id} of another user: 404" 404 '.code == "NOT_FOUND"'
api GET "/api/numbers/$(uuid)" "$AT"
expect "GET /api/numbers/{id} unknown id: 404" 404 '.code == "NOT_FOUND"'
api GET "/api/numbers/not-a-uuid" "$AT"
expect "GET /api/numbers/{id} malformed id: 404" 404 '.code == "NOT_FOUND"'
api GET "/api/numbers/not-a-uuid" ""
expect "GET /api/numbers/{id} malformed id without a token: 401" 401 '.code == "UNAUTHORIZED"'
api DELETE "/api/numbers/$A_ID/release" "$BT"
expect "release of another user's number: 404" 404 '.code == "NOT_FOUND"'
api DELETE "/api/numbers/not-a-uuid/release" "$AT"
expect "release with a malformed id: 404" 404 '.code == "NOT_FOUND"'
api DELETE "/api/numbers/not-a-uuid/release" ""
expect "release with a malformed id without a token: 401" 401 '.code == "UNAUTHORIZED"'
agree "happy path, replay, 409s" "$A" 8.85

# ---- purchase: refusals before Twilio ------------------------------------------------------
buys0=$(fake_calls buy)
new_user 0; NOWALLET=$U
pick; buy "$T" "$PHONE"
expect "purchase without a wallet: 402 INSUFFICIENT_BALANCE" 402 '.code == "INSUFFICIENT_BALANCE"'
new_user 1.00; POOR=$U
buy "$T" "$PHONE"
expect "purchase with 1.00 for a 1.15 number: 402 INSUFFICIENT_BALANCE" 402 '.code == "INSUFFICIENT_BALANCE"'
check "402: nothing debited, no row, Twilio never called" "1.00 0 0" \
    "$(balance "$POOR") $(q "SELECT count(*) FROM number_wallet.business_numbers WHERE user_id IN ('$POOR', '$NOWALLET')") $(($(fake_calls buy) - buys0))"

buy "$AT" "$PHONE" "" '"expectedMonthlyCost":"1.20"'
expect "purchase with expectedMonthlyCost 1.20: 409 PRICE_CHANGED" 409 '.code == "PRICE_CHANGED"'
buy "$AT" "$PHONE" "" '"expectedMonthlyCost":"1.150"'
check "purchase with expectedMonthlyCost \"1.150\" (compared as a decimal) is not PRICE_CHANGED" "not PRICE_CHANGED" \
    "$([ "$(jb .code)" = PRICE_CHANGED ] && echo "PRICE_CHANGED (HTTP $STATUS)" || echo "not PRICE_CHANGED")"
[ "$STATUS" = 201 ] && PRICE_OK_ID=$(jb .number.id) || PRICE_OK_ID=
A_BAL=$([ -n "$PRICE_OK_ID" ] && echo 7.70 || echo 8.85)
buy "$AT" "+18005550100"
expect "purchase of a toll-free +1800 number: 400 UNSUPPORTED_NUMBER" 400 '.code == "UNSUPPORTED_NUMBER"'
buy "$AT" "+442071838750"
expect "purchase of a UK number: 400 UNSUPPORTED_NUMBER" 400 '.code == "UNSUPPORTED_NUMBER"'
api POST /api/numbers/purchase "$AT" 'this is not json'
expect "purchase with a body that is not JSON: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST" and (.error | type) == "string"'
api POST /api/numbers/purchase "$AT" '["+14155550100"]'
expect "purchase with a JSON array body: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api POST /api/numbers/purchase "$AT" '{"displayName":"x"}'
expect "purchase without phoneNumber: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api POST /api/numbers/purchase "$AT" '{"phoneNumber":14155550199}'
expect "purchase with phoneNumber as a JSON number: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api POST /api/numbers/purchase "$AT" '{"phoneNumber":"4155550199"}'
expect "purchase with a phoneNumber not in E.164: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
buy "$AT" "$PHONE" "" "\"displayName\":\"$(printf 'x%.0s' $(seq 1 65))\""
expect "purchase with a 65-character displayName: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
buy "$AT" "$PHONE" "" '"expectedMonthlyCost":1.15'
expect "purchase with expectedMonthlyCost as a JSON number: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api POST /api/numbers/purchase "$AT" "{\"phoneNumber\":\"$PHONE\"}" -H "Idempotency-Key: $(printf 'k%.0s' $(seq 1 256))"
expect "purchase with a 256-character Idempotency-Key: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api POST /api/numbers/purchase "$AT" "{\"phoneNumber\":\"$PHONE\"}" -H 'Content-Type: text/plain'
expect "purchase with Content-Type text/plain: 415" 415 '(.code | type) == "string"'
api POST /api/numbers/purchase "$AT" "-" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "phoneNumber=$PHONE"
expect "purchase with a form body: 415" 415 'true'
BIG=$W/big.json
{ printf '{"phoneNumber":"%s","pad":"' "$PHONE"; head -c 70000 /dev/zero | tr '\0' a; printf '"}'; } >"$BIG"
api POST /api/numbers/purchase "$AT" "-" -H 'Content-Type: application/json' --data-binary "@$BIG"
expect "purchase with a 70 000-byte body (Content-Length > 64 KiB): 413" 413 'true'
api POST /api/numbers/purchase "" "-" -H 'Content-Type: application/json' --data-binary "@$BIG"
expect "413 comes before 401 (big body, no token)" 413 'true'
api POST /api/numbers/purchase "$AT" "-" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$BIG"
expect "purchase with a chunked 70 000-byte body: 413" 413 'true'
head -c 1000000 /dev/zero | gzip -c >"$W/bomb.gz"
api POST /api/numbers/purchase "$AT" "-" -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary "@$W/bomb.gz"
check "purchase with a gzip body that inflates to 1 MB is refused with a 4xx" 4xx "$([[ $STATUS == 4?? ]] && echo 4xx || echo "HTTP $STATUS $BODY")"
# Range is refused whole: httplib 0.11.4 would cut any answer, the refusal too, to the range.
api GET /api/wallet "$AT" "-" -H 'Range: bytes=0-1'
expect "GET with Range: bytes=0-1: 416 with the whole JSON error body" 416 '.code == "INVALID_REQUEST"'
check "the 416 answer carries no Content-Range" "" "$(hdr Content-Range)"
api GET /api/numbers "$AT" "-" -H 'Range: bytes=0-1,5-'
expect "GET with two ranges: 416 with a JSON body, not multipart" 416 '.code == "INVALID_REQUEST"'
# exactly 64 KiB is allowed (the user has no wallet: 402), one byte more is 413
new_user 0; EDGE_T=$T
mkbody() { # mkbody TOTAL_BYTES FILE
    local head="{\"phoneNumber\":\"$PHONE\",\"pad\":\"" tail='"}'
    { printf '%s' "$head"; head -c $(($1 - ${#head} - ${#tail})) /dev/zero | tr '\0' a; printf '%s' "$tail"; } >"$2"
}
mkbody 65536 "$W/exact.json"; mkbody 65537 "$W/over.json"
api POST /api/numbers/purchase "$EDGE_T" "-" -H 'Content-Type: application/json' --data-binary "@$W/exact.json"
expect "a body of exactly 64 KiB is read (402 for a user without a wallet, not 413)" 402 '.code == "INSUFFICIENT_BALANCE"'
api POST /api/numbers/purchase "$EDGE_T" "-" -H 'Content-Type: application/json' --data-binary "@$W/over.json"
expect "a body of 64 KiB + 1 byte: 413" 413 'true'
bad5xx=
for path in "/api/transactions?before=abc" "/api/transactions?before=-1" "/api/transactions?before=99999999999999999999" \
    "/api/transactions?before=999999999999999999" "/api/transactions?limit=0" "/api/transactions?limit=-5" \
    "/api/numbers?all=yes" "/api/numbers?limit=1e3" "/api/numbers?before=00000000-0000-0000-0000-000000000000" \
    "/api/numbers/available?areaCode=12" "/api/numbers/available?contains=abc%27--" "/api/numbers/available?country=us" \
    "/api/numbers/available?limit=999999999999" "/api/numbers/%00" "/api/numbers/..%2F..%2Fetc" \
    "/api/numbers/$(uuid | tr a-f A-F)" "/api/numbers/%7B$(uuid)%7D" "/api/numbers/$(uuid)x"; do
    api GET "$path" "$AT"
    [[ $STATUS == [24]?? ]] || bad5xx="$bad5xx $path→$STATUS"
done
for path in "/api/numbers/%00/release" "/api/numbers/$(uuid | tr a-f A-F)/release" "/api/numbers/x'y/release"; do
    api DELETE "$path" "$AT"
    [[ $STATUS == 4?? ]] || bad5xx="$bad5xx DELETE $path→$STATUS"
done
for body in '{"phoneNumber":null}' '{"phoneNumber":"+1415555\u0000"}' '{"phoneNumber":"+14155550100","displayName":{"a":1}}' \
    '{"phoneNumber":["+14155550100"]}' '{"phoneNumber":"+99999999999999999999999"}' '{}' '"x"' 'null' '{"phoneNumber":"\ud800"}' '{"a":'; do
    api POST /api/numbers/purchase "$AT" "$body"
    [[ $STATUS == 4?? ]] || bad5xx="$bad5xx POST purchase $body→$STATUS"
done
check "malformed queries, path ids and bodies answer 4xx (or 200), never 5xx" "" "$bad5xx"
api POST /api/numbers/purchase "" 'not json' -H 'Content-Type: text/plain'
expect "401 comes before 415 (no token, text/plain)" 401 '.code == "UNAUTHORIZED"'
api POST /api/numbers/purchase "$AT" 'not json' -H 'Content-Type: text/plain'
expect "415 comes before 400 (text/plain, malformed body)" 415 'true'
ANON=$(token --sub "$(uuid)" --anonymous)
api POST /api/numbers/purchase "$ANON" 'not json'
expect "400 comes before 403 (anonymous user, malformed body)" 400 '.code == "INVALID_REQUEST"'
buy "$ANON" "$PHONE"
expect "purchase by an anonymous user: 403 FORBIDDEN" 403 '.code == "FORBIDDEN"'
extra=$([ -n "$PRICE_OK_ID" ] && echo 1 || echo 0)
check "refusals before Twilio: no buy call, balance unchanged" "0 $A_BAL" "$(($(fake_calls buy) - buys0 - extra)) $(balance "$A")"
agree "refusals before Twilio" "$A" "$A_BAL"
new_user 5.00; UNI=$U
pick; buy "$T" "$PHONE" "" "\"displayName\":\"$(printf 'é%.0s' $(seq 1 64))\""
expect "displayName of 64 two-byte characters (64 characters, 128 bytes) is accepted: 201" 201 \
    "(.number.displayName | length) == 64 and .number.status == \"active\""
buy "$T" "$PHONE" "" "\"displayName\":\"$(printf 'é%.0s' $(seq 1 65))\""
expect "displayName of 65 two-byte characters: 400" 400 '.code == "INVALID_REQUEST"'
agree "unicode display name" "$UNI" 3.85

# ---- Twilio refusals -------------------------------------------------------------------
# twilio_refusal NAME MODE STATUS CODE: the buy fails with MODE once; the answer is STATUS CODE
# with refunded true, the money is back, the row failed, and the fake owns nothing new.
twilio_refusal() {
    local name=$1 mode=$2 want=$3 code=$4 key=key-$RANDOM-$RANDOM
    new_user 5.00; local u=$U t=$T
    pick; local phone=$PHONE
    fake_fail "{\"op\":\"buy\",\"mode\":\"$mode\",\"phoneNumber\":\"$phone\"}"
    local b0; b0=$(fake_calls buy)
    buy "$t" "$phone" "$key"
    expect "Twilio $name: $want $code with refunded true" "$want" ".code == \"$code\" and .refunded == true"
    check "Twilio $name: one buy call, row failed, balance restored to 5.00, fake owns nothing" \
        "1 failed 5.00 " "$(($(fake_calls buy) - b0)) $(q "SELECT status FROM number_wallet.business_numbers WHERE user_id = '$u'") $(balance "$u") $(fake_owned "$phone")"
    check "Twilio $name: ledger shows purchase then reversal" "CREDIT:reversal DEBIT:purchase CREDIT:topup" \
        "$(q "SELECT string_agg(type || ':' || kind, ' ' ORDER BY id DESC) FROM number_wallet.transactions WHERE user_id = '$u'")"
    b0=$(fake_calls buy)
    buy "$t" "$phone" "$key"
    expect "Twilio $name: replaying the Idempotency-Key answers the original refusal" "$want" ".code == \"$code\" and .refunded == true"
    check "Twilio $name: the replay neither buys nor debits" "0 5.00" "$(($(fake_calls buy) - b0)) $(balance "$u")"
    agree "Twilio $name" "$u" 5.00
    LAST_U=$u LAST_T=$t LAST_PHONE=$phone
}
twilio_refusal "21422 (number not available)" 21422 409 NUMBER_UNAVAILABLE
buy "$LAST_T" "$LAST_PHONE"
expect "after a failed purchase the number is free again: a new purchase succeeds (201)" 201 '.number.status == "active"'
agree "rebuy after 21422" "$LAST_U" 3.85
twilio_refusal "21421 (invalid number)" 21421 400 INVALID_REQUEST
twilio_refusal "20003 (authentication)" 20003 502 PROVIDER_ERROR

# 500 on buy, number NOT bought: look-ups say not ours → 502 refunded
new_user 5.00; U500=$U
pick; P500=$PHONE
fake_fail "{\"op\":\"buy\",\"mode\":\"500\",\"phoneNumber\":\"$P500\"}"
b0=$(fake_calls buy); l0=$(fake_calls list)
buy "$T" "$P500"
expect "Twilio 500 on buy (not bought): 502 PROVIDER_ERROR refunded after look-ups" 502 '.code == "PROVIDER_ERROR" and .refunded == true'
check "Twilio 500: the buy was not retried; at least two look-ups" "1 yes" \
    "$(($(fake_calls buy) - b0)) $([ $(($(fake_calls list) - l0)) -ge 2 ] && echo yes || echo "no ($(($(fake_calls list) - l0)))")"
agree "Twilio 500 not bought" "$U500" 5.00

# 503 on buy, not bought: the same path
new_user 5.00; U503=$U
pick; fake_fail "{\"op\":\"buy\",\"mode\":\"503\",\"phoneNumber\":\"$PHONE\"}"
buy "$T" "$PHONE"
expect "Twilio 503 on buy (not bought): 502 PROVIDER_ERROR refunded" 502 '.code == "PROVIDER_ERROR" and .refunded == true'
agree "Twilio 503 not bought" "$U503" 5.00

# lost_response: bought, then 500 → confirmed via look-up
# unknown_but_bought NAME MODE
unknown_but_bought() {
    new_user 5.00; local u=$U t=$T
    pick; local phone=$PHONE
    fake_fail "{\"op\":\"buy\",\"mode\":\"$2\",\"phoneNumber\":\"$phone\"}"
    local b0; b0=$(fake_calls buy)
    buy "$t" "$phone"
    expect "Twilio $1: 201 confirmed by looking the number up" 201 "$NUMBER_SHAPE and .number.status == \"active\""
    local id; id=$(jb .number.id)
    check "Twilio $1: exactly one buy call; the fake owns the number once, tagged with the row id" \
        "1 $(jb .number.twilioSid) $id" "$(($(fake_calls buy) - b0)) $(fake_owned "$phone")"
    agree "Twilio $1" "$u" 3.85
}
unknown_but_bought "lost_response (bought, then 500)" lost_response
unknown_but_bought "lost_response_drop (bought, connection dropped)" lost_response_drop
unknown_but_bought "malformed 2xx body (bought)" malformed
unknown_but_bought "timeout_after (bought, answer too late)" timeout_after

# 429 then success
new_user 5.00; U429=$U
pick; fake_fail "{\"op\":\"buy\",\"mode\":\"429\",\"phoneNumber\":\"$PHONE\",\"retryAfter\":1}"
b0=$(fake_calls buy); t0=$(date +%s%N)
buy "$T" "$PHONE"
expect "Twilio 429 (Retry-After: 1) then success: 201" 201 '.number.status == "active"'
check "Twilio 429 then success: two buy calls, waited at least ~1 s" "2 yes" \
    "$(($(fake_calls buy) - b0)) $([ $((($(date +%s%N) - t0) / 1000000)) -ge 900 ] && echo yes || echo no)"
agree "Twilio 429 then success" "$U429" 3.85

# 429 always → 503 UNAVAILABLE refunded
new_user 5.00; U429A=$U
pick; fake_fail "{\"op\":\"buy\",\"mode\":\"429\",\"phoneNumber\":\"$PHONE\",\"count\":-1}"
b0=$(fake_calls buy)
buy "$T" "$PHONE"
expect "Twilio 429 on every try: 503 UNAVAILABLE with refunded true" 503 '.code == "UNAVAILABLE" and .refunded == true'
check "Twilio 429 always: retried (more than one buy call), nothing owned" "yes " \
    "$([ $(($(fake_calls buy) - b0)) -gt 1 ] && echo yes || echo no) $(fake_owned "$PHONE")"
agree "Twilio 429 always" "$U429A" 5.00

# timeout: not bought (the fake never acts) → look-ups say not ours → 502 refunded
new_user 5.00; UTO=$U
pick; fake_fail "{\"op\":\"buy\",\"mode\":\"timeout\",\"phoneNumber\":\"$PHONE\"}"
b0=$(fake_calls buy)
buy "$T" "$PHONE"
expect "Twilio timeout (not bought): 502 PROVIDER_ERROR refunded (not ours on a second look)" 502 \
    '.code == "PROVIDER_ERROR" and .refunded == true'
check "Twilio timeout: one buy call, nothing owned" "1 " "$(($(fake_calls buy) - b0)) $(fake_owned "$PHONE")"
agree "Twilio timeout" "$UTO" 5.00

# lost response and failing look-ups → 202 pending → reconcile confirms
new_user 5.00; UP=$U; UPT=$T
pick; PP=$PHONE
fake_fail "{\"op\":\"buy\",\"mode\":\"lost_response\",\"phoneNumber\":\"$PP\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PP\",\"count\":40}"
buy "$UPT" "$PP" pending-key-1
expect "Twilio lost response and failing look-ups: 202 pending" 202 \
    "$NUMBER_SHAPE and .success == true and .number.status == \"pending\""
UP_ID=$(jb .number.id)
check "202 carries Location" "/api/numbers/$UP_ID" "$(hdr Location)"
check "pending purchase: money reserved (3.85), row pending" "3.85 pending" "$(balance "$UP") $(row_status "$UP_ID")"
buy "$UPT" "$PP" pending-key-1
expect "replaying the key of a pending purchase: 202" 202 ".number.id == \"$UP_ID\" and .number.status == \"pending\""
api DELETE "/api/numbers/$UP_ID/release" "$UPT"
expect "releasing a pending number: 409 INVALID_STATE" 409 '.code == "INVALID_STATE"'
q "UPDATE number_wallet.business_numbers SET created_at = now() - interval '10 minutes' WHERE id = '$UP_ID'" >/dev/null
reconcile pending-still-failing
check "reconcile while the look-up still fails: exit 1, row still pending" "1 pending" "$RC $(row_status "$UP_ID")"
drain_rules
reconcile pending-confirm
check "reconcile after the fake recovers: exit 0, row active with the fake's sid" \
    "0 active $(fake_owned "$PP" | cut -d' ' -f1)" "$RC $(row_status "$UP_ID") $(row_sid "$UP_ID")"
agree "pending purchase confirmed by the reconciler" "$UP" 3.85

# timeout (not bought) and failing look-ups → 202 → reconcile fails it and refunds
new_user 5.00; UP2=$U
pick; PP2=$PHONE
fake_fail "{\"op\":\"buy\",\"mode\":\"timeout\",\"phoneNumber\":\"$PP2\"}"
fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$PP2\",\"count\":40}"
buy "$T" "$PP2"
expect "Twilio timeout and failing look-ups: 202 pending" 202 '.number.status == "pending"'
UP2_ID=$(jb .number.id)
drain_rules
q "UPDATE number_wallet.business_numbers SET created_at = now() - interval '10 minutes' WHERE id = '$UP2_ID'" >/dev/null
reconcile pending-fail
check "reconcile: a pending purchase Twilio does not have → failed, refunded, exit 0" "0 failed 5.00" \
    "$RC $(row_status "$UP2_ID") $(balance "$UP2")"
agree "pending purchase failed by the reconciler" "$UP2" 5.00

# ---- kill -9 between reserve and settle --------------------------------------------
new_user 5.00; UK=$U
pick; PK=$PHONE
# The timed-out buy above may still be sleeping at the fake (4 s): wait until no buy is
# in flight, so the count below is this purchase's and not that one's.
fake_wait_buys -eq 0
fake POST /__control/config '{"buyDelayMs":3000}' >/dev/null
curl -sS -o "$W/killed.out" -w '%{http_code}' --max-time 30 -X POST -H "Authorization: Bearer $T" \
    -H 'Content-Type: application/json' --data-binary "{\"phoneNumber\":\"$PK\"}" "$BASE/api/numbers/purchase" \
    >"$W/killed.status" 2>/dev/null &
CURL_PID=$!
fake_wait_buys -ge 1
inflight=$(fake_state | jq .buysInFlight)
kill -9 "$SHIM_PID"; wait "$SHIM_PID" 2>/dev/null; SHIM_PID=
wait "$CURL_PID" 2>/dev/null
UK_ID=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$UK'")
check "kill -9 while the buy is in flight: the row is pending and the money reserved" "1 pending 3.85" \
    "$inflight $(row_status "$UK_ID") $(balance "$UK")"
fake_wait_buys -eq 0
fake POST /__control/config '{"buyDelayMs":0}' >/dev/null
check "kill -9: the fake finished the buy anyway (tagged with the row id)" "$UK_ID" "$(fake_owned "$PK" | cut -d' ' -f2)"
if start_shim "$W/shim.log"; then ok "shim restarts after kill -9"; else not_ok "shim restarts after kill -9" "$(tail -n 20 "$W/shim.log")"; finish; fi
reconcile kill9-young
check "reconcile leaves a young pending purchase alone (exit 0, still pending)" "0 pending" "$RC $(row_status "$UK_ID")"
q "UPDATE number_wallet.business_numbers SET created_at = now() - interval '10 minutes' WHERE id = '$UK_ID'" >/dev/null
reconcile kill9
check "kill -9: reconcile settles the purchase as active with the fake's sid, exit 0" \
    "0 active $(fake_owned "$PK" | cut -d' ' -f1)" "$RC $(row_status "$UK_ID") $(row_sid "$UK_ID")"
agree "kill -9 between reserve and settle" "$UK" 3.85

# The reconciler gives up on a slow purchase (Twilio does not have it yet), then the buy
# lands: confirm_purchase answers NW004, the row is failed and no held row has the sid,
# so the shim deletes the number at Twilio and answers the refusal (docs/http-api.md).
new_user 5.00; ULATE=$U
pick; PLATE=$PHONE
fake POST /__control/config '{"buyDelayMs":3000}' >/dev/null
curl -sS -o "$W/late.body" -w '%{http_code}' --max-time 60 -X POST -H "Authorization: Bearer $T" \
    -H 'Content-Type: application/json' --data-binary "{\"phoneNumber\":\"$PLATE\"}" "$BASE/api/numbers/purchase" \
    >"$W/late.status" 2>/dev/null &
CURL_PID=$!
fake_wait_buys -ge 1
LATE_ID=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$ULATE'")
q "UPDATE number_wallet.business_numbers SET created_at = now() - interval '10 minutes' WHERE id = '$LATE_ID'" >/dev/null
reconcile late-buy
check "reconcile fails a stale pending purchase Twilio does not have yet (exit 0, failed, refunded)" "0 failed 5.00" \
    "$RC $(row_status "$LATE_ID") $(balance "$ULATE")"
wait "$CURL_PID"
fake POST /__control/config '{"buyDelayMs":0}' >/dev/null
STATUS=$(cat "$W/late.status"); BODY=$(cat "$W/late.body")
expect "the late buy's answer is the refusal with refunded true" 502 '.code == "PROVIDER_ERROR" and .refunded == true'
check "the number bought after the reservation failed is deleted at Twilio" "" "$(fake_owned "$PLATE")"
agree "a buy that lands after the reconciler failed it" "$ULATE" 5.00

# ---- release -------------------------------------------------------------------------
new_user 5.00; UR=$U; URT=$T
pick; PR=$PHONE
buy "$URT" "$PR" rel-key-1
UR_ID=$(jb .number.id); UR_SID=$(jb .number.twilioSid)
api DELETE "/api/numbers/$UR_ID/release" "$URT"
expect "release: 200 with the refund and providerReleased true" 200 \
    '.success == true and .message == "Phone number released successfully" and .refund.issued == true
     and .refund.amount == "1.15" and .refund.currency == "USD" and .providerReleased == true and (.replayed // false) == false'
FIRST=$(jb -c 'del(.replayed)')
check "release: refunded (5.00), the fake no longer owns the sid, row released at the provider" "5.00 no released t" \
    "$(balance "$UR") $(fake_owns_sid "$UR_SID" && echo yes || echo no) $(row_status "$UR_ID") $(q "SELECT provider_released_at IS NOT NULL FROM number_wallet.business_numbers WHERE id = '$UR_ID'")"
api DELETE "/api/numbers/$UR_ID/release" "$URT"
expect "release repeated: 200, same body with replayed true" 200 ".replayed == true and (del(.replayed) == $FIRST)"
check "release repeated: no second refund" "5.00" "$(balance "$UR")"
api DELETE "/api/numbers/$UR_ID/release" "$BT"
expect "release by another user after the release: 404" 404 '.code == "NOT_FOUND"'
buy "$URT" "$PR" rel-key-1
expect "replaying the Idempotency-Key of a released purchase: 201 with the number as it is now (released)" 201 \
    ".number.id == \"$UR_ID\" and .number.status == \"released\""
check "that replay neither buys nor debits" "5.00 $UR_SID" "$(balance "$UR") $(row_sid "$UR_ID")"
agree "release" "$UR" 5.00
FAILED_ID=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$LAST_U' AND status = 'failed' LIMIT 1")
api DELETE "/api/numbers/$FAILED_ID/release" "$LAST_T"
expect "release of a failed purchase: 409 INVALID_STATE" 409 '.code == "INVALID_STATE"'

# release while Twilio DELETE fails → providerReleased false → reconcile finishes it
new_user 5.00; UF=$U; UFT=$T
pick; PF=$PHONE
buy "$UFT" "$PF"
UF_ID=$(jb .number.id); UF_SID=$(jb .number.twilioSid)
fake_fail "{\"op\":\"release\",\"mode\":\"500\",\"sid\":\"$UF_SID\",\"count\":40}"
api DELETE "/api/numbers/$UF_ID/release" "$UFT"
expect "release while Twilio DELETE fails: 200, refund issued, providerReleased false" 200 \
    '.success == true and .refund.issued == true and .refund.amount == "1.15" and .providerReleased == false'
check "release with a failing DELETE: refunded, the fake still owns it, the number stays held" "5.00 yes released f" \
    "$(balance "$UF") $(fake_owns_sid "$UF_SID" && echo yes || echo no) $(row_status "$UF_ID") $(q "SELECT provider_released_at IS NOT NULL FROM number_wallet.business_numbers WHERE id = '$UF_ID'")"
new_user 5.00
buy "$T" "$PF"
expect "a released number whose deletion is pending is still held: 409 NUMBER_ALREADY_EXISTS" 409 '.code == "NUMBER_ALREADY_EXISTS"'
api GET /api/admin/interventions "$SERVICE"
expect "admin interventions list the unfinished deletion" 200 \
    "(.interventions | type) == \"array\" and any(.interventions[]; .id == \"$UF_ID\")"
reconcile deletion-still-failing
check "reconcile while DELETE still fails: exit 1" 1 "$RC"
drain_rules
reconcile deletion
check "reconcile after the fake recovers: exit 0, deletion finished, the fake no longer owns it" "0 t no" \
    "$RC $(q "SELECT provider_released_at IS NOT NULL FROM number_wallet.business_numbers WHERE id = '$UF_ID'") $(fake_owns_sid "$UF_SID" && echo yes || echo no)"
api DELETE "/api/numbers/$UF_ID/release" "$UFT"
expect "release repeated after the reconciler finished: replayed, providerReleased true" 200 \
    '.replayed == true and .providerReleased == true and .refund.issued == true'
agree "release with failing DELETE, then reconcile" "$UF" 5.00

# ---- rate limit, lists and pagination ---------------------------------------------------
new_user 20.00; UL=$U; ULT=$T
ids=()
for i in $(seq 1 10); do
    pick; buy "$ULT" "$PHONE"
    [ "$STATUS" = 201 ] && ids+=("$(jb .number.id)")
done
check "ten purchases in a row: 201 each" 10 "${#ids[@]}"
pick; buy "$ULT" "$PHONE"
expect "the 11th purchase within an hour: 429 RATE_LIMITED" 429 '.code == "RATE_LIMITED"'
check "429 carries a numeric Retry-After" yes "$([[ $(hdr Retry-After) =~ ^[0-9]+$ ]] && echo yes || echo "no: '$(hdr Retry-After)'")"
agree "ten purchases and a rate-limited one" "$UL" 8.50
api GET "/api/numbers?limit=4" "$ULT"
expect "list numbers limit=4: 4 numbers and a next cursor" 200 '(.numbers | length) == 4 and (.next | type) == "string"'
p1=$(jb -c '[.numbers[].id]'); n1=$(jb .next)
api GET "/api/numbers?limit=4&before=$n1" "$ULT"
expect "list numbers page 2 (before=next): 4 more" 200 '(.numbers | length) == 4 and (.next | type) == "string"'
p2=$(jb -c '[.numbers[].id]'); n2=$(jb .next)
api GET "/api/numbers?limit=4&before=$n2" "$ULT"
expect "list numbers page 3: the last 2, next null" 200 '(.numbers | length) == 2 and .next == null'
p3=$(jb -c '[.numbers[].id]')
want=$(printf '%s\n' "${ids[@]}" | jq -R . | jq -sc 'reverse')
check "list pages: newest first, no overlap, all ten" "$want" "$(jq -sc 'add' <<<"$p1 $p2 $p3")"
api GET "/api/numbers?limit=101" "$ULT"
expect "list numbers limit=101: 400" 400 '.code == "INVALID_REQUEST"'
api GET "/api/numbers?before=zzz" "$ULT"
check "list numbers with a malformed before: 4xx" 4xx "$([[ $STATUS == 4?? ]] && echo 4xx || echo "HTTP $STATUS")"
api GET "/api/numbers" "$UFT"
expect "list numbers without all: only pending or active (a released number is hidden)" 200 '.numbers == [] and .next == null'
api GET "/api/numbers?all=true" "$UFT"
expect "list numbers all=true adds history" 200 "any(.numbers[]; .id == \"$UF_ID\" and .status == \"released\")"
api GET "/api/numbers?all=true" "$(token --sub "$LAST_U")"
expect "list numbers all=true shows failed purchases too" 200 'any(.numbers[]; .status == "failed") and all(.numbers[]; has("id") and has("status"))'
api GET "/api/transactions?limit=5" "$ULT"
expect "transactions limit=5: 5 entries, shape, next" 200 \
    '(.transactions | length) == 5 and (.next != null) and all(.transactions[];
       (.id | type) == "number" and (.type == "DEBIT" or .type == "CREDIT") and (.amount | type) == "string"
       and .currency == "USD" and (.balanceAfter | type) == "string" and (.description | type) == "string"
       and has("numberId") and (.createdAt | test("Z$")))'
t1=$(jb -c '[.transactions[].id]'); tn=$(jb .next)
api GET "/api/transactions?limit=5&before=$tn" "$ULT"
expect "transactions page 2" 200 '(.transactions | length) == 5 and .next != null'
t2=$(jb -c '[.transactions[].id]'); tn=$(jb .next)
api GET "/api/transactions?limit=5&before=$tn" "$ULT"
expect "transactions page 3: the top-up, next null" 200 '(.transactions | length) == 1 and .next == null and .transactions[0].kind == "topup" and .transactions[0].amount == "20.00"'
t3=$(jb -c '[.transactions[].id]')
check "transactions: newest first across pages, 11 distinct ids" "true 11" \
    "$(jq -sc 'add | . == (sort | reverse) and (unique | length) == length' <<<"$t1 $t2 $t3") $(jq -sc 'add | length' <<<"$t1 $t2 $t3")"
api GET "/api/transactions?limit=1" "$URT"
expect "transactions: the newest entry of a released number is its refund" 200 \
    ".transactions[0].kind == \"refund\" and .transactions[0].type == \"CREDIT\" and .transactions[0].numberId == \"$UR_ID\" and (.transactions[0].description | startswith(\"Refund: \"))"
api GET "/api/transactions" "$(token --sub "$(uuid)")"
expect "transactions of a new user: empty, next null" 200 '.transactions == [] and .next == null'

# ---- reconciler: inventory sweep and renewals ------------------------------------------------
pick; PS1=$PHONE; pick; PS2=$PHONE
SID_S1=$(fake POST /__control/own "{\"phoneNumber\":\"$PS1\",\"friendlyName\":\"$UP2_ID\"}" | jq -r .sid)
SID_S2=$(fake POST /__control/own "{\"phoneNumber\":\"$PS2\",\"friendlyName\":\"bought by hand\"}" | jq -r .sid)
GONE_ID=${ids[0]}; GONE_SID=$(row_sid "$GONE_ID")
fake POST /__control/disown "{\"sid\":\"$GONE_SID\"}" >/dev/null
RENEW_ID=${ids[1]}
q "UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 day' WHERE id = '$RENEW_ID'" >/dev/null
reconcile sweep
check "reconcile sweep: exit 0 (discrepancies alone do not fail the pass)" 0 "$RC"
check "sweep: a number tagged with a failed row is deleted at Twilio" no "$(fake_owns_sid "$SID_S1" && echo yes || echo no)"
check "sweep: an untagged number is recorded as unknown_at_provider (and kept)" "1 yes" \
    "$(q "SELECT count(*) FROM number_wallet.discrepancies WHERE kind = 'unknown_at_provider' AND twilio_sid = '$SID_S2' AND resolved_at IS NULL") $(fake_owns_sid "$SID_S2" && echo yes || echo no)"
check "sweep: an active number Twilio no longer has is recorded as missing_at_provider" 1 \
    "$(q "SELECT count(*) FROM number_wallet.discrepancies WHERE kind = 'missing_at_provider' AND number_id = '$GONE_ID' AND resolved_at IS NULL")"
check "reconcile renews a due number: one renewal entry, paid_until in the future" "1 t" \
    "$(q "SELECT count(*) FROM number_wallet.transactions WHERE number_id = '$RENEW_ID' AND kind = 'renewal'") $(q "SELECT paid_until > now() FROM number_wallet.business_numbers WHERE id = '$RENEW_ID'")"
api GET /api/admin/interventions "$SERVICE"
expect "admin interventions show both discrepancies" 200 \
    "any(.interventions[]; .twilio_sid == \"$SID_S2\" and .discrepancy_id != null) and any(.interventions[]; .id == \"$GONE_ID\" and .discrepancy_id != null)"
api DELETE "/api/numbers/$GONE_ID/release" "$ULT"
expect "release of a number Twilio no longer has: 200, refund issued, providerReleased true (404 confirmed by a look-up)" 200 \
    '.refund.issued == true and .providerReleased == true'
fake POST /__control/disown "{\"sid\":\"$SID_S2\"}" >/dev/null
q "SELECT number_wallet.resolve_discrepancy(id, 'e2e: handled') FROM number_wallet.discrepancies
    WHERE resolved_at IS NULL AND (twilio_sid = '$SID_S2' OR number_id = '$GONE_ID')" >/dev/null
agree "sweep, renewal and release of a missing number" "$UL" 8.50

# ---- concurrency ----------------------------------------------------------------------------
# par NAME TOKEN PHONE [KEY]: one purchase in the background; status and body in $W/par-NAME.*
PAR_PIDS=()
par() {
    curl -sS -o "$W/par-$1.body" -w '%{http_code}\n' --max-time 90 -X POST -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' ${4:+-H "Idempotency-Key: $4"} --data-binary "{\"phoneNumber\":\"$3\"}" \
        "$BASE/api/numbers/purchase" >"$W/par-$1.status" 2>/dev/null &
    PAR_PIDS+=($!)
}
par_wait() { local p; for p in "${PAR_PIDS[@]}"; do wait "$p"; done; PAR_PIDS=(); }
fake POST /__control/config '{"buyDelayMs":1000}' >/dev/null
new_user 5.00; UC=$U; UCT=$T; pick; PC=$PHONE
b0=$(fake_calls buy)
for i in 1 2 3 4 5; do par "same-$i" "$UCT" "$PC" same-key; done
par_wait
statuses=$(cat "$W"/par-same-*.status | tr '\n' ' ')
check "5 concurrent purchases with one Idempotency-Key: each 201 or 202, one number id, one buy, one debit" "yes 1 1 3.85" \
    "$([[ $statuses =~ ^((201|202)\ )+$ ]] && echo yes || echo "no: $statuses") $(cat "$W"/par-same-*.body | jq -r .number.id | sort -u | wc -l) $(($(fake_calls buy) - b0)) $(balance "$UC")"
agree "concurrent same key" "$UC" 3.85
pick; PR5=$PHONE; racers=()
for i in 1 2 3 4 5; do new_user 5.00; racers+=("$U"); par "race-$i" "$T" "$PR5"; done
par_wait
check "5 users race for one number: one 201 and four 409 NUMBER_ALREADY_EXISTS" "201 409 409 409 409 | 4" \
    "$(cat "$W"/par-race-*.status | sort | tr '\n' ' ')| $(cat "$W"/par-race-*.body | jq -r 'select(.code == "NUMBER_ALREADY_EXISTS") | .code' | wc -l)"
bals=$(for u in "${racers[@]}"; do balance "$u"; done | sort | tr '\n' ' ')
check "the race debited only the winner" "3.85 5.00 5.00 5.00 5.00 " "$bals"
many=(); many_t=()
for u in 1 2 3 4 5 6 7; do new_user 20.00; many+=("$U"); many_t+=("$T"); done
# Each buy takes 4 s at the fake: past the shim's 2 s Twilio timeout, so every
# purchase is settled by the saga's second look at Twilio. The 70 overlap as long
# as launching them takes less than 4 s (on an overloaded machine it once took
# 5 s, and the peak was 63).
fake POST /__control/config '{"buyDelayMs":4000}' >/dev/null
t0=$(date +%s)
for u in 0 1 2 3 4 5 6; do
    for i in $(seq 1 10); do pick; par "many-$u-$i" "${many_t[$u]}" "$PHONE"; done
done
launched=$(($(date +%s) - t0))
par_wait
fake POST /__control/config '{"buyDelayMs":0}' >/dev/null
elapsed=$(($(date +%s) - t0))
check "70 concurrent purchases (Twilio takes 4 s each): all 201" 70 "$(cat "$W"/par-many-*.status | grep -c '^201$')"
check "at least 64 buys were in flight at once at Twilio" yes \
    "$(p=$(fake_state | jq .peakBuysInFlight); [ "$p" -ge 64 ] && echo yes || echo "no: peak $p; launching took ${launched}s, all took ${elapsed}s")"
for u in "${many[@]}"; do agree "70 concurrent purchases (user $u)" "$u" 8.50; done

# ---- top-up ------------------------------------------------------------------------------
new_user 0; UT=$U; UTT=$T
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"10.00\",\"currency\":\"USD\",\"userId\":\"$UT\"}" -H 'Idempotency-Key: topup-1'
expect "top-up by the service token: 201 with the wallet" 201 \
    '.wallet.balanceUsd == "10.00" and .wallet.balanceInr == "0.00" and .replayed == false and (.transactionId | type) != "null"'
TX=$(jb .transactionId)
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"10.00\",\"currency\":\"USD\",\"userId\":\"$UT\"}" -H 'Idempotency-Key: topup-1'
expect "top-up replayed with the same Idempotency-Key: 201, replayed true, same transaction" 201 \
    ".replayed == true and (.transactionId | tostring) == \"$TX\" and .wallet.balanceUsd == \"10.00\""
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"11.00\",\"currency\":\"USD\",\"userId\":\"$UT\"}" -H 'Idempotency-Key: topup-1'
expect "top-up: same key, other amount → 422 IDEMPOTENCY_KEY_REUSED" 422 '.code == "IDEMPOTENCY_KEY_REUSED"'
api POST /api/wallet/topup "$SERVICE" '{"amount":"10.00","currency":"USD"}'
expect "top-up by the service without userId: 400" 400 '.code == "INVALID_REQUEST"'
api POST /api/wallet/topup "$ADMIN_KEY" "{\"amount\":\"250.50\",\"currency\":\"INR\",\"userId\":\"$UT\"}"
expect "top-up with ADMIN_API_KEY (INR): 201" 201 '.wallet.balanceUsd == "10.00" and .wallet.balanceInr == "250.50"'
api POST /api/wallet/topup "$SERVICE" "{\"amount\":10,\"currency\":\"USD\",\"userId\":\"$UT\"}"
expect "top-up with amount as a JSON number: 400" 400 '.code == "INVALID_REQUEST"'
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"10.001\",\"currency\":\"USD\",\"userId\":\"$UT\"}"
expect "top-up with three decimals: 400" 400 '.code == "INVALID_REQUEST"'
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"-5.00\",\"currency\":\"USD\",\"userId\":\"$UT\"}"
expect "top-up with a negative amount: 400" 400 '.code == "INVALID_REQUEST"'
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"5.00\",\"currency\":\"EUR\",\"userId\":\"$UT\"}"
expect "top-up in EUR: 400" 400 '.code == "INVALID_REQUEST"'
api POST /api/wallet/topup "$UTT" '{"amount":"10.00","currency":"USD"}'
expect "top-up by a user (ALLOW_SELF_TOPUP false): 403" 403 '.code == "FORBIDDEN"'
api POST /api/wallet/topup "$UTT" "{\"amount\":\"10.00\",\"currency\":\"USD\",\"userId\":\"$UT\"}"
expect "top-up by a user for itself naming userId: 403" 403 '.code == "FORBIDDEN"'
api POST /api/wallet/topup "" '{"amount":"10.00","currency":"USD"}'
expect "top-up without a token: 401" 401 '.code == "UNAUTHORIZED"'
api POST /api/wallet/topup "$SERVICE" 'nope' -H 'Content-Type: text/xml'
expect "top-up with text/xml: 415" 415 'true'
api GET /api/wallet "$UTT"
expect "GET /api/wallet after the top-ups" 200 '.wallet.balanceUsd == "10.00" and .wallet.balanceInr == "250.50"'
check "top-ups: two credit entries (the replay wrote none)" 2 "$(q "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$UT'")"

# ---- admin, metrics, CORS -----------------------------------------------------------------
api GET /api/admin/interventions "$ADMIN_KEY"
expect "admin interventions with ADMIN_API_KEY: 200 {interventions: [...]}" 200 '(.interventions | type) == "array"'
api GET /api/admin/summary "$SERVICE"
expect "admin summary with the service token: 200 {summary: {...}}" 200 '(.summary | type) == "object"'
api GET /api/admin/interventions "$AT"
expect "admin interventions with a user token: 403" 403 '.code == "FORBIDDEN"'
api GET /api/admin/summary "$AT"
expect "admin summary with a user token: 403" 403 '.code == "FORBIDDEN"'
api GET /api/admin/summary ""
expect "admin summary without a token: 401" 401 '.code == "UNAUTHORIZED"'
api GET /metrics "$SERVICE"
if [ "$STATUS" = 200 ] && [[ $(hdr Content-Type) == text/plain* ]] && grep -qE '^(# (TYPE|HELP) |nw_)' "$W/body"; then
    ok "/metrics with the service token: 200 Prometheus text"
else not_ok "/metrics with the service token: 200 Prometheus text" "HTTP $STATUS $(hdr Content-Type): ${BODY:0:200}"; fi
api GET /metrics "$ADMIN_KEY"
expect "/metrics with ADMIN_API_KEY: 200" 200 'true'
api GET /metrics "$AT"
expect "/metrics with a user token: 403" 403 '.code == "FORBIDDEN"'
api OPTIONS /api/numbers/purchase "" -H "Origin: $CORS_ORIGIN" -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization, content-type, idempotency-key'
if [[ $STATUS == 2?? ]] && [ "$(hdr Access-Control-Allow-Origin)" = "$CORS_ORIGIN" ] &&
   [[ $(hdr Access-Control-Allow-Methods) == *POST* ]] && [[ $(hdr Access-Control-Allow-Headers | tr A-Z a-z) == *authorization* ]]; then
    ok "CORS preflight from an allowed origin without a token: 2xx with Allow-Origin/Methods/Headers"
else not_ok "CORS preflight from an allowed origin without a token" "HTTP $STATUS, headers: $(tr -d '\r' <"$W/headers" | tr '\n' '|')"; fi
api OPTIONS /api/numbers/purchase "" -H "Origin: https://evil.example.test" -H 'Access-Control-Request-Method: POST'
check "CORS preflight from another origin gets no Access-Control-Allow-Origin" "" "$(hdr Access-Control-Allow-Origin)"
api GET /api/wallet "$AT" -H "Origin: $CORS_ORIGIN"
check "CORS: an allowed origin's GET carries Access-Control-Allow-Origin" "200 $CORS_ORIGIN" "$STATUS $(hdr Access-Control-Allow-Origin)"

# ---- health when the database is down ------------------------------------------------------
q "ALTER ROLE \"$ROLE\" NOLOGIN; SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$ROLE'" >/dev/null
sleep 0.3
api GET /api/health ""
NO_ERROR_SHAPE=1 expect "GET /api/health with the database unreachable: 503 degraded, database down" 503 '.status == "degraded" and .database == "down"'
api GET /api/wallet "$AT"
check "a data route with the database unreachable: 5xx, not a hang or 2xx" 5xx "$([[ $STATUS == 5?? ]] && echo 5xx || echo "HTTP $STATUS $BODY")"
q "ALTER ROLE \"$ROLE\" LOGIN" >/dev/null
for _ in $(seq 1 30); do api GET /api/health ""; [ "$STATUS" = 200 ] && break; sleep 0.2; done
expect "GET /api/health recovers once the database is back" 200 '.status == "ok" and .database == "ok"'
api GET /api/wallet "$AT"
expect "data routes work again after the database came back" 200 ".wallet.balanceUsd == \"$A_BAL\""

# ---- global agreement --------------------------------------------------------------------
check "the shim is still up at the end" yes "$(kill -0 "$SHIM_PID" 2>/dev/null && echo yes || echo no)"
reconcile final
check "final reconcile pass: exit 0" 0 "$RC"
check "global: wallet_reconcile() returns no rows" 0 "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
check "global: no pending purchase is left" 0 "$(q "SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'pending'")"
STATE=$(fake_state)
missing=$(q "SELECT twilio_sid FROM number_wallet.business_numbers WHERE provider = 'twilio' AND status = 'active'" |
    while read -r sid; do jq -e --arg s "$sid" 'any(.owned[]; .sid == $s)' >/dev/null <<<"$STATE" || echo "$sid"; done)
check "global: every active twilio row's sid is owned by the fake" "" "$missing"
orphans=$(jq -r '.owned[] | "\(.sid) \(.friendlyName)"' <<<"$STATE" | while read -r sid fn; do
    held=$(q "SELECT count(*) FROM number_wallet.business_numbers WHERE twilio_sid = '$sid' AND id::text = '$fn'
              AND (status = 'active' OR (status = 'released' AND provider_released_at IS NULL))")
    [ "$held" = 1 ] || echo "$sid($fn)"
done)
check "global: every number the fake owns belongs to a held row tagged with its id" "" "$orphans"
check "global: balances equal the ledger (sum of credits minus debits)" 0 \
    "$(q "SELECT count(*) FROM number_wallet.wallets w WHERE w.balance_usd <> coalesce((SELECT sum(CASE type WHEN 'CREDIT' THEN amount ELSE -amount END) FROM number_wallet.transactions t WHERE t.wallet_id = w.id AND t.currency = 'USD'), 0)")"
check "global: open discrepancies" 0 "$(q "SELECT count(*) FROM number_wallet.discrepancies WHERE resolved_at IS NULL")"

finish
