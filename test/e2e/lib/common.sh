# Helpers for the end-to-end suites (test/e2e/*_test.sh) and test/stress/run.sh (sourced; bash only).
# Reporting, HTTP calls, JWT signing, starting the fake Twilio and the shim,
# the fake's control API and psql.

passed=0
failed=0

# suite_setup NAME: what every end-to-end suite starts with. The binaries under
# test (NW_SHIM_BIN / NW_FAKE_TWILIO_BIN run other builds, e.g.
# test/fuzz/asan_e2e.sh's sanitized ones), the cluster from PGHOST/PGPORT/PGUSER
# (a superuser), and this run's database nw_NAME_<pid> and shim role
# nw_NAME_shim_<pid>. Needs ROOT (the checkout).
suite_setup() {
    SHIM_BIN=${NW_SHIM_BIN:-$ROOT/build/number-wallet-shim}
    FAKE_BIN=${NW_FAKE_TWILIO_BIN:-$ROOT/build/fake-twilio}
    export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
    DB=nw_$1_$$
    ROLE=nw_$1_shim_$$
}

ok()     { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
    failed=$((failed + 1)); echo "not ok - $1"; shift
    local line
    for line in "$@"; do printf '#   %s\n' "${line:0:600}"; done
}
# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got:      $3"; fi
}
# check_true NAME COMMAND... (passes when the command succeeds)
check_true() {
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# ---- HTTP ---------------------------------------------------------------
# api METHOD PATH TOKEN [BODY [curl args...]]: sets STATUS, BODY; headers in $W/headers.
# An empty TOKEN sends no Authorization header. A BODY of "-" sends none.
api() {
    local method=$1 path=$2 token=$3; shift 3
    local args=(-sS -X "$method" -o "$W/body" -D "$W/headers" -w '%{http_code}' --max-time 90)
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    # The optional BODY is the next argument unless it looks like a curl option.
    if [ $# -gt 0 ] && { [ "$1" = "-" ] || [[ $1 != -* ]]; }; then
        if [ "$1" != "-" ]; then
            [[ " $* " == *" Content-Type:"* || " $* " == *" content-type:"* ]] || args+=(-H 'Content-Type: application/json')
            args+=(--data-binary "$1")
        fi
        shift
    fi
    : >"$W/body"; : >"$W/headers"
    STATUS=$(curl "${args[@]}" "$@" "$BASE$path" 2>"$W/curl.err")
    [ -n "$STATUS" ] || STATUS=000
    BODY=$(cat "$W/body")
}
# hdr NAME: the last value of a response header of the last api call.
hdr() { grep -i "^$1:" "$W/headers" | tail -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
# jb FILTER: jq -r over the last body.
jb() { jq -r "$@" <<<"$BODY" 2>/dev/null; }

# expect NAME STATUS [JQ_CONDITION]: the last call answered STATUS and the body satisfies the condition.
expect() {
    local name=$1 want=$2 cond=${3:-true}
    # Every error answers {"error": "<message>", "code": "<CODE>"} (docs/http-api.md).
    if [[ $want == [45]?? ]] && [ -z "${NO_ERROR_SHAPE:-}" ]; then cond="($cond) and (.error | type) == \"string\" and (.code | type) == \"string\""; fi
    if [ "$STATUS" = "$want" ] && { [ "$cond" = true ] || jq -e "$cond" >/dev/null 2>&1 <<<"$BODY"; }; then
        ok "$name"
    else
        not_ok "$name" "expected HTTP $want and body matching: $cond" "got HTTP $STATUS: ${BODY:0:400}" \
            "$(cat "$W/curl.err" 2>/dev/null)"
    fi
}

# ---- JWT (HS256 signed here with openssl) --------------------------------
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# jwt HEADER_JSON PAYLOAD_JSON SECRET
jwt() {
    local h p s
    h=$(printf '%s' "$1" | b64url)
    p=$(printf '%s' "$2" | b64url)
    s=$(printf '%s' "$h.$p" | openssl dgst -sha256 -hmac "$3" -binary | b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}
now_s() { date +%s; }
uuid() { cat /proc/sys/kernel/random/uuid; }

# ---- psql (superuser) ----------------------------------------------------
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1" 2>&1; }
qpg() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "$1" 2>&1; }
balance() { q "SELECT coalesce((SELECT balance_usd::text FROM number_wallet.wallets WHERE user_id = '$1'), '0.00')"; }
row_status() { q "SELECT status FROM number_wallet.business_numbers WHERE id = '$1'"; }
row_sid() { q "SELECT coalesce(twilio_sid, '') FROM number_wallet.business_numbers WHERE id = '$1'"; }

# ---- processes -------------------------------------------------------------
# Both binaries bind a free port themselves (port 0) and say which: no race
# between choosing a port and binding it.

# start_fake LOG [FAKE ARGS...]: $FAKE_BIN on a free port; sets FAKE_PID and FAKE.
start_fake() {
    local log=$1 port i
    shift
    "$FAKE_BIN" --port 0 "$@" >"$log" 2>&1 &
    FAKE_PID=$!
    for i in $(seq 1 100); do grep -q '^listening on' "$log" && break; sleep 0.05; done
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] || return 1
    FAKE=http://127.0.0.1:$port
}

# start_shim LOG: `$SHIM_BIN serve` from $W with SHIM_ENV, until /api/health
# answers. The first start takes a free port and keeps it in SHIM_PORT, so a
# restart (after kill -9, say) serves the same BASE. Sets SHIM_PID and BASE.
start_shim() {
    local log=$1 port i
    (cd "$W" && exec env -i "${SHIM_ENV[@]}" PORT="${SHIM_PORT:-0}" "$SHIM_BIN" serve) >>"$log" 2>&1 &
    SHIM_PID=$!
    for i in $(seq 1 150); do
        if [ -z "${SHIM_PORT:-}" ]; then
            port=$(grep '"msg":"listening"' "$log" 2>/dev/null | tail -n 1 | jq -r '.port // empty' 2>/dev/null || true)
            [ -n "$port" ] && SHIM_PORT=$port BASE=http://127.0.0.1:$port
        fi
        [ -n "${SHIM_PORT:-}" ] && curl -s -o /dev/null --max-time 1 "$BASE/api/health" && return 0
        kill -0 "$SHIM_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ---- the fake Twilio ------------------------------------------------------
fake() { # fake METHOD PATH [JSON]
    if [ $# -ge 3 ]; then
        curl -sS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" --max-time 10 "$FAKE$2"
    else
        curl -sS -X "$1" --max-time 10 "$FAKE$2"
    fi
}
fake_state() { fake GET /__control/state; }
fake_fail() { fake POST /__control/fail "$1" >/dev/null; }
# fake_wait_buys OP N: waits (at most about 15 s) until the fake's buysInFlight OP N holds
# (OP is a test(1) comparison: -eq, -ge); returns 1 if it never does.
fake_wait_buys() {
    local _
    for _ in $(seq 1 300); do
        [ "$(fake_state | jq .buysInFlight)" "$1" "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
fake_calls() { fake_state | jq -r ".calls.$1"; }
# fake_owned PHONE: "sid friendlyName" lines of owned numbers with that phone number.
fake_owned() { fake_state | jq -r --arg p "$1" '.owned[] | select(.phoneNumber == $p) | "\(.sid) \(.friendlyName)"'; }
fake_owns_sid() { fake_state | jq -e --arg s "$1" 'any(.owned[]; .sid == $s)' >/dev/null; }
# drain_rules: consume every injected failure rule left (list and release rules only)
# by calling the fake directly, so later passes see a healthy Twilio. A drained
# release rule answers 500 without deleting anything.
drain_rules() {
    local rules rule op phone sid count i
    rules=$(fake_state | jq -c '.rules[]')
    while IFS= read -r rule; do
        [ -n "$rule" ] || continue
        op=$(jq -r .op <<<"$rule"); phone=$(jq -r .phoneNumber <<<"$rule")
        sid=$(jq -r .sid <<<"$rule"); count=$(jq -r .count <<<"$rule")
        [ "$op" = list ] || [ "$op" = release ] || continue
        [ "$count" -gt 0 ] || { echo "# cannot drain an always-failing rule: $rule"; continue; }
        for ((i = 0; i < count; i++)); do
            case $op in
            list) curl -sS -o /dev/null -G -u "$TW_SID:$TW_TOKEN" --data-urlencode "PhoneNumber=$phone" \
                      "$FAKE/2010-04-01/Accounts/$TW_SID/IncomingPhoneNumbers.json" ;;
            release) curl -sS -o /dev/null -X DELETE -u "$TW_SID:$TW_TOKEN" \
                      "$FAKE/2010-04-01/Accounts/$TW_SID/IncomingPhoneNumbers/$sid.json" ;;
            *) echo "# cannot drain rule $rule"; break ;;
            esac
        done
    done <<<"$rules"
}

# ---- money and inventory agreement ---------------------------------------
# inventory_problems USER: prints one line per row of USER whose state the fake disagrees with.
inventory_problems() {
    local state rows id status sid phone prel
    state=$(fake_state)
    rows=$(q "SELECT id, status, coalesce(twilio_sid, '-'), phone_number, (provider_released_at IS NOT NULL)
                FROM number_wallet.business_numbers WHERE user_id = '$1' AND provider = 'twilio'")
    while IFS='|' read -r id status sid phone prel; do
        [ -n "$id" ] || continue
        case $status in
        active)
            jq -e --arg s "$sid" --arg i "$id" 'any(.owned[]; .sid == $s and .friendlyName == $i)' >/dev/null <<<"$state" ||
                echo "active row $id ($phone, $sid) is not owned by the fake with FriendlyName = id" ;;
        pending)
            echo "row $id ($phone) is still pending" ;;
        failed)
            ! jq -e --arg i "$id" 'any(.owned[]; .friendlyName == $i)' >/dev/null <<<"$state" ||
                echo "failed row $id ($phone): the fake owns a number tagged with it" ;;
        released)
            if [ "$prel" = t ]; then
                ! jq -e --arg s "$sid" 'any(.owned[]; .sid == $s)' >/dev/null <<<"$state" ||
                    echo "released row $id: provider_released_at set but the fake still owns $sid"
            else
                jq -e --arg s "$sid" 'any(.owned[]; .sid == $s)' >/dev/null <<<"$state" ||
                    echo "released row $id: deletion pending but the fake no longer owns $sid"
            fi ;;
        esac
    done <<<"$rows"
}
# agree NAME USER EXPECTED_BALANCE: balance, ledger and inventory agree.
agree() {
    local name=$1 user=$2 want=$3 bal recon problems
    bal=$(balance "$user")
    recon=$(q "SELECT count(*) FROM number_wallet.wallet_reconcile() WHERE user_id = '$user'")
    problems=$(inventory_problems "$user")
    if [ "$bal" = "$want" ] && [ "$recon" = 0 ] && [ -z "$problems" ]; then
        ok "$name: money and inventory agree (balance $want)"
    else
        not_ok "$name: money and inventory agree" "balance $bal (expected $want), wallet_reconcile rows: $recon" \
            "${problems:-inventory ok}"
    fi
}

# ---- suite set-up (the shim suites) -----------------------------------------
# finish: the summary line (with the run time when STARTED is set); exits
# non-zero when a check failed.
finish() {
    [ -z "${STARTED:-}" ] || echo "# took $(($(date +%s) - STARTED)) s"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
# require_suite_tools TOOL...: the tools, the shim and the fake Twilio are there; else the suite ends.
require_suite_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { not_ok "tool $tool is installed"; finish; }
    done
    [ -x "$SHIM_BIN" ] && [ -x "$FAKE_BIN" ] || { not_ok "build/number-wallet-shim and build/fake-twilio exist (run make)"; finish; }
}
# create_suite_database: database $DB with the extension, and the shim's login
# $ROLE holding number_wallet_service; else the suite ends.
create_suite_database() {
    local out
    out=$(qpg "CREATE DATABASE \"$DB\"") || { not_ok "create database $DB" "$out"; finish; }
    out=$(q "CREATE EXTENSION number_wallet;
             CREATE ROLE \"$ROLE\" LOGIN;
             GRANT number_wallet_service TO \"$ROLE\";") ||
        { not_ok "create extension and shim role" "$out"; finish; }
}
