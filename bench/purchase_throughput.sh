#!/usr/bin/env bash
# SQL purchase throughput, side by side in one run (issue 5): number_wallet's
# purchase_number + confirm_purchase against the reference floor (the least SQL
# with the same reserve-then-settle effect), the seed's flow and the PL/pgSQL
# peer (the same contract as plain PL/pgSQL functions, issue 15), with pgbench
# -M prepared, rotated order, several rounds, medians compared; synchronous
# commit on and off; and a hot wallet (1 user).
#   bench/purchase_throughput.sh [ROUNDS] [SECONDS] [CLIENTS] [SCENARIOS]   (default 3 10 8 all)
# SCENARIOS=users1000: only the two 1,000-user rows (synchronous_commit on, off).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
rounds=${1:-3}
seconds=${2:-10}
clients=${3:-8}
only=${4:-all}
users=1000
db=nw_bench_throughput

cluster_start >/dev/null
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
\i bench/reference/seed_schema.sql
SELECT seed.populate($users);
\i bench/reference/plpgsql_peer.sql
SELECT plpgsql_peer.populate($users);
CREATE SEQUENCE public.bench_phone_seq;
ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 0;  -- unlimited; see BENCHMARKS.md
SQL
psql -X -q -d "$db" -c "SELECT count(number_wallet.wallet_credit(md5('u' || g)::uuid, 1000000)) FROM generate_series(1, $users) g" >/dev/null

declare -A script=(
  [floor]=bench/reference/floor_two_phase.pgbench
  [seed]=bench/reference/seed_purchase.pgbench
  [number_wallet]=bench/number_wallet_purchase.pgbench
  [plpgsql]=bench/reference/plpgsql_peer_purchase.pgbench
)
tps() {  # tps VARIANT USERS SYNC [LIMIT]  (LIMIT: number_wallet.max_purchases_per_hour, default 0)
  PGOPTIONS="-c synchronous_commit=$3 -c number_wallet.max_purchases_per_hour=${4:-0} -c plpgsql_peer.max_purchases_per_hour=${4:-0}" pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" \
    -D users="$2" -f "${script[$1]}" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
median() { sort -n | awk 'NF {a[++n]=$1} END {if (n) print (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2}'; }

order=(floor number_wallet seed plpgsql)
printf '%-28s %8s %8s %8s %8s %9s %8s %11s\n' scenario floor nw seed plpgsql nw/floor nw/seed nw/plpgsql
# The last two: the hot wallet with no rate limit and with a limit it never
# reaches (1,000,000 an hour), where only the per-hour counters run (issue 15).
for scenario in "sync=on users=$users" "sync=off users=$users" "sync=on users=1" \
                "sync=off users=1 limit=0" "sync=off users=1 limit=1000000"; do
  [ "$only" = all ] || [[ $scenario == *"users=$users"* ]] || continue
  sync=${scenario#sync=}; sync=${sync%% *}
  n=${scenario#*users=}; n=${n%% *}
  limit=0; [[ $scenario == *limit=* ]] && limit=${scenario##*limit=}
  declare -A runs=([floor]="" [seed]="" [number_wallet]="" [plpgsql]="")
  for r in $(seq 1 "$rounds"); do
    for variant in "${order[@]}"; do
      [ "$n" = 1 ] && { [ "$variant" = seed ] || [ "$variant" = plpgsql ]; } && continue
      runs[$variant]+="$(tps "$variant" "$n" "$sync" "$limit")"$'\n'
    done
    order=("${order[@]:1}" "${order[0]}")  # rotate who goes first
  done
  f=$(printf '%s' "${runs[floor]}" | median)
  w=$(printf '%s' "${runs[number_wallet]}" | median)
  s=$(printf '%s' "${runs[seed]}" | median)
  p=$(printf '%s' "${runs[plpgsql]}" | median)
  [ -z "${NW_BENCH_VERBOSE:-}" ] || for v in floor number_wallet seed plpgsql; do
    echo "  $v rounds: $(printf '%s' "${runs[$v]}" | tr '\n' ' ')"
  done
  awk -v sc="$scenario" -v f="$f" -v w="$w" -v s="$s" -v p="$p" '
    function n(x) { return x == "" ? "-" : sprintf("%.0f", x) }
    function r(x) { return (x == "" || x == 0) ? "-" : sprintf("%.2f", w / x) }
    BEGIN { printf "%-28s %8.0f %8.0f %8s %8s %9.2f %8s %11s\n", sc, f, w, n(s), n(p), w / f, r(s), r(p) }'
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $clients clients, $seconds s x $rounds rounds, medians"
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null 2>&1
