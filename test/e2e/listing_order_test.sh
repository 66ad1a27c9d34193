#!/usr/bin/env bash
# listing_order_test.sh: the paginated listings of the HTTP shim (docs/http-api.md)
# return every row once, newest first, however the ids are spelled. Ledger
# ids of one user cross 9 -> 10 and 99 -> 100 (and the user's ids have gaps:
# two users' entries interleave), so an order on the ids' text would put 9
# before 89 and lose the newest entries from the first page, while the `before`
# cursor compares numbers. Numbers are paged by (created_at, id), with several
# created in one statement (same created_at). Every listing is checked twice:
# with PostgreSQL's default plan choice and with the shim's connections forced
# to generic plans (what a prepared statement may get after five runs), where a
# cursor must still bound the index scan and give the same rows.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates
# database nw_listing_$$ (CREATE EXTENSION number_wallet) and LOGIN role
# nw_listing_shim_$$, starts build/fake-twilio and build/number-wallet-shim
# serve on free ports, and removes all of it on exit. Prints "ok - <check>" /
# "not ok - <check>" lines and a final "N passed, N failed". Needs bash, curl,
# jq, openssl, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

suite_setup listing
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_listing.XXXXXX")
SECRET=listing-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=

cleanup() {
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ]; then echo "# logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_suite_tools curl jq openssl psql

create_suite_database

start_fake "$W/fake.log" || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET"
    TWILIO_TESTING_MODE=false
    TWILIO_API_BASE="$FAKE"
    TWILIO_ACCOUNT_SID="$TW_SID"
    TWILIO_AUTH_TOKEN="$TW_TOKEN"
    RECONCILE_INTERVAL_SECONDS=3600
)
start_shim "$W/shim.log" || { not_ok "shim starts and answers /api/health" "$(tail -n 20 "$W/shim.log")"; finish; }
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }

# ---- rows ------------------------------------------------------------------
# Two users' credits interleave in a fresh ledger: A holds the odd ids 1..229
# (and the entries of its numbers after them), B the even ones 2..230, so each
# user's ids cross 9 -> 10 and 99 -> 100.
A=$(uuid); B=$(uuid)
out=$(q "SELECT count(number_wallet.wallet_credit(CASE WHEN g % 2 = 1 THEN '$A'::uuid ELSE '$B'::uuid END, g % 7 + 1))
           FROM generate_series(1, 230) g") || { not_ok "write 230 ledger entries" "$out"; finish; }
check "A's ledger ids cross 9 -> 10 and 99 -> 100" "t" \
    "$(q "SELECT bool_or(id = 9) AND bool_or(id = 11) AND bool_or(id = 99) AND bool_or(id = 101)
            FROM number_wallet.transactions WHERE user_id = '$A'")"
# A's numbers: seven reserved in one statement (one created_at), then five one
# by one; two of them released (history, listed with all=true only).
NOLIMIT="SET number_wallet.max_purchases_per_hour = 0;"
out=$(q "$NOLIMIT SELECT count(number_wallet.confirm_purchase((number_wallet.purchase_number('$A',
           '+1415555' || lpad(g::text, 4, '0'), 1)->>'number_id')::uuid, 'PN' || lpad(g::text, 32, '0')))
           FROM generate_series(101, 107) g") || { not_ok "write A's numbers" "$out"; finish; }
for n in 108 109 110 111 112; do
    out=$(q "$NOLIMIT SELECT number_wallet.purchase_number('$A', '+1415555$(printf %04d $n)', 1)") ||
        { not_ok "write A's numbers" "$out"; finish; }
done
out=$(q "SELECT count(number_wallet.release_number('$A', id)) FROM number_wallet.business_numbers
          WHERE phone_number IN ('+14155550103', '+14155550106')") || { not_ok "release two of A's numbers" "$out"; finish; }

# page PATH LIST_KEY LIMIT TOKEN: follows `next` from the first page; prints
# every id in order, one per line. Sets PAGES and PAGE_ERROR (so call it with
# its output redirected, not in a subshell).
PAGES=0
PAGE_ERROR=""
page() {
    local path=$1 key=$2 limit=$3 tok=$4 next="" sep url
    PAGES=0; PAGE_ERROR=""
    [[ $path == *\?* ]] && sep='&' || sep='?'
    while :; do
        url="$path${sep}limit=$limit${next:+&before=$next}"
        api GET "$url" "$tok"
        [ "$STATUS" = 200 ] || { PAGE_ERROR="GET $url: HTTP $STATUS $BODY"; return; }
        PAGES=$((PAGES + 1))
        jq -r --arg k "$key" '.[$k][].id' <<<"$BODY"
        next=$(jq -r '.next // empty' <<<"$BODY")
        [ -n "$next" ] || return 0
        [ "$PAGES" -lt 200 ] || { PAGE_ERROR="more than 200 pages"; return; }
    done
}
# check_listing NAME GOT WANT: the same ids in the same order (no gap, no duplicate).
check_listing() {
    local name=$1 got=$2 want=$3
    if [ -n "$PAGE_ERROR" ]; then not_ok "$name" "$PAGE_ERROR"; return; fi
    if [ "$got" = "$want" ]; then ok "$name ($(wc -l <<<"$want") rows, $PAGES pages)"; return; fi
    not_ok "$name" "expected: $(tr '\n' ' ' <<<"$want" | cut -c1-300)" "got:      $(tr '\n' ' ' <<<"$got" | cut -c1-300)" \
        "missing: $(comm -23 <(sort <<<"$want") <(sort <<<"$got") | tr '\n' ' ' | cut -c1-200)" \
        "duplicated: $(sort <<<"$got" | uniq -d | tr '\n' ' ' | cut -c1-200)"
}

TA=$(token --sub "$A"); TB=$(token --sub "$B")

# listings PLAN: every listing check, each named after PLAN.
listings() {
    local plan=$1 want got
    # ---- GET /api/transactions ---------------------------------------------------
    want=$(q "SELECT id FROM number_wallet.transactions WHERE user_id = '$A' ORDER BY id DESC")
    api GET "/api/transactions?limit=5" "$TA"
    expect "$plan: the first page of A's transactions holds the five newest entries" 200 \
        "[.transactions[].id] == [$(head -n5 <<<"$want" | paste -sd,)]"
    page /api/transactions transactions 7 "$TA" >"$W/ids"; got=$(cat "$W/ids")
    check_listing "$plan: GET /api/transactions pages (7 a page) through all of A's entries, newest first" "$got" "$want"
    check "$plan: A's transaction ids strictly decrease across the pages" "" \
        "$(awk 'NR > 1 && $1 >= prev { print "id " $1 " after " prev } { prev = $1 }' <<<"$got")"
    page /api/transactions transactions 10 "$TA" >"$W/ids"; got=$(cat "$W/ids")
    check_listing "$plan: GET /api/transactions, 10 a page (pages end on 9 -> 10 style boundaries)" "$got" "$want"
    want=$(q "SELECT id FROM number_wallet.transactions WHERE user_id = '$B' ORDER BY id DESC")
    page /api/transactions transactions 100 "$TB" >"$W/ids"; got=$(cat "$W/ids")
    check_listing "$plan: GET /api/transactions, 100 a page, B's entries (ids from 230 down across 100 and 10)" "$got" "$want"
    api GET "/api/transactions?limit=3&before=100" "$TB"
    expect "$plan: before=100 answers the entries just below 100, newest first" 200 '[.transactions[].id] == [98, 96, 94]'
    api GET "/api/transactions?limit=3&before=11" "$TA"
    expect "$plan: before=11 answers 9, 7, 5" 200 '[.transactions[].id] == [9, 7, 5]'

    # ---- GET /api/numbers ------------------------------------------------------------
    want=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$A' AND status IN ('pending', 'active')
               ORDER BY created_at DESC, id DESC")
    check "$plan: A has 10 pending or active numbers" 10 "$(wc -l <<<"$want")"
    page /api/numbers numbers 3 "$TA" >"$W/ids"; got=$(cat "$W/ids")
    check_listing "$plan: GET /api/numbers pages (3 a page) through A's held numbers, newest first" "$got" "$want"
    want=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$A' ORDER BY created_at DESC, id DESC")
    page "/api/numbers?all=true" numbers 4 "$TA" >"$W/ids"; got=$(cat "$W/ids")
    check_listing "$plan: GET /api/numbers?all=true pages (4 a page) through all 12 of A's numbers" "$got" "$want"
    api GET "/api/numbers?limit=100" "$TB"
    expect "$plan: B has no numbers" 200 '.numbers == [] and .next == null'

    # A cursor that is not one of the caller's numbers (another user's, or no
    # number at all) answers an empty page, not the first one.
    local a_number
    a_number=$(q "SELECT id FROM number_wallet.business_numbers WHERE user_id = '$A' LIMIT 1")
    api GET "/api/numbers?all=true&before=$a_number" "$TB"
    expect "$plan: B's list before A's number is empty" 200 '.numbers == [] and .next == null'
    api GET "/api/numbers?all=true&before=$(uuid)" "$TA"
    expect "$plan: A's list before an unknown number is empty" 200 '.numbers == [] and .next == null'
}

listings "default plans"

# The shim's statements are prepared: after five runs PostgreSQL may keep a
# generic plan, in which a parameter is not known when the plan is made. The
# same answers then, with every connection forced to generic plans.
out=$(q "ALTER ROLE \"$ROLE\" SET plan_cache_mode = force_generic_plan") ||
    { not_ok "force generic plans for the shim's role" "$out"; finish; }
kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
SHIM_PID=
start_shim "$W/shim.log" || { not_ok "shim restarts with generic plans" "$(tail -n 20 "$W/shim.log")"; finish; }
check "the shim's role is set to generic plans (its connections made after the restart)" "force_generic_plan" \
    "$(q "SELECT DISTINCT s.setting FROM pg_db_role_setting d, unnest(d.setconfig) c,
           LATERAL (SELECT split_part(c, '=', 2) AS setting) s
          WHERE d.setrole = (SELECT oid FROM pg_roles WHERE rolname = '$ROLE') AND c LIKE 'plan_cache_mode=%'")"
listings "generic plans"

finish
