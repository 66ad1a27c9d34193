#!/usr/bin/env bash
# dump_restore_test.sh: pg_dump -Fc / pg_restore keeps every row of the
# number_wallet extension and new rows can be written afterwards
# (docs/sql-api.md "Dump and restore": "Extension tables and their sequences are registered with
# pg_extension_config_dump, so a pg_dump and restore keeps every row and new rows
# can be written afterwards").
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment. Creates two new
# databases (NW_DUMP_SRC_DB / NW_DUMP_DST_DB, default nw_dump_src_$$ and
# nw_dump_dst_$$) and one role (regress_nw_dump_$$), and drops them at the end.
# Prints "ok - <check>" / "not ok - <check>" lines and a final "N passed, N failed";
# exits non-zero when a check failed.
set -u
source "$(dirname "$0")/lib/extension_db.sh"

SRC_DB=${NW_DUMP_SRC_DB:-nw_dump_src_$$}
DST_DB=${NW_DUMP_DST_DB:-nw_dump_dst_$$}
END_USER_ROLE=regress_nw_dump_$$
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nw_dump.XXXXXX")
DUMP_FILE=$WORK_DIR/number_wallet.dump
PG_DUMP=${PG_BINDIR:+$PG_BINDIR/}pg_dump
PG_RESTORE=${PG_BINDIR:+$PG_BINDIR/}pg_restore

cleanup() {
    drop_database "$SRC_DB"
    drop_database "$DST_DB"
    "$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS $END_USER_ROLE" >/dev/null 2>&1
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT

# --- 1. a source database with rows written through the functions ----------
create_database "$SRC_DB"
out=$(q "$SRC_DB" "CREATE EXTENSION number_wallet; CREATE ROLE $END_USER_ROLE NOLOGIN NOINHERIT")
check_quiet "create the extension and an end-user role" $? "$out"
write_sample_rows "$SRC_DB" "$END_USER_ROLE"

# --- 2. dump and restore into a second new database ------------------------
out=$("$PG_DUMP" -Fc -f "$DUMP_FILE" -d "$SRC_DB" 2>&1)
check_quiet "pg_dump -Fc" $? "$out"
create_database "$DST_DB"
out=$("$PG_RESTORE" -d "$DST_DB" "$DUMP_FILE" 2>&1)
check_quiet "pg_restore without errors or warnings" $? "$out"

# --- 3. the same extension, every row, every sequence position --------------
check_same_catalog "the restored extension has the source's catalog (version, privileges, RLS, triggers, comments)" \
    "$SRC_DB" "$DST_DB"
src=$(money_state "$SRC_DB")
check "the source has the contract's tables" "business_numbers discrepancies transactions wallets" \
      "$(awk '{print $1}' <<<"$src" | grep -xE 'business_numbers|discrepancies|transactions|wallets' | paste -sd' ')"
dst=$(money_state "$DST_DB")
while read -r table rows hash; do
    check "rows of number_wallet.$table match ($rows rows)" "$table $rows $hash" "$(grep "^$table " <<<"$dst")"
done <<<"$src"

sql="SELECT coalesce(string_agg(sequencename || '=' || coalesce(last_value::text, 'null'), ' ' ORDER BY sequencename), '')
       FROM pg_sequences WHERE schemaname = 'number_wallet'"
check "identity sequence positions match" "$(q "$SRC_DB" "$sql")" "$(q "$DST_DB" "$sql")"

# --- 4. the restored database is consistent and usable ---------------------
check_usable "$DST_DB" "after the restore" "$END_USER_ROLE"
finish
