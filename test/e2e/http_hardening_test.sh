#!/usr/bin/env bash
# http_hardening_test.sh: the shim's HTTP layer against hostile clients, through
# the real binary on raw TCP connections (bash /dev/tcp), a real database and
# the fake Twilio (test/fake_twilio).
#  * a method other than GET, HEAD, POST, DELETE and OPTIONS is 405 before any
#    body is read, and the connection is closed: a 1 GiB length-less or chunked
#    body leaves the shim's memory flat;
#  * a body left unread (a refusal before the body, a GET with a body) never
#    becomes the next request on a kept-alive connection;
#  * nw_http_requests_total's labels come from fixed sets;
#  * a one-character `contains` is 400; Twilio's error text stays in the log;
#    a top-up whose balance cannot be read again is an error, not "0.00";
#  * no descriptor cap at FD_SETSIZE.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser), like shim_test.sh: creates database
# nw_hh_$$ and role nw_hh_shim_$$, starts build/fake-twilio and
# build/number-wallet-shim serve on free ports, removes all of it on exit.
# Prints "ok - …" / "not ok - …" and a final "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup hh
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_hh.XXXXXX")
SECRET=hh-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=hh-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=
WRITER=
STARTED=$(date +%s)
# Writing to a connection the shim has closed must fail the write, not kill the script.
trap '' PIPE

cleanup() {
    [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null
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

require_suite_tools curl jq openssl psql timeout

create_suite_database
start_fake "$W/fake.log" || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }

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
    NUMBER_MONTHLY_PRICE=1.15
    RECONCILE_INTERVAL_SECONDS=3600
    RECONCILE_PENDING_AFTER_SECONDS=60
)
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }

# The shim inherits a descriptor limit above FD_SETSIZE (1024) and must keep it.
FD_LIMIT=4096
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$FD_LIMIT" ] || FD_LIMIT=$(ulimit -Hn)
ulimit -Sn "$FD_LIMIT"
start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
ok "database, fake Twilio and shim are up"

SERVICE=$(token --service)
U=$(uuid)
T=$(token --sub "$U")
[ -n "$SERVICE" ] && [ -n "$T" ] || { not_ok "mint demo tokens"; finish; }

# ---- raw connections ----------------------------------------------------------------------
# exchange FIRST [SECOND]: one TCP connection: writes FIRST (printf %b escapes), and
# SECOND 0.3 s later (after the shim answered FIRST, so that SECOND arrives on its
# own), then reads until the shim closes the connection (at most 4 s).
# Sets RAW (what came back, CR removed), RESPONSES (status lines), RAW_MS (time to EOF).
exchange() {
    local fd t0
    exec {fd}<>"/dev/tcp/127.0.0.1/$SHIM_PORT" || { RAW=; RESPONSES=0; RAW_MS=0; return 1; }
    t0=$(date +%s%N)
    printf '%b' "$1" >&"$fd" 2>/dev/null
    if [ $# -ge 2 ]; then
        sleep 0.3
        printf '%b' "$2" >&"$fd" 2>/dev/null
    fi
    timeout 4 cat <&"$fd" >"$W/raw" 2>/dev/null
    RAW_MS=$((($(date +%s%N) - t0) / 1000000))
    exec {fd}>&-
    RAW=$(tr -d '\r' <"$W/raw")
    # A status line may follow the previous body on the same line (bodies end without a newline).
    RESPONSES=$(grep -oE 'HTTP/1\.[01] [0-9]{3} ' <<<"$RAW" | wc -l)
}
raw_statuses() { grep -oE 'HTTP/1\.[01] [0-9]{3} ' <<<"$RAW" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//'; }
raw_status() { raw_statuses | cut -d' ' -f1; }
raw_header() { grep -i -m1 "^$1:" <<<"$RAW" | cut -d: -f2- | sed 's/^ *//'; }

# The smuggled request: a complete request of its own, sent as the body of the first.
SMUGGLED='GET /api/health HTTP/1.1\r\nHost: smuggled\r\nX-Request-Id: smuggled-request\r\n\r\n'
SMUGGLED_LEN=$(printf '%b' "$SMUGGLED" | wc -c)

# unread_body NAME STATUS HEAD: HEAD (a request without its final blank line) with
# Content-Length = the smuggled request, which follows as its body. Exactly one
# answer (STATUS, Connection: close), the connection closed at once, and the
# smuggled request never answered.
unread_body() {
    local name=$1 want=$2 head=$3
    exchange "${head}Content-Length: $SMUGGLED_LEN\r\n\r\n" "$SMUGGLED"
    local got
    got="$(raw_status) $RESPONSES $(raw_header Connection)"
    if [ "$got" = "$want 1 close" ] && [ "$RAW_MS" -lt 3500 ] && ! grep -q smuggled-request "$W/shim.log"; then
        ok "$name: $want, Connection: close, the body is never answered as a request"
    else
        not_ok "$name: $want, Connection: close, the body is never answered as a request" \
            "got: status, answers, Connection = '$got' after $RAW_MS ms" "$(head -c 600 <<<"$RAW" | tr '\n' '|')" \
            "$(grep smuggled-request "$W/shim.log" | head -n 2)"
    fi
}

# ---- 9: a body left unread never becomes the next request --------------------------------------
unread_body "401 before the body (POST without a token)" 401 \
    'POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
unread_body "415 before the body (POST text/plain)" 415 \
    "POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer $SERVICE\r\nContent-Type: text/plain\r\n"
unread_body "416 before the body (Range)" 416 \
    "GET /api/wallet HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer $T\r\nRange: bytes=0-1\r\n"
unread_body "405 before the body (PUT)" 405 'PUT /api/health HTTP/1.1\r\nHost: t\r\n'
unread_body "a GET with a body (200, body never read)" 200 'GET /api/health HTTP/1.1\r\nHost: t\r\n'
unread_body "a DELETE refused before its body (401)" 401 'DELETE /api/numbers/x/release HTTP/1.1\r\nHost: t\r\n'
exchange "POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: $SMUGGLED_LEN\r\n\r\n" "$SMUGGLED"
check "two Content-Lengths: 400, Connection: close, nothing after it is read" "400 1 close" \
    "$(raw_status) $RESPONSES $(raw_header Connection)"

# A body that was read keeps the connection: a top-up and a second request on one connection.
BODY_JSON="{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$U\"}"
exchange "POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer $SERVICE\r\nContent-Type: application/json\r\nContent-Length: ${#BODY_JSON}\r\n\r\n$BODY_JSON" \
    'GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
check "a body that was read keeps the connection alive: both requests answered (201, 200)" "2 201 200" \
    "$RESPONSES $(raw_statuses)"
exchange 'GET /api/health HTTP/1.1\r\nHost: t\r\n\r\nGET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
check "two requests in one write (pipelined) are both answered" 2 "$RESPONSES"

# ---- 3: unknown methods are 405 before any body is read ---------------------------------------
for method in PRI PATCH TRACE CONNECT FOO; do
    exchange "$method /api/health HTTP/1.1\r\nHost: t\r\n\r\n"
    check "$method /api/health: 405 with Allow, connection closed" \
        "405 GET, HEAD, POST, DELETE, OPTIONS close" "$(raw_status) $(raw_header Allow) $(raw_header Connection)"
done

exchange 'PRI /api/health HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n'
check "PRI with Expect: 100-continue: 405 at once, the body is never invited" "405 close" "$(raw_statuses) $(raw_header Connection)"
exchange 'POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\r\n' "$SMUGGLED"
check "POST without Content-Length: 411, connection closed, what follows is never answered" "411 close" \
    "$(raw_statuses) $(raw_header Connection)"

shim_hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$SHIM_PID/status"; }
# endless_body NAME HEAD MODE: HEAD, then a body promising 1 GiB (MODE raw: bytes
# without a length; chunked: 1 MiB chunks) written by a background writer for at
# most 6 s. The answer must come within 2 s, the shim must end the connection
# (the writer stops within 5 s), and the shim's peak memory must grow < 64 MiB.
endless_body() {
    local name=$1 head=$2 mode=$3 fd before after line status t0 ms i
    before=$(shim_hwm_kb)
    exec {fd}<>"/dev/tcp/127.0.0.1/$SHIM_PORT"
    t0=$(date +%s%N)
    (
        printf '%b' "$head"
        if [ "$mode" = chunked ]; then
            for ((i = 0; i < 1024; i++)); do
                printf '100000\r\n' && head -c 1048576 /dev/zero && printf '\r\n' || break
            done
            printf '0\r\n\r\n'
        else
            head -c 1073741824 /dev/zero
        fi
    ) >&"$fd" 2>/dev/null &
    WRITER=$!
    status=
    IFS= read -r -t 2 -u "$fd" line && status=$(cut -d' ' -f2 <<<"$line")
    ms=$((($(date +%s%N) - t0) / 1000000))
    for ((i = 0; i < 50; i++)); do kill -0 "$WRITER" 2>/dev/null || break; sleep 0.1; done
    local writer_ended=yes
    if kill -0 "$WRITER" 2>/dev/null; then
        writer_ended=no
        sleep 1  # the old behaviour: let it show in the memory figure, then stop
        kill "$WRITER" 2>/dev/null
    fi
    wait "$WRITER" 2>/dev/null
    WRITER=
    exec {fd}>&-
    after=$(shim_hwm_kb)
    local grew=$(((after - before) / 1024))
    if [ "$status" = 405 ] && [ "$writer_ended" = yes ] && [ "$grew" -lt 64 ]; then
        ok "$name: 405 after $ms ms, connection ended, peak memory +$grew MiB"
    else
        not_ok "$name: 405 within 2 s, the shim ends the connection, memory flat" \
            "status '$status' after $ms ms, writer ended by the shim: $writer_ended, peak memory grew $grew MiB"
    fi
}
endless_body "PRI with a length-less 1 GiB body" 'PRI /api/health HTTP/1.1\r\nHost: t\r\n\r\n' raw
endless_body "PATCH with a chunked 1 GiB body" \
    "PATCH /api/wallet/topup HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer $SERVICE\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" chunked
check "the shim is still up after the endless bodies" yes "$(kill -0 "$SHIM_PID" 2>/dev/null && echo yes || echo no)"

# ---- 4: metric labels from fixed sets ------------------------------------------------------------
for path in /no-such-path-$RANDOM /api/numbers/abc/def/ghi "/api/x%20y"; do api GET "$path" "$T"; done
api GET /metrics "$ADMIN_KEY"
LINES=$(grep '^nw_http_requests_total' "$W/body")
METHODS=$(grep '^nw_http_request_methods_total' "$W/body")
ROUTES='/|/admin|/assets/\{file\}|/api/config|/api/demo/session|/api/numbers/\{id\}/refund-quote|/api/health|/api/numbers/available|/api/numbers/purchase|/api/numbers|/api/numbers/\{id\}|/api/numbers/\{id\}/release|/api/wallet|/api/transactions|/api/wallet/topup|/api/admin/[a-z]+(/\{(id|userId)\}/[a-z]+|/\{userId\})?|/metrics|other'
BAD=$(grep -vE "^nw_http_requests_total\{route=\"($ROUTES)\",status=\"([1-5][0-9][0-9]|[1-5]xx|other)\"\} [0-9]+$" <<<"$LINES")
check "nw_http_requests_total: every label value from its fixed set (route, status)" "" "$BAD"
BAD=$(grep -vE '^nw_http_request_methods_total\{method="(GET|HEAD|POST|DELETE|OPTIONS|other)"\} [0-9]+$' <<<"$METHODS")
check "nw_http_request_methods_total: every method label from its fixed set" "" "$BAD"
check "nw_http_requests_total: bogus methods on /api/health counted as 405" yes \
    "$(grep -qE '^nw_http_requests_total\{route="/api/health",status="405"\} ([5-9]|[1-9][0-9]+)$' <<<"$LINES" && echo yes || echo "no: $(tr '\n' '|' <<<"$LINES")")"
check "nw_http_request_methods_total: bogus methods counted as method=\"other\"" yes \
    "$(grep -qE '^nw_http_request_methods_total\{method="other"\} ([5-9]|[1-9][0-9]+)$' <<<"$METHODS" && echo yes || echo "no: $(tr '\n' '|' <<<"$METHODS")")"
check "nw_http_requests_total: unknown paths counted as route=\"other\"" yes \
    "$(grep -q 'route="other",status="404"' <<<"$LINES" && echo yes || echo no)"

# ---- 10(a): contains ---------------------------------------------------------------------------
api GET "/api/numbers/available?country=US&contains=5" "$T"
expect "a one-character contains: 400 INVALID_REQUEST (not a provider error)" 400 '.code == "INVALID_REQUEST"'
api GET "/api/numbers/available?country=US&contains=*" "$T"
expect "contains=*: 400 INVALID_REQUEST" 400 '.code == "INVALID_REQUEST"'
api GET "/api/numbers/available?country=US&contains=&limit=2" "$T"
expect "an empty contains counts as absent: 200" 200 '(.numbers | type) == "array"'
api GET "/api/numbers/available?country=US&contains=55&limit=2" "$T"
expect "a two-digit contains: 200" 200 '(.numbers | type) == "array"'

# ---- 10(d): Twilio's text stays in the log --------------------------------------------------------
# provider_refusal MODE STATUS CODE TWILIO_TEXT: the buy fails with MODE; the buyer's
# answer (and its replay) has the shim's own message, the log has Twilio's.
N=100
provider_refusal() {
    local mode=$1 want=$2 code=$3 text=$4 key=key-$RANDOM-$RANDOM phone
    phone=$(printf '+1415555%04d' "$N"); N=$((N + 1))
    fake_fail "{\"op\":\"buy\",\"mode\":\"$mode\",\"phoneNumber\":\"$phone\"}"
    api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$phone\"}" -H "Idempotency-Key: $key"
    expect "Twilio $mode: $want $code, refunded" "$want" ".code == \"$code\" and .refunded == true"
    check "Twilio $mode: the answer has the shim's message, not Twilio's text nor the account SID" "" \
        "$(grep -oE "$text|$TW_SID|Twilio" <<<"$BODY" | head -n1)"
    api POST /api/numbers/purchase "$T" "{\"phoneNumber\":\"$phone\"}" -H "Idempotency-Key: $key"
    check "Twilio $mode: the replayed refusal neither" "$want " "$STATUS $(grep -oE "$text|$TW_SID|Twilio" <<<"$BODY" | head -n1)"
    check "Twilio $mode: the number row's failure_reason holds no Twilio text" "" \
        "$(q "SELECT failure_reason FROM number_wallet.business_numbers WHERE phone_number = '$phone'" | grep -oE "$text")"
    check "Twilio $mode: Twilio's text is in the shim's log" yes \
        "$(grep '"the provider refused a purchase"' "$W/shim.log" | grep -q "$text" && echo yes || echo no)"
}
provider_refusal 20003 502 PROVIDER_ERROR Authenticate
provider_refusal 21422 409 NUMBER_UNAVAILABLE "PhoneNumber is not available"
check "the auth token never reaches the log" 0 "$(grep -c -- "$TW_TOKEN" "$W/shim.log")"

# ---- 10(e): a top-up whose balance cannot be read again ------------------------------------------
# The credit (SECURITY DEFINER) still works; the shim's own read of the wallet is refused.
q "REVOKE SELECT ON number_wallet.wallets FROM number_wallet_service, PUBLIC" >/dev/null
before=$(q "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$U'")
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"2.00\",\"currency\":\"USD\",\"userId\":\"$U\"}" -H "Idempotency-Key: reread-$$"
expect "a top-up whose new balance cannot be read: 500 INTERNAL with the transactionId, no made-up balance" 500 \
    '.code == "INTERNAL" and (.transactionId | type) == "number" and .wallet == null'
q "GRANT SELECT ON number_wallet.wallets TO number_wallet_service" >/dev/null
check "the credit itself was recorded once" $((before + 1)) "$(q "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$U'")"
api POST /api/wallet/topup "$SERVICE" "{\"amount\":\"2.00\",\"currency\":\"USD\",\"userId\":\"$U\"}" -H "Idempotency-Key: reread-$$"
expect "repeating it with the same Idempotency-Key replays the credit and reads the balance: 201" 201 \
    '.replayed == true and .wallet.balanceUsd == "7.00"'

# ---- 11: no descriptor cap at FD_SETSIZE -------------------------------------------------------------
check "the shim keeps the descriptor limit it was given ($FD_LIMIT, above FD_SETSIZE)" "$FD_LIMIT" \
    "$(awk '/^Max open files/ {print $4}' "/proc/$SHIM_PID/limits")"

# ---- 429 before the body (IP_RATE_LIMIT_PER_MINUTE) -------------------------------------------------
kill "$SHIM_PID" && wait "$SHIM_PID" 2>/dev/null
SHIM_ENV+=(IP_RATE_LIMIT_PER_MINUTE=1)
start_shim "$W/shim.log" || { not_ok "shim restarts with IP_RATE_LIMIT_PER_MINUTE=1" "$(tail -n 5 "$W/shim.log")"; finish; }
unread_body "429 before the body (IP limit)" 429 'POST /api/wallet/topup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'

check "the shim is still up at the end" yes "$(kill -0 "$SHIM_PID" 2>/dev/null && echo yes || echo no)"
finish
