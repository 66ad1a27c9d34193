#!/usr/bin/env bash
# dump_restore_test.sh: pg_dump -Fc / pg_restore keeps every row of the
# number_wallet extension and new rows can be written afterwards
# (DESIGN §2, Rules: "Extension tables and their sequences are registered with
# pg_extension_config_dump, so a pg_dump and restore keeps every row and new rows
# can be written afterwards").
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates two new
# databases (NW_DUMP_SRC_DB / NW_DUMP_DST_DB, default nw_dump_src_$$ and
# nw_dump_dst_$$) and one role (regress_nw_dump_$$), and drops them at the end.
# Prints "ok - <check>" / "not ok - <check>" lines and a final "N passed, N failed";
# exits non-zero when a check failed.
set -u

SRC_DB=${NW_DUMP_SRC_DB:-nw_dump_src_$$}
DST_DB=${NW_DUMP_DST_DB:-nw_dump_dst_$$}
END_USER_ROLE=regress_nw_dump_$$
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nw_dump.XXXXXX")
DUMP_FILE=$WORK_DIR/number_wallet.dump
PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || true)}
PSQL=${PG_BINDIR:+$PG_BINDIR/}psql
PG_DUMP=${PG_BINDIR:+$PG_BINDIR/}pg_dump
PG_RESTORE=${PG_BINDIR:+$PG_BINDIR/}pg_restore

ALICE=00000000-0000-0000-0000-0000000000a1
BOB=00000000-0000-0000-0000-0000000000b2
CAROL=00000000-0000-0000-0000-0000000000c3

passed=0
failed=0

ok()     { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; shift; for line in "$@"; do printf '#   %s\n' "$line"; done; }
# check NAME EXPECTED ACTUAL
# (a query that failed never passes, even when both sides failed alike)
check() {
    if [ "$2" = "$3" ] && [[ $2 != *ERROR* ]] && [ -n "$2" ]; then ok "$1"
    else not_ok "$1" "expected: $2" "got:      $3"; fi
}

# q DB SQL: one value (tuples only, unaligned); errors go to stdout for diagnostics.
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }

cleanup() {
    "$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$SRC_DB\" WITH (FORCE)" >/dev/null 2>&1
    "$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DST_DB\" WITH (FORCE)" >/dev/null 2>&1
    "$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS $END_USER_ROLE" >/dev/null 2>&1
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# --- 1. a source database with rows written through the functions ----------
out=$("$PSQL" -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$SRC_DB\"" 2>&1)
if [ $? -ne 0 ]; then not_ok "create source database $SRC_DB" "$out"; finish; fi
ok "create source database $SRC_DB"

out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$SRC_DB" 2>&1 <<SQL
CREATE EXTENSION number_wallet;
CREATE ROLE $END_USER_ROLE NOLOGIN NOINHERIT;
SELECT number_wallet.grant_end_user('$END_USER_ROLE');
-- credits (one with an idempotency key, one in INR)
SELECT number_wallet.wallet_credit('$ALICE', 100, 'USD', 'Top-up', 'credit-alice-1');
SELECT number_wallet.wallet_credit('$ALICE', 5000, 'INR');
SELECT number_wallet.wallet_credit('$BOB', 50);
SELECT number_wallet.wallet_credit('$CAROL', 20);
-- confirmed purchases (USD with an idempotency key, and INR)
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number('$ALICE', '+14155550101', 5, 'USD', 'Main line',
         'purchase-alice-1')->>'number_id')::uuid, 'PN00000000000000000000000000000101');
SELECT number_wallet.confirm_purchase((number_wallet.purchase_number('$ALICE', '+919876543210', 300, 'INR')
         ->>'number_id')::uuid, 'PN00000000000000000000000000009191');
-- a failed purchase (reversal)
SELECT number_wallet.fail_purchase((number_wallet.purchase_number('$BOB', '+14155550201', 7)->>'number_id')::uuid,
                                   'twilio 21422: number not available');
-- a released number (refund), still held until Twilio confirms the deletion
SELECT number_wallet.release_number('$BOB', (number_wallet.confirm_purchase((number_wallet.purchase_number('$BOB',
         '+14155550202', 8)->>'number_id')::uuid, 'PN00000000000000000000000000000202')->>'number_id')::uuid);
-- a released number deleted at Twilio (frees the phone number)
SELECT number_wallet.mark_provider_released((number_wallet.release_number('$CAROL',
         (number_wallet.confirm_purchase((number_wallet.purchase_number('$CAROL', '+14155550301', 4)->>'number_id')::uuid,
           'PN00000000000000000000000000000301')->>'number_id')::uuid)->>'number_id')::uuid);
-- a pending purchase left open
SELECT number_wallet.purchase_number('$CAROL', '+14155550302', 3);
-- an adjustment (the seed's function)
SELECT number_wallet.update_wallet_balance_atomic((SELECT id FROM number_wallet.wallets WHERE user_id = '$CAROL'),
                                                  -1.50, 'USD');
-- discrepancies: one open, one resolved
SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155550999', 'PN00000000000000000000000000000999',
                                        NULL, 'At Twilio but not in the database.');
SELECT number_wallet.resolve_discrepancy(number_wallet.record_discrepancy('missing_at_provider', '+14155550101',
         'PN00000000000000000000000000000101', (SELECT id FROM number_wallet.business_numbers
                                               WHERE phone_number = '+14155550101'), 'Not listed at Twilio.'),
         'Listed again on the next pass.');
SQL
)
if [ $? -ne 0 ]; then not_ok "write rows through the functions" "$out"; finish; fi
ok "write rows through the functions"

# The tables of the extension's schema (all of them, not a fixed list).
TABLES=$(q "$SRC_DB" "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
                      WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'p')")
check "source has the contract's tables" "business_numbers discrepancies transactions wallets" \
      "$(q "$SRC_DB" "SELECT string_agg(t, ' ' ORDER BY t) FROM unnest(string_to_array('$TABLES', ' ')) t
                      WHERE t IN ('wallets', 'business_numbers', 'transactions', 'discrepancies')")"
check "source reconciles (wallet_reconcile() empty)" "0" \
      "$(q "$SRC_DB" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
check "source holds every state (pending, active, failed, released, provider released)" \
      "active:2 failed:1 pending:1 released:1 released+provider:1" \
      "$(q "$SRC_DB" "SELECT string_agg(s || ':' || n, ' ' ORDER BY s) FROM (
                        SELECT status || CASE WHEN provider_released_at IS NOT NULL THEN '+provider' ELSE '' END AS s,
                               count(*) AS n FROM number_wallet.business_numbers GROUP BY 1) x")"

# --- 2. dump and restore into a second new database ------------------------
out=$("$PG_DUMP" -Fc -f "$DUMP_FILE" -d "$SRC_DB" 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then ok "pg_dump -Fc"; else not_ok "pg_dump -Fc" "$out"; finish; fi

out=$("$PSQL" -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DST_DB\"" 2>&1)
if [ $? -ne 0 ]; then not_ok "create target database $DST_DB" "$out"; finish; fi
ok "create target database $DST_DB"

out=$("$PG_RESTORE" -d "$DST_DB" "$DUMP_FILE" 2>&1)
status=$?
if [ $status -eq 0 ] && [ -z "$out" ]; then
    ok "pg_restore without errors or warnings"
else
    mapfile -t lines <<<"$out"
    not_ok "pg_restore without errors or warnings" "exit status $status" "${lines[@]}"
fi

check "restored database has the extension" "number_wallet 1.0" \
      "$(q "$DST_DB" "SELECT extname || ' ' || extversion FROM pg_extension WHERE extname = 'number_wallet'")"

# --- 3. every table's rows match -------------------------------------------
for table in $TABLES; do
    sql="SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))
           FROM number_wallet.$table t"
    src=$(q "$SRC_DB" "$sql")
    dst=$(q "$DST_DB" "$sql")
    check "rows of number_wallet.$table match (${src%% *} rows)" "$src" "$dst"
done

# The identity sequences keep their positions.
sql="SELECT coalesce(string_agg(sequencename || '=' || coalesce(last_value::text, 'null'), ' ' ORDER BY sequencename), '')
       FROM pg_sequences WHERE schemaname = 'number_wallet'"
check "identity sequence positions match" "$(q "$SRC_DB" "$sql")" "$(q "$DST_DB" "$sql")"

# Privileges (including grant_end_user's direct grants), RLS and triggers survive.
sql="SELECT md5(string_agg(x, ';' ORDER BY x)) FROM (
       SELECT c.relname || ':' || coalesce(c.relacl::text, '') || ':' || c.relrowsecurity::text FROM pg_class c
        WHERE c.relnamespace = 'number_wallet'::regnamespace
       UNION ALL
       SELECT p.oid::regprocedure::text || ':' || coalesce(p.proacl::text, '') || ':' || p.prosecdef::text || ':' ||
              coalesce(p.proconfig::text, '') FROM pg_proc p WHERE p.pronamespace = 'number_wallet'::regnamespace
       UNION ALL
       SELECT 'policy ' || polname || ':' || pg_get_expr(polqual, polrelid) FROM pg_policy
        WHERE polrelid::regclass::text LIKE 'number_wallet.%'
       UNION ALL
       SELECT 'trigger ' || tgname || ':' || tgenabled::text FROM pg_trigger
        WHERE tgrelid = 'number_wallet.transactions'::regclass AND NOT tgisinternal
       UNION ALL
       SELECT 'schema:' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'number_wallet') s(x)"
check "privileges, RLS policies, triggers and pinned search_paths match" "$(q "$SRC_DB" "$sql")" "$(q "$DST_DB" "$sql")"
check "PUBLIC still cannot execute any function in the restored database" "0" \
      "$(q "$DST_DB" "SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                      WHERE p.pronamespace = 'number_wallet'::regnamespace AND a.grantee = 0")"

# --- 4. the restored database is consistent and usable ---------------------
check "restored wallet_reconcile() is empty" "0" \
      "$(q "$DST_DB" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"

out=$("$PSQL" -X -q -At -d "$DST_DB" <<SQL 2>&1
SET ROLE $END_USER_ROLE;
SET request.jwt.claims = '{"sub":"$BOB"}';
SELECT string_agg(phone_number || ':' || status, ' ' ORDER BY phone_number) FROM number_wallet.business_numbers;
SQL
)
check "the grant_end_user role sees its own rows after the restore (RLS)" \
      "+14155550201:failed +14155550202:released" "$out"

out=$(q "$DST_DB" "UPDATE number_wallet.transactions SET description = description")
if [[ $out == *"append-only"* ]]; then ok "the restored ledger still refuses UPDATE"; else
    not_ok "the restored ledger still refuses UPDATE" "$out"; fi

max_tx=$(q "$DST_DB" "SELECT max(id) FROM number_wallet.transactions")
max_disc=$(q "$DST_DB" "SELECT max(id) FROM number_wallet.discrepancies")

out=$(q "$DST_DB" "SELECT (r->>'transaction_id')::bigint > $max_tx FROM number_wallet.wallet_credit('$ALICE', 10) r")
check "a credit succeeds after the restore, with a transaction id above all restored ids ($max_tx)" "t" "$out"

out=$(q "$DST_DB" "SELECT (r->>'transaction_id')::bigint > $max_tx AND r->>'status' = 'pending'
                     FROM number_wallet.purchase_number('$ALICE', '+14155550102', 3) r")
check "a purchase succeeds after the restore, with a transaction id above all restored ids" "t" "$out"

out=$(q "$DST_DB" "SELECT number_wallet.confirm_purchase(id, 'PN00000000000000000000000000000102')->>'status'
                     FROM number_wallet.business_numbers WHERE phone_number = '+14155550102'")
check "the new purchase confirms" "active" "$out"

out=$(q "$DST_DB" "SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155550998', NULL, NULL, 'after restore') > $max_disc")
check "a discrepancy can be recorded after the restore, with an id above all restored ids ($max_disc)" "t" "$out"

out=$("$PSQL" -X -q -At -d "$DST_DB" -c "\\set VERBOSITY sqlstate" \
      -c "SELECT number_wallet.purchase_number('$BOB', '+14155550101', 5)" 2>&1)
if [ "$out" = "ERROR:  NW002" ]; then ok "a number held before the dump is still held after it (NW002)"
else not_ok "a number held before the dump is still held after it (NW002)" "expected: ERROR:  NW002" "got:      $out"; fi

first_tx=$(q "$SRC_DB" "SELECT id FROM number_wallet.transactions WHERE idempotency_key = 'credit-alice-1'")
out=$(q "$DST_DB" "SELECT (r->>'replayed') || ' ' || (r->>'transaction_id') FROM number_wallet.wallet_credit('$ALICE', 100, 'USD', 'Top-up', 'credit-alice-1') r")
check "a credit idempotency key from before the dump still replays" "true $first_tx" "$out"

out=$(q "$DST_DB" "SELECT (r->>'replayed') || ' ' || (r->>'status') FROM number_wallet.purchase_number('$ALICE', '+14155550101', 5, 'USD', 'Main line', 'purchase-alice-1') r")
check "a purchase idempotency key from before the dump still replays" "true active" "$out"

out=$(q "$DST_DB" "SELECT (number_wallet.release_number('$BOB', id)->'refund'->>'issued') FROM number_wallet.business_numbers
                   WHERE phone_number = '+14155550202'")
check "a release from before the dump replays without a second refund" "true" "$out"
check "refunds of the number released before the dump stay at one" "1" \
      "$(q "$DST_DB" "SELECT count(*) FROM number_wallet.transactions t JOIN number_wallet.business_numbers n
                       ON n.id = t.number_id WHERE n.phone_number = '+14155550202' AND t.kind = 'refund'")"

check "wallet_reconcile() is empty after the new writes" "0" \
      "$(q "$DST_DB" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"

finish
