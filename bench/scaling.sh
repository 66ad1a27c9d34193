#!/usr/bin/env bash
# The figures of docs/scaling.md, measured on this machine (indicative: the
# machines this project runs on are shared).
#   bench/scaling.sh [SECONDS] [CLIENTS]   (default 10 8)
# 1. SQL purchases per second (purchase_number + confirm_purchase, pgbench,
#    synchronous_commit on) and the database's CPU seconds per purchase;
# 2. the shim's CPU per HTTP purchase (testing mode, the built-in simulator),
#    from /proc/<pid>/stat, so how many shims one database feeds;
# 3. bytes per wallet, number and ledger row (tables and indexes), so what one
#    primary holds.
# Uses the local cluster of scripts/lib.sh (NW_PG_ROOT / NW_PG_PORT honoured).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
set +e
seconds=${1:-10}
clients=${2:-8}
users=1000
db=nw_bench_scaling

cluster_start >/dev/null
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
CREATE SEQUENCE public.bench_phone_seq;
ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 0;
SQL
psql -X -q -d "$db" -c "SELECT count(number_wallet.wallet_credit(md5('u' || g)::uuid, 1000000)) FROM generate_series(1, $users) g" >/dev/null

# CPU ticks (user + system) of this cluster: the postmaster, its children, and
# the children it has already reaped.
pg_ticks() {
  local pm pid sum t
  pm=$(head -n1 "$CLUSTER_DIR/data/postmaster.pid")
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for pid in $(pgrep -P "$pm"); do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && sum=$((sum + t))
  done
  echo "$sum"
}
hz=$(getconf CLK_TCK)

echo "== SQL: purchase_number + confirm_purchase, $clients clients, ${seconds} s"
before=$(pg_ticks)
out=$("$PG_BIN/pgbench" -n -M prepared -c "$clients" -j 2 -T "$seconds" -D users=$users \
  -f bench/number_wallet_purchase.pgbench "$db" 2>&1)
after=$(pg_ticks)
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
purchases=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
echo "purchases/s: $tps ($purchases in ${seconds} s)"
awk -v t=$((after - before)) -v hz="$hz" -v n="$purchases" \
  'BEGIN {printf "database CPU per purchase: %.2f ms (all postgres processes)\n", 1000 * t / hz / n}'

echo "== HTTP: the shim's CPU per purchase (simulator)"
W=$(mktemp -d)
secret=scaling-secret-0123456789abcdefghijklmnopqrstuvwxyz
psql -X -q -d "$db" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nw_scaling_shim') THEN CREATE ROLE nw_scaling_shim LOGIN; END IF; END \$\$" \
  -c "GRANT number_wallet_service TO nw_scaling_shim" >/dev/null
(cd "$W" && exec env -i PATH="$PATH" DATABASE_URL="postgresql://nw_scaling_shim@127.0.0.1:$PGPORT/$db" \
  SUPABASE_JWT_SECRET=$secret TWILIO_TESTING_MODE=true PORT=0 RECONCILE_INTERVAL_SECONDS=3600 \
  "$PROJECT_DIR/build/number-wallet-shim" serve) >"$W/shim.log" 2>&1 &
shim=$!
for _ in $(seq 1 100); do port=$(grep -o '"port":[0-9]*' "$W/shim.log" | head -n1 | cut -d: -f2); [ -n "$port" ] && break; sleep 0.1; done
n=400
tokens=()
for i in $(seq 1 8); do
  u=$(cat /proc/sys/kernel/random/uuid)
  tokens+=("$(cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET=$secret "$PROJECT_DIR/build/number-wallet-shim" token --sub "$u")")
  psql -X -q -d "$db" -c "SELECT number_wallet.wallet_credit('$u', 100000)" >/dev/null
done
s0=$(awk '{print $14 + $15}' "/proc/$shim/stat")
p0=$(pg_ticks)
t0=$(date +%s.%N)
for i in $(seq 0 7); do
  (for j in $(seq 1 $((n / 8))); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/numbers/purchase" -H "Authorization: Bearer ${tokens[$i]}" \
      -H 'Content-Type: application/json' --data-binary "{\"phoneNumber\":\"+1415555$(printf %04d $((100 + i * 100 + j)))\"}"
  done) &
done
wait $(jobs -p | grep -v "^$shim$") 2>/dev/null
t1=$(date +%s.%N)
s1=$(awk '{print $14 + $15}' "/proc/$shim/stat")
p1=$(pg_ticks)
made=$(psql -X -At -d "$db" -c "SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'active' AND provider = 'simulator'")
kill "$shim"; wait "$shim" 2>/dev/null
awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v hz="$hz" -v n="$made" -v d="$(echo "$t1 - $t0" | bc)" 'BEGIN {
  printf "%d purchases in %.1f s; shim CPU per purchase %.2f ms, database CPU per purchase %.2f ms\n", n, d, 1000 * s / hz / n, 1000 * p / hz / n }'
rm -rf "$W"

echo "== storage per row (tables and their indexes)"
psql -X -q -d "$db" -c "VACUUM ANALYZE" >/dev/null
psql -X -d "$db" -c "
SELECT c.relname AS table, c.reltuples::bigint AS rows,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total,
       round(pg_total_relation_size(c.oid)::numeric / nullif(c.reltuples, 0)) AS bytes_per_row
  FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
 WHERE s.nspname = 'number_wallet' AND c.relkind = 'r' AND c.reltuples > 0
 ORDER BY pg_total_relation_size(c.oid) DESC"
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
