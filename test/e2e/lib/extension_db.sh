# Helpers for the database-level end-to-end tests (dump_restore_test.sh,
# upgrade_test.sh); sourced, bash only. Uses PGHOST/PGPORT/PGUSER (a superuser)
# from the environment. Reporting is TAP-like: "ok - <check>" / "not ok -
# <check>" lines and a final "N passed, N failed".

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || true)}
PSQL=${PG_BINDIR:+$PG_BINDIR/}psql
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
# check_quiet NAME STATUS OUTPUT: passes when a command exited 0 and printed nothing.
check_quiet() {
    if [ "$2" -eq 0 ] && [ -z "$3" ]; then ok "$1"; else
        local lines; mapfile -t lines <<<"$3"; not_ok "$1" "exit status $2" "${lines[@]}"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# q DB SQL: one value (tuples only, unaligned); errors go to stdout for diagnostics.
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }

# create_database NAME: stops the test when it cannot.
create_database() {
    local out
    out=$("$PSQL" -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$1\"" 2>&1)
    if [ $? -ne 0 ]; then not_ok "create database $1" "$out"; finish; fi
    ok "create database $1"
}
drop_database() { "$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1; }

# catalog_fingerprint DB: the extension's catalog, one line per fact (lib/catalog_fingerprint.sql).
catalog_fingerprint() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$LIB_DIR/catalog_fingerprint.sql" 2>&1; }

# check_same_catalog NAME DB_A DB_B: the two extensions' catalogs are equal; the diff when not.
check_same_catalog() {
    local a b lines
    a=$(catalog_fingerprint "$2"); b=$(catalog_fingerprint "$3")
    if [ "$a" = "$b" ] && [[ $a != *ERROR* ]] && [ -n "$a" ]; then ok "$1 ($(wc -l <<<"$a") catalog facts)"; return; fi
    if [ "$a" = "$b" ]; then mapfile -t lines < <(head -20 <<<"$a"); not_ok "$1" "no fingerprint:" "${lines[@]}"; return; fi
    mapfile -t lines < <(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -40)
    not_ok "$1" "diff $2 $3:" "${lines[@]}"
}

# money_state DB [COLUMNS]: every row of every table of the extension's schema,
# hashed, with counts. COLUMNS ("table.column ...", as table_columns prints
# them) hashes only those columns, so an update that adds a column can still
# show that it left every earlier value as it was (tables it added are skipped).
money_state() {
    local table tables row out=""
    tables=$(q "$1" "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
                     WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'p')")
    for table in $tables; do
        # With a column list (an older version's), a table that version did not have is new: skip it.
        if [ -n "${2:-}" ] && [[ " $2 " != *" $table."* ]]; then continue; fi
        row="t::text"
        if [ -n "${2:-}" ]; then
            row="(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(to_jsonb(t)) e
                   WHERE '$table.' || e.key = ANY (string_to_array('$2', ' ')))::text"
        fi
        out+="$table $(q "$1" "SELECT count(*) || ' ' || md5(coalesce(string_agg($row, ',' ORDER BY $row), ''))
                              FROM number_wallet.$table t")"$'\n'
    done
    printf '%s' "$out"
}
# table_columns DB: "table.column ..." of every table of the extension's schema.
table_columns() {
    q "$1" "SELECT string_agg(c.relname || '.' || a.attname, ' ' ORDER BY c.relname, a.attnum)
              FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'p')"
}

# write_sample_rows DB END_USER_ROLE: makes the role an end user and writes
# rows in every state through the functions. The extension must exist.
write_sample_rows() {
    local out
    out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" 2>&1 <<SQL
SELECT number_wallet.grant_end_user('$2');
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
    check "the rows reconcile (wallet_reconcile() empty)" "0" "$(q "$1" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
    check "the rows hold every state (pending, active, failed, released, provider released)" \
          "active:2 failed:1 pending:1 released:1 released+provider:1" \
          "$(q "$1" "SELECT string_agg(s || ':' || n, ' ' ORDER BY s) FROM (
                       SELECT status || CASE WHEN provider_released_at IS NOT NULL THEN '+provider' ELSE '' END AS s,
                              count(*) AS n FROM number_wallet.business_numbers GROUP BY 1) x")"
}

# check_usable DB WHEN END_USER_ROLE: after WHEN ("after the restore"), the
# sample rows are still protected and the functions keep working on them.
check_usable() {
    local db=$1 when=$2 role=$3 out max_tx max_disc first_tx
    check "wallet_reconcile() is empty $when" "0" "$(q "$db" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
    check "PUBLIC cannot execute any function $when" "0" \
          "$(q "$db" "SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                      WHERE p.pronamespace = 'number_wallet'::regnamespace AND a.grantee = 0")"

    out=$("$PSQL" -X -q -At -d "$db" <<SQL 2>&1
SET ROLE $role;
SET request.jwt.claims = '{"sub":"$BOB"}';
SELECT string_agg(phone_number || ':' || status, ' ' ORDER BY phone_number) FROM number_wallet.business_numbers;
SQL
)
    check "the grant_end_user role sees only its own rows $when (RLS)" "+14155550201:failed +14155550202:released" "$out"

    out=$(q "$db" "UPDATE number_wallet.transactions SET description = description")
    if [[ $out == *"append-only"* ]]; then ok "the ledger still refuses UPDATE $when"; else
        not_ok "the ledger still refuses UPDATE $when" "$out"; fi

    max_tx=$(q "$db" "SELECT max(id) FROM number_wallet.transactions")
    max_disc=$(q "$db" "SELECT max(id) FROM number_wallet.discrepancies")
    first_tx=$(q "$db" "SELECT id FROM number_wallet.transactions WHERE idempotency_key = 'credit-alice-1'")

    out=$(q "$db" "SELECT (r->>'transaction_id')::bigint > $max_tx FROM number_wallet.wallet_credit('$ALICE', 10) r")
    check "a credit succeeds $when, with a transaction id above all earlier ids ($max_tx)" "t" "$out"

    out=$(q "$db" "SELECT (r->>'transaction_id')::bigint > $max_tx AND r->>'status' = 'pending'
                     FROM number_wallet.purchase_number('$ALICE', '+14155550102', 3) r")
    check "a purchase succeeds $when, with a transaction id above all earlier ids" "t" "$out"

    out=$(q "$db" "SELECT number_wallet.confirm_purchase(id, 'PN00000000000000000000000000000102')->>'status'
                     FROM number_wallet.business_numbers WHERE phone_number = '+14155550102'")
    check "the new purchase confirms" "active" "$out"

    out=$(q "$db" "SELECT number_wallet.confirm_purchase(id, 'PN00000000000000000000000000000302')->>'status'
                     FROM number_wallet.business_numbers WHERE phone_number = '+14155550302'")
    check "the purchase left pending before confirms $when" "active" "$out"

    out=$(q "$db" "SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155550998', NULL, NULL, 'later') > $max_disc")
    check "a discrepancy can be recorded $when, with an id above all earlier ids ($max_disc)" "t" "$out"

    out=$("$PSQL" -X -q -At -d "$db" -c "\\set VERBOSITY sqlstate" \
          -c "SELECT number_wallet.purchase_number('$BOB', '+14155550101', 5)" 2>&1)
    if [ "$out" = "ERROR:  NW002" ]; then ok "a number held before is still held $when (NW002)"; else
        not_ok "a number held before is still held $when (NW002)" "expected: ERROR:  NW002" "got:      $out"; fi

    out=$(q "$db" "SELECT (r->>'replayed') || ' ' || (r->>'transaction_id')
                     FROM number_wallet.wallet_credit('$ALICE', 100, 'USD', 'Top-up', 'credit-alice-1') r")
    check "a credit idempotency key from before still replays $when" "true $first_tx" "$out"

    out=$(q "$db" "SELECT (r->>'replayed') || ' ' || (r->>'status')
                     FROM number_wallet.purchase_number('$ALICE', '+14155550101', 5, 'USD', 'Main line', 'purchase-alice-1') r")
    check "a purchase idempotency key from before still replays $when" "true active" "$out"

    out=$(q "$db" "SELECT (number_wallet.release_number('$BOB', id)->'refund'->>'issued') FROM number_wallet.business_numbers
                   WHERE phone_number = '+14155550202'")
    check "a release from before replays without a second refund $when" "true" "$out"
    check "refunds of the number released before stay at one $when" "1" \
          "$(q "$db" "SELECT count(*) FROM number_wallet.transactions t JOIN number_wallet.business_numbers n
                       ON n.id = t.number_id WHERE n.phone_number = '+14155550202' AND t.kind = 'refund'")"

    check "wallet_reconcile() is empty after the new writes $when" "0" \
          "$(q "$db" "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
}
