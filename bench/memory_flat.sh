#!/usr/bin/env bash
# Backend private memory over many calls in one session, half of them failing
# (issue 2 and 5: the C++/PostgreSQL boundary must not leak on either path).
#
# One psql session makes N calls: for each i, a purchase and its confirm that
# succeed, and a purchase and a confirm that fail (22023, NW003). RssAnon of
# the backend (private anonymous memory; RSS would count shared buffers) is
# read from the backend's /proc/self/status (pg_read_file) after a warm-up and again at the end.
#   bench/memory_flat.sh [CALLS]     (default 100000)
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
calls=${1:-100000}
iterations=$((calls / 4))
warmup=$((iterations / 20))

cluster_start >/dev/null
db=nw_bench_memory
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -d "$db" -c "CREATE EXTENSION number_wallet" \
     -c "ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 0" >/dev/null

script=$(mktemp)
trap 'rm -f "$script"' EXIT
user=00000000-0000-0000-0000-00000000be01
{
  echo "SELECT number_wallet.wallet_credit('$user', 1000000) IS NOT NULL;"
  awk -v n="$iterations" -v w="$warmup" -v u="$user" 'BEGIN {
    for (i = 1; i <= n; i++) {
      phone = sprintf("+1%010d", 2000000000 + i)
      printf "SELECT number_wallet.purchase_number(\x27%s\x27, \x27%s\x27, 0.01) AS p \\gset\n", u, phone
      printf "SELECT number_wallet.confirm_purchase((:\x27p\x27::jsonb->>\x27number_id\x27)::uuid, \x27PN%032d\x27);\n", i
      printf "SELECT number_wallet.purchase_number(\x27%s\x27, \x27not-a-number\x27, 0.01);\n", u
      printf "SELECT number_wallet.confirm_purchase(\x2700000000-0000-0000-0000-000000000000\x27, \x27PN1\x27);\n"
      if (i == w) print "SELECT \x27after warm-up \x27 || substring(pg_read_file(\x27/proc/self/status\x27) from \x27RssAnon:\\s+\\d+ kB\x27);"
    }
    print "SELECT \x27at the end \x27 || substring(pg_read_file(\x27/proc/self/status\x27) from \x27RssAnon:\\s+\\d+ kB\x27);"
  }'
} >"$script"

start=$(date +%s)
out=$(psql -X -q -t -d "$db" -f "$script" 2>/dev/null | grep RssAnon | sed 's/^ *//')
elapsed=$(( $(date +%s) - start ))
before=$(echo "$out" | sed -n 's/^after warm-up RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p')
after=$(echo "$out" | sed -n 's/^at the end RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p')
failures=$(psql -X -tAq -d "$db" -c "SELECT $calls - 2 * count(*) FROM number_wallet.business_numbers WHERE status = 'active'")
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
echo "calls: $calls in one session (${elapsed}s), failing calls: $failures"
echo "backend RssAnon after warm-up: ${before} kB, at the end: ${after} kB, growth: $((after - before)) kB"
[ $((after - before)) -lt 5120 ]
