#!/usr/bin/env bash
# test/stress/run.sh [--short] [--keep-logs]: stress with invariants (issue 4).
#
#   make stress                the long version (a few minutes)
#   test/stress/run.sh --short the short version (< 90 s; part of `make test`)
#
# Everything runs on a throwaway PostgreSQL 15 cluster of its own
# (/var/tmp/nw-stress-$$, a free port from 27000 on, below the
# kernel's range for outgoing connections; scripts/lib.sh starts it,
# as the postgres user when run as root) because the fault scenarios stop
# PostgreSQL with -m immediate. The shared development cluster is not touched.
# The extension must already be installed (make install / make test do it),
# and build/number-wallet-shim and build/fake-twilio built.
#
# Scenarios (each prints operations, faults injected and invariant violations):
#   sql-contention  many connections, 5 users, 20 phone numbers: random credits,
#                   purchases, confirms, fails, releases, provider deletions,
#                   renewals falling due, adjustments and idempotent replays
#                   (test/stress/driver.cpp), then test/stress/invariants.sql
#   sql-races       concurrent purchases past the rate limit, concurrent calls
#                   with one idempotency key (credits and purchases)
#   sql-crash       the same load while PostgreSQL is stopped with -m immediate
#                   and restarted; then the invariants, and every top-up a caller
#                   was told succeeded is still there
#   shim-chaos      HTTP load through the shim against the fake Twilio while the
#                   shim is killed (-9) at random points of its sagas, Twilio fails
#                   in every way of issue 3 (21422, 500, 503, timeout,
#                   timeout_after, lost_response, lost_response_drop, 429,
#                   malformed), renewals fall due (and PostgreSQL is crashed once
#                   in the long version); then one `number-wallet-shim reconcile`,
#                   the invariants, and Twilio's inventory = the database's
#   failover        (long version only) test/e2e/failover_test.sh with more buyers
#                   and a minute of load after each failover
# Ends with "N passed, N failed"; exits non-zero when a check failed.
# Environment: NW_STRESS_SEED makes the random choices repeatable as far as
# thread timing allows (default: random; 1 for --short, so that the short run in
# the test command explores the same schedule each time, as the short fuzz run
# does; the long runs keep exploring).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHORT=0
KEEP_LOGS=0
for arg in "$@"; do
    case $arg in
    --short) SHORT=1 ;;
    --keep-logs) KEEP_LOGS=1 ;;
    -h | --help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [ "$SHORT" = 1 ]; then
    SQL_SECONDS=12 SQL_THREADS=16
    CRASH_SECONDS=12 CRASHES=1
    SHIM_SECONDS=18 SHIM_WORKERS=6 SHIM_PG_CRASHES=0
else
    SQL_SECONDS=90 SQL_THREADS=32
    CRASH_SECONDS=75 CRASHES=4
    SHIM_SECONDS=110 SHIM_WORKERS=10 SHIM_PG_CRASHES=1
fi
if [ "$SHORT" = 1 ]; then
    SEED=${NW_STRESS_SEED:-1}
else
    SEED=${NW_STRESS_SEED:-$((RANDOM * 32768 + RANDOM))}
fi
RANDOM=$SEED
USERS=5
PHONES=20
STARTED=$(date +%s)

WORK=/var/tmp/nw-stress-$$
SHIM_BIN=$ROOT/build/number-wallet-shim
FAKE_BIN=$ROOT/build/fake-twilio

# The fault scenarios stop PostgreSQL: always a cluster of our own.
unset PGDATABASE PGSERVICE PGOPTIONS PGPASSWORD PGHOSTADDR
export NW_CLUSTER_DIR=$WORK/pg
export NW_PG_PORT=$((27000 + RANDOM % 4000))
mkdir -p "$WORK"
chmod 755 "$WORK"
# shellcheck source=../../scripts/lib.sh
source "$ROOT/scripts/lib.sh"
set +e +o pipefail
# Reporting (ok/not_ok/check, passed/failed) and the fake's helpers (fake_state,
# drain_rules: they use $FAKE, $TW_SID, $TW_TOKEN, $W).
# shellcheck source=../e2e/lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"
W=$WORK/tmp
mkdir -p "$W"
LOGS=$WORK/logs
mkdir -p "$LOGS"
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token

SHIM_PID=
FAKE_PID=
BG_PIDS=()
SUMMARY=()

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    [ -n "$SHIM_PID" ] && kill -9 "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    for pid in "${BG_PIDS[@]}" $SHIM_PID $FAKE_PID; do wait "$pid" 2>/dev/null; done
    if [ -f "$CLUSTER_DIR/data/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1; then
        pg_ctl_ -m immediate stop >/dev/null 2>&1
    fi
    if [ "$failed" -gt 0 ] || [ "$KEEP_LOGS" = 1 ]; then
        local keep=/var/tmp/nw-stress-logs-$$
        rm -rf "$keep"
        cp -r "$LOGS" "$keep" 2>/dev/null
        cp "$CLUSTER_DIR/postgresql.log" "$keep/" 2>/dev/null
        echo "# logs kept in $keep"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    echo
    echo "# summary (seed $SEED, $(($(date +%s) - STARTED)) s):"
    local line
    for line in "${SUMMARY[@]}"; do echo "#   $line"; done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

now_ms() { date +%s%3N; }
psql_() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# ---- set-up ----------------------------------------------------------------
for tool in curl jq openssl psql g++ pg_config; do
    command -v "$tool" >/dev/null || { not_ok "tool $tool is installed"; finish; }
done
[ -x "$SHIM_BIN" ] && [ -x "$FAKE_BIN" ] || { not_ok "build/number-wallet-shim and build/fake-twilio exist (run make)"; finish; }
# The server's own pg_config: with NW_PG_ROOT (scripts/lib.sh) that is the private copy.
[ -f "$("${PG_BINDIR:+$PG_BINDIR/}pg_config" --sharedir)/extension/number_wallet.control" ] ||
    { not_ok "the extension is installed (make install)"; finish; }

# The SQL driver, compiled once per version of its source.
DRIVER_SRC=$ROOT/test/stress/driver.cpp
DRIVER_CACHE=${TMPDIR:-/tmp}/nw-stress-driver
DRIVER=$DRIVER_CACHE/driver-$(cat "$DRIVER_SRC" | md5sum | cut -c1-16)
if [ ! -x "$DRIVER" ]; then
    mkdir -p "$DRIVER_CACHE"
    if ! g++ -std=c++17 -O2 -pthread "$DRIVER_SRC" -I"$(pg_config --includedir)" -lpq -o "$DRIVER.tmp.$$" 2>"$LOGS/driver-build.log"; then
        not_ok "build the SQL load driver" "$(tail -n 5 "$LOGS/driver-build.log")"
        finish
    fi
    mv "$DRIVER.tmp.$$" "$DRIVER"
fi

if ! cluster_start >"$LOGS/cluster.log" 2>&1; then
    not_ok "start a throwaway PostgreSQL cluster in $CLUSTER_DIR" "$(tail -n 5 "$LOGS/cluster.log")"
    finish
fi
PGLOG=$CLUSTER_DIR/postgresql.log
# Every server-side error is logged with its database and SQLSTATE.
psql_ -d postgres -c "ALTER SYSTEM SET log_line_prefix = '%m %d %e '" -c "SELECT pg_reload_conf()" >/dev/null
MODE_NAME=long; [ "$SHORT" = 1 ] && MODE_NAME=short
echo "# stress ($MODE_NAME) on a throwaway cluster at 127.0.0.1:$PGPORT, seed $SEED"

pg_restart_immediate() { # SECONDS_DOWN
    pg_ctl_ -m immediate stop >/dev/null 2>&1
    sleep "$1"
    pg_ctl_ -w -t 60 -l "$PGLOG" -o "-p $PGPORT" start >/dev/null 2>&1
}
pg_wait_up() {
    local i
    for i in $(seq 1 120); do
        psql_ -d postgres -c "SELECT 1" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

new_db() { # NAME [MAX_PURCHASES_PER_HOUR]
    psql_ -d postgres -c "CREATE DATABASE \"$1\"" >/dev/null &&
        psql_ -d "$1" -c "SET client_min_messages = warning" -c "CREATE EXTENSION number_wallet" \
            -c "ALTER DATABASE \"$1\" SET number_wallet.max_purchases_per_hour = ${2:-0}" >/dev/null
}

# server_errors DB SOURCE: the SQLSTATEs of ERROR lines the server logged for DB, as outcome rows.
server_errors() {
    awk -v db="$1" -v src="$2" '$4 == db && $6 == "ERROR:" { n[$5]++ } END { for (s in n) print src ",server," s "," n[s] }' "$PGLOG"
}

# load_and_check DB DIR TOLD_TRACKED: loads what the callers saw (DIR/*.csv) into nw_stress.*,
# runs invariants.sql; sets VIOLATIONS and prints the first ones.
load_and_check() {
    local db=$1 dir=$2 tracked=$3 f
    for f in told_topups uncertain_topups told_purchases outcomes client_violations; do touch "$dir/$f.csv"; done
    server_errors "$db" server-log >>"$dir/outcomes.csv"
    psql_ -d "$db" -f "$ROOT/test/stress/invariants.sql" >/dev/null 2>"$dir/invariants.err"
    if ! psql_ -d "$db" >>"$dir/invariants.err" 2>&1 <<SQL; then
TRUNCATE nw_stress.meta, nw_stress.told_topups, nw_stress.uncertain_topups, nw_stress.told_purchases,
         nw_stress.outcomes, nw_stress.client_violations;
INSERT INTO nw_stress.meta VALUES ($tracked);
\copy nw_stress.told_topups FROM '$dir/told_topups.csv' WITH (FORMAT csv)
\copy nw_stress.uncertain_topups FROM '$dir/uncertain_topups.csv' WITH (FORMAT csv)
\copy nw_stress.told_purchases FROM '$dir/told_purchases.csv' WITH (FORMAT csv)
\copy nw_stress.outcomes FROM '$dir/outcomes.csv' WITH (FORMAT csv)
\copy nw_stress.client_violations FROM '$dir/client_violations.csv' WITH (FORMAT csv)
SQL
        VIOLATIONS=1
        echo "#   could not load the callers' records: $(tail -n 3 "$dir/invariants.err")"
        return
    fi
    psql_ -F ' | ' -d "$db" -f "$ROOT/test/stress/invariants.sql" >"$dir/violations.txt" 2>>"$dir/invariants.err" ||
        echo "invariants.sql | failed to run: $(tail -n 2 "$dir/invariants.err")" >>"$dir/violations.txt"
    VIOLATIONS=$(grep -c . "$dir/violations.txt")
    head -n 15 "$dir/violations.txt" | sed 's/^/#   violation: /' | cut -c1-400
}

# table_summary DB: what the load left in the tables.
table_summary() {
    psql_ -d "$1" -c "SELECT 'numbers: ' || (SELECT string_agg(status || '=' || c, ' ') FROM (SELECT status, count(*) c FROM number_wallet.business_numbers GROUP BY 1 ORDER BY 1) s)
        || '; ledger: ' || (SELECT string_agg(kind || '=' || c, ' ') FROM (SELECT kind, count(*) c FROM number_wallet.transactions GROUP BY 1 ORDER BY 1) s)
        || '; released by the renewal grace: ' || (SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'released' AND notes LIKE '%renewal unpaid%')"
}
# driver_outcomes DIR SOURCE: the driver's sqlstates.csv (op,state,n) as outcome rows.
driver_outcomes() { sed "s/^/$2,/" "$1/sqlstates.csv" >>"$1/outcomes.csv"; sed "s/^/$2,/" "$1/client_violations.csv" >"$1/cv" && mv "$1/cv" "$1/client_violations.csv"; }
# ops DIR: operations the driver ran (row picks not counted).
driver_ops() { awk -F, '$1 != "pick" { n += $3 } END { print n + 0 }' "$1/sqlstates.csv"; }
state_summary() { awk -F, '$1 != "pick" && $2 != "ok" { n[$2] += $3 } END { s = ""; for (k in n) s = s (s ? " " : "") k "=" n[k]; print s }' "$1/sqlstates.csv"; }

# ============================================================================
# 1. sql-contention
# ============================================================================
scenario_sql_contention() {
    local db=nw_stress_sql dir=$LOGS/sql-contention out ops
    mkdir -p "$dir"
    echo "# -- sql-contention: $SQL_THREADS connections, $USERS users, $PHONES phone numbers, $SQL_SECONDS s"
    new_db "$db" || { not_ok "sql-contention: create database"; return; }
    out=$("$DRIVER" --conn "host=127.0.0.1 port=$PGPORT user=$PGUSER dbname=$db" --threads "$SQL_THREADS" \
        --seconds "$SQL_SECONDS" --users "$USERS" --phones "$PHONES" --seed "$SEED" --out "$dir" 2>&1)
    echo "#   driver: $out" | head -n 5
    driver_outcomes "$dir" sql
    load_and_check "$db" "$dir" true
    ops=$(driver_ops "$dir")
    echo "#   outcomes: $(state_summary "$dir"); $(table_summary "$db")"
    check "sql-contention: $ops operations, every invariant holds (violations)" 0 "$VIOLATIONS"
    [ "$ops" -gt 0 ] && ok "sql-contention: the load ran ($ops operations)" || not_ok "sql-contention: the load ran" "$out"
    SUMMARY+=("sql-contention: $ops operations, 0 faults, $VIOLATIONS violations")
    psql_ -d postgres -c "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null
}

# ============================================================================
# 2. sql-races: rate limit and one idempotency key under concurrency
# ============================================================================
scenario_sql_races() {
    local db=nw_stress_races dir=$LOGS/sql-races n=24 i rows states
    mkdir -p "$dir"
    echo "# -- sql-races: $n concurrent calls each: purchases past the rate limit (10/h), one credit key, one purchase key"
    new_db "$db" 10 || { not_ok "sql-races: create database"; return; }
    local u1=7ace0000-0000-4000-8000-000000000001 u2=7ace0000-0000-4000-8000-000000000002
    psql_ -d "$db" -c "SELECT number_wallet.wallet_credit('$u1', 100, 'USD', 'Top-up', 'seed-1'),
                              number_wallet.wallet_credit('$u2', 100, 'USD', 'Top-up', 'seed-2')" >/dev/null
    run_parallel() { # LABEL SQL_TEMPLATE (%i = call number)
        local label=$1 tpl=$2 pids=() j
        for j in $(seq 1 $n); do
            psql -X -q -At -v VERBOSITY=verbose -d "$db" -c "${tpl//%i/$j}" >"$dir/$label.$j" 2>&1 &
            pids+=($!)
        done
        wait "${pids[@]}"
    }
    run_parallel ratelimit "SELECT number_wallet.purchase_number('$u1', '+1303555' || lpad('%i', 4, '0'), 1.15)"
    rows=$(psql_ -d "$db" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE user_id = '$u1'")
    states=$(cat "$dir"/ratelimit.* | grep -oE 'ERROR: +[0-9A-Z]{5}' | awk '{print $2}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
    check "sql-races: $n concurrent purchases with max_purchases_per_hour = 10 create exactly 10 rows (errors: $states)" 10 "$rows"
    check "sql-races: the other $((n - 10)) are NW005" "$((n - 10))" "$(cat "$dir"/ratelimit.* | grep -c 'ERROR:  NW005')"
    run_parallel credit "SELECT number_wallet.wallet_credit('$u2', 7.77, 'USD', 'Top-up', 'one-key')->>'replayed'"
    check "sql-races: $n concurrent credits with one key: one ledger entry, the rest replays" "1 1 $((n - 1))" \
        "$(psql_ -d "$db" -c "SELECT count(*) FROM number_wallet.transactions WHERE user_id = '$u2' AND idempotency_key = 'one-key'") $(cat "$dir"/credit.* | grep -cx false) $(cat "$dir"/credit.* | grep -cx true)"
    run_parallel purchase "SELECT number_wallet.purchase_number('$u2', '+13035559999', 1.15, 'USD', NULL, 'one-purchase-key')->>'replayed'"
    check "sql-races: $n concurrent purchases with one key: one number, one debit, the rest replays" "1 1 1 $((n - 1))" \
        "$(psql_ -d "$db" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE idempotency_key = 'one-purchase-key'") $(psql_ -d "$db" -c "SELECT count(*) FROM number_wallet.transactions t JOIN number_wallet.business_numbers n ON n.id = t.number_id WHERE n.idempotency_key = 'one-purchase-key'") $(cat "$dir"/purchase.* | grep -cx false) $(cat "$dir"/purchase.* | grep -cx true)"
    # Many users, one phone number: exactly one holder.
    run_parallel onephone "SELECT number_wallet.wallet_credit(('7ace0000-0000-4000-8000-0000000001' || lpad('%i', 2, '0'))::uuid, 5, 'USD', 'Top-up', 'k%i'), number_wallet.purchase_number(('7ace0000-0000-4000-8000-0000000001' || lpad('%i', 2, '0'))::uuid, '+13035558888', 1.15)"
    check "sql-races: $n users buy one phone number at once: one holder, the rest NW002" "1 $((n - 1))" \
        "$(psql_ -d "$db" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE phone_number = '+13035558888'") $(cat "$dir"/onephone.* | grep -c 'ERROR:  NW002')"
    load_and_check "$db" "$dir" false
    check "sql-races: every invariant holds (violations)" 0 "$VIOLATIONS"
    SUMMARY+=("sql-races: $((4 * n + 2)) operations in 4 bursts of $n, 0 faults, $VIOLATIONS violations")
    psql_ -d postgres -c "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null
}

# ============================================================================
# 3. sql-crash: PostgreSQL stopped with -m immediate under load
# ============================================================================
scenario_sql_crash() {
    local db=nw_stress_crash dir=$LOGS/sql-crash out ops i crashes=0 dpid conn
    mkdir -p "$dir"
    echo "# -- sql-crash: $SQL_THREADS connections, $CRASH_SECONDS s, PostgreSQL stopped with -m immediate $CRASHES times"
    new_db "$db" || { not_ok "sql-crash: create database"; return; }
    "$DRIVER" --conn "host=127.0.0.1 port=$PGPORT user=$PGUSER dbname=$db connect_timeout=2" --threads "$SQL_THREADS" \
        --seconds "$CRASH_SECONDS" --users "$USERS" --phones "$PHONES" --seed "$((SEED + 1))" --out "$dir" \
        --crash-tolerant >"$dir/driver.out" 2>&1 &
    dpid=$!
    BG_PIDS+=("$dpid")
    local gap=$((CRASH_SECONDS * 1000 / (CRASHES + 1)))
    for i in $(seq 1 "$CRASHES"); do
        sleep "$(((gap * 7 / 10 + RANDOM % (gap * 6 / 10)) / 1000)).$(printf %03d $((RANDOM % 1000)))"
        kill -0 "$dpid" 2>/dev/null || break
        pg_restart_immediate "0.$((RANDOM % 9 + 1))" && crashes=$((crashes + 1))
    done
    wait "$dpid"
    pg_wait_up || { not_ok "sql-crash: PostgreSQL comes back"; return; }
    out=$(cat "$dir/driver.out")
    echo "#   driver: $out" | head -n 5
    driver_outcomes "$dir" sql
    load_and_check "$db" "$dir" true
    ops=$(driver_ops "$dir")
    conn=$(awk -F, '$2 == "conn" { n += $3 } END { print n + 0 }' "$dir/sqlstates.csv")
    echo "#   outcomes: $(state_summary "$dir"); calls cut by a crash: $conn, top-ups whose answer was lost: $(grep -c . "$dir/uncertain_topups.csv")"
    echo "#   $(table_summary "$db")"
    check "sql-crash: PostgreSQL stopped with -m immediate and restarted under load" "$CRASHES" "$crashes"
    check "sql-crash: $ops operations, $crashes crashes, every invariant holds (violations)" 0 "$VIOLATIONS"
    SUMMARY+=("sql-crash: $ops operations, $crashes immediate stops ($conn calls cut), $VIOLATIONS violations")
    psql_ -d postgres -c "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null
}

# ============================================================================
# 4. shim-chaos: HTTP load, shim kill -9, Twilio failures, then one reconcile
# ============================================================================
SDB=nw_stress_shim
ROLE=nw_stress_shim_$$
SECRET=stress-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
PRICE=1.15

token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }

# http DIR METHOD PATH TOKEN [BODY] [curl args]: sets HS (status) and HB (body file).
http() {
    local dir=$1 method=$2 path=$3 tok=$4; shift 4
    local args=(-s -X "$method" -o "$dir/body" -w '%{http_code}' --max-time 70 -H "Authorization: Bearer $tok")
    if [ $# -gt 0 ] && [[ $1 != -* ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$1"); shift; fi
    : >"$dir/body"
    HS=$(curl "${args[@]}" "$@" "$BASE$path" 2>/dev/null)
    [ -n "$HS" ] || HS=000
    HB=$dir/body
}

# pick_number STATUS: a random number in STATUS and its owner's index in
# USER_IDS; sets the caller's id and ui, fails when there is none.
pick_number() {
    local owner
    read -r id owner < <(psql_ -F ' ' -d "$SDB" -c "SELECT id, user_id FROM number_wallet.business_numbers WHERE status = '$1' ORDER BY random() LIMIT 1" 2>/dev/null)
    [ -n "${id:-}" ] || return 1
    for ((ui = 0; ui < USERS; ui++)); do [ "${USER_IDS[$ui]}" = "$owner" ] && return 0; done
    return 1
}

shim_worker() {
    local wid=$1 dir=$LOGS/shim-chaos/w$1 n=0 r u ui phone key amt id code body
    local tkey= tuser= tamt= pkey= puser= pphone= pui=
    mkdir -p "$dir"
    while [ "$(date +%s)" -lt "$SHIM_END" ]; do
        n=$((n + 1)); r=$((RANDOM % 100)); ui=$((RANDOM % USERS)); u=${USER_IDS[$ui]}
        if [ $r -lt 18 ]; then
            op=topup
            if [ -n "$tkey" ] && [ $((RANDOM % 4)) = 0 ]; then key=$tkey u=$tuser amt=$tamt; op=topup_replay
            else
                key=t-$$-$wid-$n amt=$((1 + RANDOM % 4)).$(printf %02d $((RANDOM % 100)))
                # The last user is kept poor (its set-up money only): its renewals go unpaid.
                [ "$ui" = $((USERS - 1)) ] && u=${USER_IDS[0]}
            fi
            http "$dir" POST /api/wallet/topup "$SERVICE" "{\"amount\":\"$amt\",\"currency\":\"USD\",\"userId\":\"$u\"}" \
                -H "Idempotency-Key: $key"
            case $HS in
            201) echo "$u,$key,$amt,USD" >>"$dir/told_topups.csv"; tkey=$key tuser=$u tamt=$amt ;;
            000 | 5??) echo "$u,$key" >>"$dir/uncertain_topups.csv" ;;
            esac
        elif [ $r -lt 60 ]; then
            op=purchase
            phone=$(printf '+1415555%04d' $((100 + RANDOM % PHONES)))
            if [ -n "$pkey" ] && [ $((RANDOM % 7)) = 0 ]; then key=$pkey ui=$pui u=$puser phone=$pphone; op=purchase_replay
            else key=p-$$-$wid-$n; fi
            http "$dir" POST /api/numbers/purchase "${USER_TOKENS[$ui]}" "{\"phoneNumber\":\"$phone\"}" -H "Idempotency-Key: $key"
            case $HS in
            201 | 202)
                id=$(jq -r '.number.id // empty' "$HB")
                [ -n "$id" ] && echo "$id,$u,$phone" >>"$dir/told_purchases.csv"
                pkey=$key pui=$ui puser=$u pphone=$phone ;;
            esac
        elif [ $r -lt 84 ]; then
            op=release
            pick_number active || continue
            if [ $((RANDOM % 10)) = 0 ]; then op=release_wrong_user; ui=$(((ui + 1 + RANDOM % (USERS - 1)) % USERS)); fi
            http "$dir" DELETE "/api/numbers/$id/release" "${USER_TOKENS[$ui]}"
        elif [ $r -lt 92 ]; then
            op=release_replay
            pick_number released || continue
            http "$dir" DELETE "/api/numbers/$id/release" "${USER_TOKENS[$ui]}"
            if [ "$HS" = 200 ] && ! jq -e '.replayed == true' "$HB" >/dev/null 2>&1; then
                echo "shim,release replay not reported as replayed,$id $(tr -d ',\n' <"$HB" | cut -c1-200)" >>"$dir/client_violations.csv"
            fi
        else
            op=wallet
            http "$dir" GET /api/wallet "${USER_TOKENS[$ui]}"
        fi
        code=
        case $HS in 4?? | 5??) code=$(jq -r '.code // "?"' "$HB" 2>/dev/null) ;; esac
        echo "$op $HS ${code:--}" >>"$dir/http"
        [ "$HS" = 000 ] && sleep 0.2  # the shim is down (killed): do not spin
        if [ "$HS" = 500 ] || { [ "$op" = release_wrong_user ] && [ "$HS" = 200 ]; }; then
            echo "shim,$op answered $HS,$(tr -d ',\n' <"$HB" | cut -c1-200)" >>"$dir/client_violations.csv"
        fi
    done
}

scenario_shim_chaos() {
    local dir=$LOGS/shim-chaos i now kills=0 pgcrashes=0 rules=0 dues=0 cut=0 inflight_at_kill=0
    local -A modes=()
    mkdir -p "$dir"
    echo "# -- shim-chaos: $SHIM_WORKERS HTTP clients, $USERS users, $PHONES phone numbers, $SHIM_SECONDS s; shim kill -9, Twilio failures, renewals due, $SHIM_PG_CRASHES PostgreSQL immediate stops"
    new_db "$SDB" || { not_ok "shim-chaos: create database"; return; }
    psql_ -d "$SDB" -c "CREATE ROLE \"$ROLE\" LOGIN" -c "GRANT number_wallet_service TO \"$ROLE\"" >/dev/null ||
        { not_ok "shim-chaos: create the shim's role"; return; }

    start_fake "$LOGS/fake.log" --buy-delay-ms 250 --timeout-sleep-ms 2500 ||
        { not_ok "shim-chaos: the fake Twilio starts" "$(tail -n 5 "$LOGS/fake.log")"; return; }
    SHIM_ENV=(
        PATH="$PATH" HOME="${HOME:-/tmp}"
        DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$SDB?connect_timeout=3"
        SUPABASE_JWT_SECRET="$SECRET"
        TWILIO_TESTING_MODE=false
        TWILIO_API_BASE="$FAKE"
        TWILIO_ACCOUNT_SID="$TW_SID"
        TWILIO_AUTH_TOKEN="$TW_TOKEN"
        TWILIO_TIMEOUT_MS=1500
        NUMBER_MONTHLY_PRICE="$PRICE"
        RECONCILE_INTERVAL_SECONDS=4
        RECONCILE_PENDING_AFTER_SECONDS=60
    )
    start_shim "$LOGS/shim.log" || { not_ok "shim-chaos: the shim starts" "$(tail -n 5 "$LOGS/shim.log")"; return; }
    SERVICE=$(token --service --ttl 3600)
    USER_IDS=() USER_TOKENS=()
    for i in $(seq 0 $((USERS - 1))); do
        USER_IDS[$i]=$(printf 'c4a05000-0000-4000-8000-%012d' $((i + 1)))
        USER_TOKENS[$i]=$(token --sub "${USER_IDS[$i]}" --ttl 3600)
        mkdir -p "$dir/setup"
        http "$dir/setup" POST /api/wallet/topup "$SERVICE" "{\"amount\":\"6.00\",\"currency\":\"USD\",\"userId\":\"${USER_IDS[$i]}\"}" \
            -H "Idempotency-Key: setup-$i"
        [ "$HS" = 201 ] && echo "${USER_IDS[$i]},setup-$i,6.00,USD" >>"$dir/setup/told_topups.csv" ||
            { not_ok "shim-chaos: initial top-up" "HTTP $HS $(cat "$HB")"; return; }
    done

    SHIM_END=$(($(date +%s) + SHIM_SECONDS))
    local wpids=()
    for i in $(seq 1 "$SHIM_WORKERS"); do
        shim_worker "$i" &
        wpids+=($!); BG_PIDS+=($!)
    done
    # The chaos: one fault every 0.7-2.5 s until the end.
    local pg_crash_at=$(($(date +%s) + SHIM_SECONDS / 2)) mode op target count sid
    local buy_modes=(21422 500 503 timeout timeout_after lost_response lost_response_drop 429 malformed)
    local release_modes=(500 503 timeout 429 lost_response)
    while [ "$(date +%s)" -lt "$SHIM_END" ]; do
        sleep "$((RANDOM % 2)).$(printf %03d $((RANDOM % 1000)))"
        r=$((RANDOM % 100))
        if [ "$pgcrashes" -lt "$SHIM_PG_CRASHES" ] && [ "$(date +%s)" -ge "$pg_crash_at" ]; then
            pg_restart_immediate 1 && pgcrashes=$((pgcrashes + 1))
        elif [ $r -lt 30 ]; then
            # Half the kills wait (up to 1 s) for a Twilio buy in flight: reserved, not yet confirmed.
            if [ $((RANDOM % 2)) = 0 ]; then
                for i in $(seq 1 20); do [ "$(fake_state | jq -r '.buysInFlight // 0')" -gt 0 ] && break; sleep 0.05; done
            fi
            inflight_at_kill=$((inflight_at_kill + $(fake_state | jq -r '.buysInFlight // 0')))
            kill -9 "$SHIM_PID" 2>/dev/null; wait "$SHIM_PID" 2>/dev/null
            kills=$((kills + 1))
            sleep "0.$((RANDOM % 8))"
            start_shim "$LOGS/shim.log" || { not_ok "shim-chaos: the shim restarts after kill -9" "$(tail -n 5 "$LOGS/shim.log")"; break; }
        elif [ $r -lt 70 ]; then
            target=$(printf '+1415555%04d' $((100 + RANDOM % PHONES)))
            mode=${buy_modes[$((RANDOM % ${#buy_modes[@]}))]}
            count=1; [ "$mode" = 429 ] && count=$((1 + RANDOM % 2))
            fake_fail "{\"op\":\"buy\",\"mode\":\"$mode\",\"phoneNumber\":\"$target\",\"count\":$count,\"retryAfter\":1}"
            modes[buy:$mode]=$((${modes[buy:$mode]:-0} + 1)); rules=$((rules + 1))
            if [ $((RANDOM % 3)) = 0 ]; then  # the look-up of an unknown outcome fails too
                fake_fail "{\"op\":\"list\",\"mode\":\"500\",\"phoneNumber\":\"$target\",\"count\":2}"
                modes[list:500]=$((${modes[list:500]:-0} + 1)); rules=$((rules + 1))
            fi
        elif [ $r -lt 83 ]; then
            sid=$(psql_ -d "$SDB" -c "SELECT twilio_sid FROM number_wallet.business_numbers WHERE status = 'active' ORDER BY random() LIMIT 1" 2>/dev/null)
            [ -n "$sid" ] || continue
            mode=${release_modes[$((RANDOM % ${#release_modes[@]}))]}
            fake_fail "{\"op\":\"release\",\"mode\":\"$mode\",\"sid\":\"$sid\",\"count\":1,\"retryAfter\":1,\"sleepMs\":2000}"
            modes[release:$mode]=$((${modes[release:$mode]:-0} + 1)); rules=$((rules + 1))
        else
            # Renewals fall due, and an hour passes for them (the shim's reconciler renews,
            # retries an unpaid one, or releases it after the grace).
            psql_ -d "$SDB" -c "UPDATE number_wallet.business_numbers SET paid_until = now() - interval '$([ $((RANDOM % 3)) = 0 ] && echo '10 days' || echo '1 hour')',
                                        renewal_attempted_at = renewal_attempted_at - interval '1 hour'
                                 WHERE id IN (SELECT id FROM number_wallet.business_numbers WHERE status = 'active'
                                              AND ($((RANDOM % 2)) = 0 OR user_id = '${USER_IDS[$((USERS - 1))]}') ORDER BY random() LIMIT 2)" >/dev/null 2>&1 &&
                dues=$((dues + 1))
        fi
    done
    wait "${wpids[@]}"
    kill -0 "$SHIM_PID" 2>/dev/null || start_shim "$LOGS/shim.log"
    local healthy; healthy=$(curl -s --max-time 5 "$BASE/api/health" | jq -r .status 2>/dev/null)
    check "shim-chaos: after the faults the shim answers /api/health ok" ok "$healthy"
    # Stop the shim, let the fake finish what it was doing, clear the injected failures.
    kill "$SHIM_PID" 2>/dev/null; wait "$SHIM_PID" 2>/dev/null; SHIM_PID=
    for i in $(seq 1 100); do [ "$(fake_state | jq -r .buysInFlight)" = 0 ] && break; sleep 0.1; done
    drain_rules >/dev/null 2>&1
    local pending; pending=$(psql_ -d "$SDB" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'pending'")
    local undeleted; undeleted=$(psql_ -d "$SDB" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'released' AND provider_released_at IS NULL")
    psql_ -d "$SDB" -c "UPDATE number_wallet.business_numbers SET created_at = now() - interval '10 minutes' WHERE status = 'pending'" >/dev/null
    (cd "$W" && env -i "${SHIM_ENV[@]}" "$SHIM_BIN" reconcile) >"$LOGS/reconcile.log" 2>&1
    local rc=$?
    check "shim-chaos: one reconcile ($pending pending purchases, $undeleted unfinished deletions before it) exits 0" 0 "$rc"

    # Twilio's inventory = the database's held twilio rows (sid and FriendlyName = row id).
    fake_state | jq -r '.owned[] | "\(.sid) \(.friendlyName)"' | sort >"$dir/twilio.txt"
    psql_ -d "$SDB" -c "SELECT twilio_sid || ' ' || id FROM number_wallet.business_numbers
                        WHERE provider = 'twilio' AND (status = 'active' OR (status = 'released' AND provider_released_at IS NULL))" |
        sort >"$dir/database.txt"
    local inv; inv=$(diff "$dir/twilio.txt" "$dir/database.txt" | grep -E '^[<>]' | sed 's/^</only at Twilio:/; s/^>/only in the database:/')
    local invn=0; [ -n "$inv" ] && invn=$(grep -c . <<<"$inv")
    check "shim-chaos: Twilio's inventory matches the database's held numbers ($(grep -c . "$dir/twilio.txt") owned)" "" "$inv"
    check "shim-chaos: nothing left pending or undeleted after the reconcile" "0 0" \
        "$(psql_ -F ' ' -d "$SDB" -c "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'released' AND provider_released_at IS NULL) FROM number_wallet.business_numbers")"
    local disc; disc=$(psql_ -d "$SDB" -c "SELECT string_agg(kind || ' ' || coalesce(phone_number, '') || ' ' || coalesce(twilio_sid, ''), '; ') FROM number_wallet.discrepancies WHERE resolved_at IS NULL")
    check "shim-chaos: no open discrepancy" "" "$disc"

    # What the HTTP callers saw.
    cat "$dir"/w*/http >"$dir/http.txt" 2>/dev/null
    cat "$dir"/w*/told_topups.csv "$dir/setup/told_topups.csv" >"$dir/told_topups.csv" 2>/dev/null
    cat "$dir"/w*/uncertain_topups.csv >"$dir/uncertain_topups.csv" 2>/dev/null
    cat "$dir"/w*/told_purchases.csv >"$dir/told_purchases.csv" 2>/dev/null
    cat "$dir"/w*/client_violations.csv >"$dir/client_violations.csv" 2>/dev/null
    # Statuses the contract allows per route (000 = the shim was killed mid-request).
    awk -v out="$dir/client_violations.csv" '
        { allowed = "" }
        $1 ~ /^topup/            { allowed = " 201 503 000 " }
        $1 ~ /^purchase/         { allowed = " 201 202 402 409 502 503 000 " }
        $1 == "release"          { allowed = " 200 404 409 503 000 " }
        $1 == "release_wrong_user" { allowed = " 404 503 000 " }
        $1 == "release_replay"   { allowed = " 200 503 000 " }
        $1 == "wallet"           { allowed = " 200 503 000 " }
        index(allowed, " " $2 " ") == 0 { bad[$1 " " $2 " " $3]++ }
        END { for (k in bad) print "shim,HTTP status outside the contract," k " x" bad[k] >> out }' "$dir/http.txt"
    # SQLSTATEs the shim logged, if any deadlock.
    local dl; dl=$(grep -ciE '40P01|deadlock' "$LOGS/shim.log")
    [ "$dl" -gt 0 ] && echo "shim,shim-log,40P01,$dl" >>"$dir/outcomes.csv"
    load_and_check "$SDB" "$dir" true
    local ops; ops=$(grep -c . "$dir/http.txt")
    local statuses; statuses=$(awk '{ n[$2]++ } END { for (s in n) printf "%s=%s ", s, n[s] }' "$dir/http.txt")
    local modelist=""; for mode in "${!modes[@]}"; do modelist+="$mode=${modes[$mode]} "; done
    echo "#   HTTP statuses: $statuses"
    echo "#   $(table_summary "$SDB")"
    echo "#   faults: $kills shim kill -9 ($inflight_at_kill Twilio buys in flight at the kills, $(awk '$2 == "000"' "$dir/http.txt" | wc -l) requests cut), $rules Twilio failures ($modelist), $dues renewal-due moves, $pgcrashes PostgreSQL immediate stops"
    check "shim-chaos: $ops HTTP operations, every invariant holds (violations)" 0 "$VIOLATIONS"
    SUMMARY+=("shim-chaos: $ops HTTP operations, $((kills + rules + pgcrashes)) faults ($kills kill -9, $rules Twilio failures, $pgcrashes PG immediate stops) + $dues renewal-due moves, $((VIOLATIONS + invn)) violations")
    kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=
    psql_ -d postgres -c "DROP DATABASE \"$SDB\" WITH (FORCE)" -c "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
}

# failover (long version only): test/e2e/failover_test.sh for a minute after each
# failover with twice the buyers, against its own pg_auto_failover formation.
scenario_failover() {
    local out=$LOGS/failover.log line
    NW_FAILOVER_SECONDS=${NW_STRESS_FAILOVER_SECONDS:-60} NW_FAILOVER_BUYERS=12 \
        bash "$ROOT/test/e2e/failover_test.sh" >"$out" 2>&1
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    grep -E '^# (requests|kill|perform)' "$out" | sed 's/^# /#   /'
    grep '^not ok' "$out"
    check "failover: buyers through two shims across a lost primary and a planned failover (suite result)" \
        "0 failed" "$(grep -oE '[0-9]+ failed' <<<"${line:-1 failed}")"
    SUMMARY+=("failover: ${line:-did not finish}; $(grep -E '^# (kill|perform)' "$out" | tr '\n' ' ')")
}

SCENARIOS=(sql_contention sql_races sql_crash shim_chaos)
[ "$SHORT" = 1 ] || SCENARIOS+=(failover)
for scenario in "${SCENARIOS[@]}"; do
    t0=$(date +%s) before=${#SUMMARY[@]}
    "scenario_$scenario"
    if [ "${#SUMMARY[@]}" -gt "$before" ]; then
        SUMMARY[-1]+=" [$(($(date +%s) - t0)) s]"
    else
        not_ok "scenario ${scenario//_/-} ran to its end"
        SUMMARY+=("${scenario//_/-}: did not run to its end")
    fi
done
finish
