#!/usr/bin/env bash
# Backend memory during one large renew_due_numbers pass (issue 9, item 14):
# each number is renewed in its own SPI connection, so the pass must not keep
# every number's result sets (about 35 kB a number before the fix, 700 MB for
# 20000 numbers) until it ends.
#
# Makes N numbers due, 20 for each of N/20 users (bought and confirmed in one
# statement), then one session loads the extension (a pass with nothing due),
# moves paid_until an hour into the past, reads its backend's /proc status
# (pg_read_file), runs renew_due_numbers(N) and reads it again. VmHWM is the
# backend's peak resident memory: shared buffers the pass touches (RssShmem)
# count in it, so the check is on the rest, the backend's private peak.
#   bench/renewal_memory.sh [NUMBERS]     (default 20000)
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
numbers=${1:-20000}
limit_kb=$((32 * 1024))

cluster_start >/dev/null
db=nw_bench_renewal
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -d "$db" -c "CREATE EXTENSION number_wallet" \
     -c "ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 0" >/dev/null
start=$(date +%s)
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TEMP TABLE bench_users AS
  SELECT u, ('00000000-0000-0000-0000-' || lpad(to_hex(u), 12, '0'))::uuid AS user_id
    FROM generate_series(0, ($numbers - 1) / 20) u;
SELECT count(number_wallet.wallet_credit(user_id, 100)) FROM bench_users;
SELECT count(number_wallet.confirm_purchase((number_wallet.purchase_number(b.user_id, '+1' || (3000000000 + g)::text, 0.01)
         ->>'number_id')::uuid, 'PN' || lpad(g::text, 32, '0')))
  FROM generate_series(0, $numbers - 1) g JOIN bench_users b ON b.u = g / 20;
VACUUM ANALYZE number_wallet.business_numbers;
SQL
setup=$(( $(date +%s) - start ))

status_kb() { echo "substring(pg_read_file('/proc/self/status') from '$1:\\s+(\\d+) kB')"; }
status() { echo "SELECT $(status_kb VmHWM), $(status_kb RssShmem), $(status_kb RssAnon), $(status_kb RssFile);"; }
out=$(psql -X -q -tA -d "$db" -F ' ' <<SQL
SELECT number_wallet.renew_due_numbers(1) IS NOT NULL AS warm;
UPDATE number_wallet.business_numbers SET paid_until = now() - interval '1 hour';
$(status)
SELECT clock_timestamp() AS t0 \gset
SELECT (r->>'renewed') FROM number_wallet.renew_due_numbers($numbers) r;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2);
$(status)
SQL
)
read -r _ hwm0 shm0 anon0 file0 renewed seconds hwm1 shm1 anon1 file1 <<<"$(tr '\n' ' ' <<<"$out")"
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
growth=$((hwm1 - hwm0))
private=$((growth - (shm1 - shm0) - (file1 - file0)))
echo "numbers: $numbers due ($(( (numbers + 19) / 20 )) users, set up in ${setup}s), renewed in one pass: $renewed in ${seconds}s"
echo "backend peak RSS (VmHWM): +${growth} kB over the pass, of which shared buffers touched (RssShmem) +$((shm1 - shm0)) kB," \
     "mapped files +$((file1 - file0)) kB: private peak growth ${private} kB" \
     "($((private * 1024 / (numbers > 0 ? numbers : 1))) bytes a number; limit $limit_kb kB); RssAnon ${anon0} -> ${anon1} kB"
[ "$renewed" = "$numbers" ] && [ "$private" -lt "$limit_kb" ]
