#!/usr/bin/env bash
# xid_wraparound_test.sh: a purchase for a wallet whose row is more than 2^31
# transactions old (a dormant customer) still succeeds.
#
# The xmin system column is the row's raw xmin, which freezing keeps. Deciding
# whether the locked wallet row is "fresh" by xid arithmetic on it reported such
# a row as still in progress, and every purchase for that wallet failed with
# XX000 "wallet row changed under its lock". purchase_number now compares the
# locked row version with the one its snapshot reads (purchase_functions.cpp).
#
# A throwaway cluster of its own (initdb into a temporary directory, run as the
# postgres user when we are root, on a free port): create the extension, credit
# a wallet, VACUUM FREEZE, then move the next transaction id 2^31 + 2^20 past
# the wallet row's xmin with pg_resetwal -x (plus the zero-filled pg_xact
# segment each new id needs), and buy. The move takes two steps of about 2^30,
# with every database frozen in between (template0 included), as a long-lived
# cluster's vacuums would have done: one jump of 2^31 would leave the other
# databases' datfrozenxid behind the wraparound horizon, and the server would
# stop accepting commands. Needs the installed extension; takes a few seconds.
# Prints "ok - ..." / "not ok - ..." and "N passed, N failed".
set -u

PG_BIN=${PG_BINDIR:-$(pg_config --bindir)}
passed=0
failed=0
ok()     { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; shift; for line in "$@"; do printf '#   %s\n' "$line"; done; }
check()  { if [ "$2" = "$3" ] && [ -n "$2" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got:      $3"; fi; }
# check_quiet NAME STATUS OUTPUT: passes when a command exited 0 and printed nothing.
check_quiet() { if [ "$2" -eq 0 ] && [ -z "$3" ]; then ok "$1"; else not_ok "$1" "exit status $2" "$3"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# PostgreSQL refuses to run as root: as root the cluster belongs to postgres.
if [ "$(id -u)" -eq 0 ]; then
    AS_PG=(runuser -u postgres -- env --chdir=/)
    SUPERUSER=postgres
else
    AS_PG=()
    SUPERUSER=$(id -un)
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nw_xid.XXXXXX")
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$WORK"
DATA=$WORK/data
pg_ctl_() { "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DATA" "$@"; }
cleanup() {
    pg_ctl_ status >/dev/null 2>&1 && pg_ctl_ -w -m immediate stop >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# A free port (PostgreSQL cannot bind port 0): the first one nobody answers on, below
# 32768 (the kernel gives 32768-60999 to outgoing connections, and a port one of them
# holds cannot be listened on even though nobody answers there).
PORT=$((26000 + $$ % 400))
for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
    PORT=$((PORT + 1))
done
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=$SUPERUSER PGDATABASE=postgres
q() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

out=$("${AS_PG[@]}" "$PG_BIN/initdb" --no-sync -D "$DATA" -U "$SUPERUSER" -A trust -E UTF8 --locale=C 2>&1)
if [ $? -ne 0 ]; then not_ok "initdb" "$out"; finish; fi
"${AS_PG[@]}" tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK'
fsync = off
autovacuum = off
CONF
start() {
    local out
    out=$(pg_ctl_ -w -t 60 -l "$WORK/log" start 2>&1)
    if [ $? -ne 0 ]; then not_ok "$1" "$out" "$(tail -n 5 "$WORK/log" 2>/dev/null)"; finish; fi
    ok "$1"
}
start "start a throwaway cluster on 127.0.0.1:$PORT"

USER_ID=00000000-0000-0000-0000-0000000000d1
out=$(q "SET client_min_messages = warning; CREATE EXTENSION number_wallet;
         SELECT number_wallet.wallet_credit('$USER_ID', 20) IS NOT NULL")
check "create the extension and credit a wallet" "t" "$out"
# Freezes every database, template0 included (it takes no connections otherwise).
freeze_all() {
    local db out status=0 all=""
    out=$(q "UPDATE pg_database SET datallowconn = true WHERE datname = 'template0'") || status=1
    all+=$out
    for db in template0 template1 postgres; do
        out=$("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "VACUUM FREEZE" 2>&1) || status=1
        all+=$out
    done
    check_quiet "$1" "$status" "$all"
}
freeze_all "VACUUM FREEZE every database"
xmin=$(q "SELECT xmin FROM number_wallet.wallets WHERE user_id = '$USER_ID'")
case $xmin in ''|*[!0-9]*) not_ok "read the wallet row's xmin" "$xmin"; finish ;; esac
# Frozen: the table's freeze horizon is past the row's xmin, which stays as it was.
check "the wallet row (xmin $xmin) is frozen" "t" \
      "$(q "SELECT relfrozenxid::text::bigint > $xmin FROM pg_class WHERE oid = 'number_wallet.wallets'::regclass")"

# move_xid TARGET: stop, pg_resetwal -x to the pg_xact segment boundary at or
# above TARGET (a segment is 32 pages of 32768 transactions = 2^20 ids, 256 KiB,
# named by its number in hex), a zero-filled segment file for it, start.
move_xid() {
    local segment next_xid seg_file out
    out=$(pg_ctl_ -w -m fast stop 2>&1)
    if [ $? -ne 0 ]; then not_ok "stop the cluster" "$out"; finish; fi
    segment=$(( ($1 + 1048575) / 1048576 ))
    next_xid=$(( segment * 1048576 ))
    out=$("${AS_PG[@]}" "$PG_BIN/pg_resetwal" -x "$next_xid" -D "$DATA" 2>&1)
    check "pg_resetwal -x $next_xid" "Write-ahead log reset" "$out"
    seg_file=$(printf '%s/pg_xact/%04X' "$DATA" "$segment")
    "${AS_PG[@]}" dd if=/dev/zero of="$seg_file" bs=262144 count=1 status=none
    check "a zero-filled pg_xact segment $(basename "$seg_file")" "262144" "$(stat -c %s "$seg_file" 2>&1)"
    start "start again with the next xid at $next_xid"
}
move_xid $((xmin + 1073741824))
freeze_all "VACUUM FREEZE every database again (the wallet row keeps its raw xmin)"
move_xid $((xmin + 2147483648 + 1048576))

check "the wallet row still has raw xmin $xmin, more than 2^31 transactions old" "t" \
      "$(q "SELECT xmin::text = '$xmin' AND pg_current_xact_id()::text::bigint - $xmin > 2147483648
              FROM number_wallet.wallets WHERE user_id = '$USER_ID'")"
out=$(q "SELECT r->>'status' || ' ' || (r->>'balance_after')
           FROM number_wallet.purchase_number('$USER_ID', '+14155550111', 5) r")
check "a purchase for the dormant wallet succeeds" "pending 15.00" "$out"
out=$(q "SELECT r->>'status' || ' ' || (r->>'balance_after')
           FROM number_wallet.purchase_number('$USER_ID', '+14155550112', 5) r")
check "a second purchase (the row rewritten now) succeeds" "pending 10.00" "$out"
check "wallet_reconcile() is empty" "0" "$(q "SELECT count(*) FROM number_wallet.wallet_reconcile()")"
finish
