#!/usr/bin/env bash
# upgrade_test.sh: the two ways to the default version end in the same
# extension. A fresh CREATE EXTENSION runs number_wallet--<default>.sql, the
# Makefile's copy of sql/number_wallet.sql (the whole current schema); a
# database made by any earlier version the project ships gets there through the
# released scripts (number_wallet--1.0.sql, then sql/number_wallet--A--B.sql)
# with ALTER EXTENSION number_wallet UPDATE. For every earlier version, on a
# database holding rows in every state and an end-user role: the rows are
# untouched, the catalog equals the fresh install's (lib/catalog_fingerprint.sql:
# functions and their bodies, privileges, RLS, triggers, event triggers,
# indexes, columns, every comment), and the functions keep working on the old
# rows. So an edit to sql/number_wallet.sql without the update script that
# makes the same change (or the reverse) fails here.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates
# databases nw_upgrade_*_$$ and one role (regress_nw_upgrade_$$) and drops
# them at the end. Prints "ok - <check>" / "not ok - <check>" lines and a final
# "N passed, N failed"; exits non-zero when a check failed.
set -u
source "$(dirname "$0")/lib/extension_db.sh"

END_USER_ROLE=regress_nw_upgrade_$$
FRESH_DB=nw_upgrade_fresh_$$
databases=("$FRESH_DB")
cleanup() {
    local db
    for db in "${databases[@]}"; do drop_database "$db"; done
    "$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS $END_USER_ROLE" >/dev/null 2>&1
}
trap cleanup EXIT

out=$(q postgres "CREATE ROLE $END_USER_ROLE NOLOGIN NOINHERIT")
check_quiet "create an end-user role" $? "$out"

latest=$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'number_wallet'")
# Versions with an update path to the default one (every version ever released).
mapfile -t old_versions < <(q postgres "SELECT source FROM pg_extension_update_paths('number_wallet')
                                        WHERE target = '$latest' AND path IS NOT NULL ORDER BY source")
check "number_wallet $latest has an update path from 1.0" "yes" \
      "$(printf '%s\n' "${old_versions[@]}" | grep -qx '1.0' && echo yes || echo "no (${old_versions[*]:-none})")"

# The reference: a fresh install of the default version, with the same end user.
# PostgreSQL runs a version's own install script when there is one: the
# installed number_wallet--$latest.sql must be this checkout's sql/number_wallet.sql.
installed_script=$(q postgres "SELECT md5(pg_read_file(setting || '/extension/number_wallet--$latest.sql'))
                                 FROM pg_config WHERE name = 'SHAREDIR'")
check "the install script of $latest is sql/number_wallet.sql (make install after an edit)" \
      "$(md5sum <"$(dirname "$0")/../../sql/number_wallet.sql" | cut -d' ' -f1)" "$installed_script"
create_database "$FRESH_DB"
out=$(q "$FRESH_DB" "CREATE EXTENSION number_wallet; SELECT number_wallet.grant_end_user('$END_USER_ROLE')")
check_quiet "fresh CREATE EXTENSION number_wallet (version $latest, from number_wallet--$latest.sql)" $? "$out"
# Every table, view and function says what it is for, in the catalog.
check "every table, view and function of $latest has a comment" "none missing" \
      "$(q "$FRESH_DB" "SELECT coalesce(string_agg(o, ', ' ORDER BY o), 'none missing') FROM (
                          SELECT c.oid::regclass::text AS o FROM pg_class c
                           WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'v')
                             AND obj_description(c.oid, 'pg_class') IS NULL
                          UNION ALL
                          SELECT p.oid::regprocedure::text FROM pg_proc p
                           WHERE p.pronamespace = 'number_wallet'::regnamespace
                             AND obj_description(p.oid, 'pg_proc') IS NULL) missing")"
# A function is API (docs/sql-api.md names it), internal (its name begins with
# an underscore) or a trigger; nothing else.
undocumented=""
while read -r fn; do
    grep -q "\b$fn(" "$(dirname "$0")/../../docs/sql-api.md" || undocumented+="$fn "
done < <(q "$FRESH_DB" "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'number_wallet'::regnamespace
                          AND p.proname !~ '^_' AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
                        ORDER BY 1")
check "every function of $latest is documented in docs/sql-api.md, internal (_name) or a trigger" \
      "none undocumented" "${undocumented:-none undocumented}"

for from in "${old_versions[@]}"; do
    db=nw_upgrade_${from//./_}_$$
    databases+=("$db")
    create_database "$db"
    out=$(q "$db" "CREATE EXTENSION number_wallet VERSION '$from'")
    check_quiet "CREATE EXTENSION number_wallet VERSION '$from'" $? "$out"
    check "the installed version is $from" "$from" \
          "$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'number_wallet'")"
    write_sample_rows "$db" "$END_USER_ROLE"
    # The columns of the old version: an update may add columns, never change old values.
    columns=$(table_columns "$db")
    before=$(money_state "$db" "$columns")

    # The new library serves the old version's functions until the update;
    # renew_due_numbers needs 1.2's columns and says so (55000) instead of failing obscurely.
    if [[ $from == 1.0 || $from == 1.1 ]]; then
        out=$("$PSQL" -X -q -At -d "$db" -c "\\set VERBOSITY sqlstate" -c "SELECT number_wallet.renew_due_numbers()" 2>&1)
        if [ "$out" = "ERROR:  55000" ]; then ok "renew_due_numbers on $from asks for the update (55000)"; else
            not_ok "renew_due_numbers on $from asks for the update (55000)" "expected: ERROR:  55000" "got:      $out"; fi
    fi
    out=$(q "$db" "ALTER EXTENSION number_wallet UPDATE")
    check_quiet "ALTER EXTENSION number_wallet UPDATE ($from -> $latest)" $? "$out"
    check "the installed version is $latest after the update" "$latest" \
          "$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'number_wallet'")"
    check "the update left every row as it was ($from -> $latest)" "$before" "$(money_state "$db" "$columns")"
    path=$(q "$db" "SELECT path FROM pg_extension_update_paths('number_wallet') WHERE source = '$from' AND target = '$latest'")
    check_same_catalog "the extension updated along $path equals a fresh install of $latest" "$FRESH_DB" "$db"
    # 1.3's rate-limit counters start from the rows already there (alice reserved 2 numbers just now).
    check "the update counted each wallet's reservations of the last two clock hours" "2" \
          "$(q "$db" "SELECT purchases_this_hour + purchases_last_hour FROM number_wallet.wallets
                        WHERE user_id = '$ALICE'")"
    check "renew_due_numbers runs after the update (nothing due)" '{"unpaid": 0, "renewed": 0, "released": 0}' \
          "$(q "$db" "SELECT number_wallet.renew_due_numbers()")"

    out=$("$PSQL" -X -q -At -d "$db" -c "ALTER EXTENSION number_wallet UPDATE" 2>&1)
    check "a second UPDATE is a no-op" "NOTICE:  version \"$latest\" of extension \"number_wallet\" is already installed" "$out"

    check_usable "$db" "after the update from $from" "$END_USER_ROLE"
done
finish
