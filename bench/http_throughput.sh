#!/usr/bin/env bash
# HTTP throughput of the shim, side by side in one run (ratios, not lone numbers):
#  1. purchases/s through the shim (live mode against build/fake-twilio, every buy
#     answered in 250 ms) against the same buyers buying straight from the fake:
#     64 buyers (wrk: one thread, one connection, one user token each), each buying
#     its own distinct numbers one after another; rounds alternate who goes first
#     (the fake is reset and the numbers freed in the database between phases),
#     medians compared.
#  2. GET /api/wallet requests/s (wrk, user tokens) against pgbench running the
#     shim's query (shim/db/statements.hpp kWallet) with -M prepared, same
#     concurrency, same role; rounds alternate who goes first, medians compared.
#  3. the shim's peak VmRSS while all of that runs, against 64 MB.
# Exits 0 whatever the ratios (a benchmark, not a test); non-zero when setup fails.
#   bench/http_throughput.sh [WALLET_SECONDS] [WALLET_CONNECTIONS] [WALLET_ROUNDS] [BUY_ROUNDS]   (default 8 16 2 3)
# DATABASE_POOL_SIZE, if set, is passed to the shim. Needs wrk (Debian package wrk).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
wallet_seconds=${1:-8}
wallet_conns=${2:-16}
wallet_rounds=${3:-2}
buy_rounds=${4:-3}
buyers=64
buy_delay_ms=250
db=nw_bench_http
role=nw_bench_http_shim
secret=nw-bench-http-secret-0123456789abcdef0123456789
tw_sid=AC00000000000000000000000000000000
tw_token=fake-auth-token
shim_bin=$PROJECT_DIR/build/number-wallet-shim
fake_bin=$PROJECT_DIR/build/fake-twilio
lua_dir=$PROJECT_DIR/bench/http

die() { log "setup failed: $*"; exit 1; }

W=$(mktemp -d /tmp/nw-bench-http.XXXXXX)
fake_pid="" shim_pid="" sampler_pid="" wrk_pid=""
cleanup() {
  local rc=$?
  set +e
  for pid in "$wrk_pid" "$sampler_pid" "$shim_pid" "$fake_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
  [ "$NW_STARTED_CLUSTER" = 1 ] && cluster_stop
  [ -n "${NW_BENCH_KEEP:-}" ] && log "kept $W" || rm -rf "$W"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$shim_bin" ] && [ -x "$fake_bin" ] || die "build/number-wallet-shim and build/fake-twilio are missing (run make)"
command -v wrk >/dev/null || install_missing_packages wrk
for tool in wrk pgbench psql curl jq; do command -v "$tool" >/dev/null || die "$tool is missing"; done

# ---- database, role, wallets ----------------------------------------------------
cluster_start >/dev/null || die "cannot start PostgreSQL"
psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null 2>"$W/psql.err" <<SQL || die "$(cat "$W/psql.err")"
DROP DATABASE IF EXISTS $db WITH (FORCE);
DROP ROLE IF EXISTS $role;
CREATE DATABASE $db;
CREATE ROLE $role LOGIN;
SQL
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null 2>"$W/psql.err" <<SQL || die "$(cat "$W/psql.err")"
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 1000000;
GRANT number_wallet_service TO $role;
SELECT count(number_wallet.wallet_credit(md5('u' || n)::uuid, 100000)) FROM generate_series(1, $buyers) n;
SQL
mapfile -t users < <(psql -X -At -d "$db" -c "SELECT md5('u' || n)::uuid FROM generate_series(1, $buyers) n ORDER BY n")
[ "${#users[@]}" -eq "$buyers" ] || die "could not list the users"

# ---- the fake Twilio and the shim ------------------------------------------------
"$fake_bin" --port 0 --buy-delay-ms "$buy_delay_ms" >"$W/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$W/fake.log" && break; sleep 0.1; done
fake_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$W/fake.log")
[ -n "$fake_port" ] || die "fake-twilio did not start: $(cat "$W/fake.log")"
fake=http://127.0.0.1:$fake_port

(
  cd "$W"  # no .env from the checkout
  exec env -i PATH="$PATH" PORT=0 \
    DATABASE_URL="postgresql://$role@127.0.0.1:$PGPORT/$db" \
    SUPABASE_JWT_SECRET="$secret" TWILIO_TESTING_MODE=false TWILIO_API_BASE="$fake" \
    TWILIO_ACCOUNT_SID="$tw_sid" TWILIO_AUTH_TOKEN="$tw_token" RECONCILE_INTERVAL_SECONDS=3600 \
    ${DATABASE_POOL_SIZE:+DATABASE_POOL_SIZE="$DATABASE_POOL_SIZE"} "$shim_bin" serve
) >"$W/shim.log" 2>&1 &
shim_pid=$!
shim=""
for _ in $(seq 1 100); do  # the shim binds a free port and logs it
  shim_port=$(grep '"msg":"listening"' "$W/shim.log" 2>/dev/null | jq -r '.port // empty' 2>/dev/null || true)
  shim=${shim_port:+http://127.0.0.1:$shim_port}
  [ -n "$shim" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$shim/api/health" 2>/dev/null)" = 200 ] && break
  kill -0 "$shim_pid" 2>/dev/null || break
  sleep 0.1
done
curl -sf "$shim/api/health" | jq -e '.twilio == "live"' >/dev/null ||
  die "the shim did not start live: $(tail -n 5 "$W/shim.log")"

# ---- tokens and numbers ----------------------------------------------------------
: >"$W/tokens"
for u in "${users[@]}"; do
  (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$secret" \
    "$shim_bin" token --sub "$u" --ttl 3600) >>"$W/tokens" || die "cannot mint a token"
done
[ "$(wc -l <"$W/tokens")" -eq "$buyers" ] || die "expected $buyers tokens"

# The fake's whole inventory, dealt round-robin: every buyer gets distinct numbers.
# (a search answers at most 1000; one per area code)
for ca in US:415 US:212 US:646 US:718 CA:604 CA:416 CA:514; do
  curl -sf -u "$tw_sid:$tw_token" \
    "$fake/2010-04-01/Accounts/$tw_sid/AvailablePhoneNumbers/${ca%:*}/Local.json?AreaCode=${ca#*:}&PageSize=1000"
done | jq -r '.available_phone_numbers[].phone_number' >"$W/numbers"
total=$(wc -l <"$W/numbers")
per_buyer=$((total / buyers))
[ "$per_buyer" -ge 8 ] || die "the fake offers only $total numbers"
awk -v b="$buyers" -v k="$per_buyer" '
  NR <= b * k { line[(NR - 1) % b] = line[(NR - 1) % b] " " $1 }
  END { for (i = 0; i < b; i++) print substr(line[i], 2) }' "$W/numbers" >"$W/direct.data"
paste -d' ' "$W/tokens" "$W/direct.data" >"$W/shim.data"

# ---- measuring helpers -----------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -n | awk 'NF {a[++n] = $1} END {if (n) print (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2}'; }

# buy_phase MODE URL DATA: sets RESULT to wrk's RESULT line; stops wrk once every buyer is done.
buy_phase() {
  local mode=$1 url=$2 data=$3
  : >"$W/done"
  NW_MODE=$mode NW_DATA=$data NW_DONE=$W/done \
    NW_PATH="/2010-04-01/Accounts/$tw_sid/IncomingPhoneNumbers.json" \
    NW_AUTH="Basic $(printf '%s:%s' "$tw_sid" "$tw_token" | base64 -w0)" \
    wrk -t "$buyers" -c "$buyers" -d 60s --timeout 30s -s "$lua_dir/buyers.lua" "$url" >"$W/wrk.$mode" 2>&1 &
  wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    # wrk sleeps for -d: once every thread stopped, SIGINT ends it early (and it reports).
    [ "$(wc -l <"$W/done")" -ge "$buyers" ] && kill -INT "$wrk_pid" 2>/dev/null
    sleep 0.2
  done
  wait "$wrk_pid" || true
  wrk_pid=""
  grep '^BAD_SAMPLE' "$W/wrk.$mode" >&2 || true
  RESULT=$(grep '^RESULT' "$W/wrk.$mode") || { cat "$W/wrk.$mode" >&2; return 1; }
}

# Peak VmRSS (kB) and thread count of the shim, every 0.1 s until killed.
(
  while kill -0 "$shim_pid" 2>/dev/null; do
    awk '/^VmRSS:/ {r = $2} /^Threads:/ {t = $2} END {print r, t}' "/proc/$shim_pid/status" 2>/dev/null
    sleep 0.1
  done
) >"$W/rss" &
sampler_pid=$!

# ---- 1. purchases ----------------------------------------------------------------
# Rounds alternate who goes first; between phases the fake forgets what it sold
# and the shim's numbers are released and deleted in the database, so every
# round buys the same numbers again. Medians of the rates are compared.
free_numbers() {
  curl -sf -X POST -d '' "$fake/__control/reset" >/dev/null || die "cannot reset the fake"
  psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 -c "SELECT count(number_wallet.mark_provider_released(
      (number_wallet.release_number(user_id, id)->>'number_id')::uuid))
      FROM number_wallet.business_numbers WHERE status = 'active'" >/dev/null 2>"$W/psql.err" ||
    die "cannot free the numbers: $(cat "$W/psql.err")"
}
log "purchases: $buyers buyers x $per_buyer numbers, buys answered in $buy_delay_ms ms, $buy_rounds rounds"
direct_runs="" shim_runs="" buy_shim_cpu="" buy_sys_busy="" peak_in_flight=""
shim_buy_round() {
  local c0 c1 s0 s1 i0 i1
  c0=$(proc_ticks "$shim_pid"); read -r s0 i0 < <(sys_ticks)
  buy_phase shim "$shim" "$W/shim.data" || die "the shim phase produced no result"
  c1=$(proc_ticks "$shim_pid"); read -r s1 i1 < <(sys_ticks)
  [ "$(field ok "$RESULT")" -eq "$((buyers * per_buyer))" ] || die "the shim bought $(field ok "$RESULT") numbers"
  shim_runs+="$(field rate "$RESULT")"$'\n'
  buy_shim_cpu+="$(awk -v c=$((c1 - c0)) -v hz="$clk_tck" -v s="$(field seconds "$RESULT")" 'BEGIN {printf "%.0f%%", 100 * c / hz / s}') "
  buy_sys_busy+="$(awk -v t=$((s1 - s0)) -v i=$((i1 - i0)) 'BEGIN {printf "%.0f%%", t ? 100 * (t - i) / t : 0}') "
  peak_in_flight+="$(curl -sf "$fake/__control/state" | jq -r .peakBuysInFlight) "
  free_numbers
}
direct_buy_round() {
  buy_phase direct "$fake" "$W/direct.data" || die "the direct phase produced no result"
  [ "$(field ok "$RESULT")" -eq "$((buyers * per_buyer))" ] || die "the fake sold $(field ok "$RESULT") numbers"
  direct_runs+="$(field rate "$RESULT")"$'\n'
  free_numbers
}
for r in $(seq 1 "$buy_rounds"); do
  if [ $((r % 2)) = 1 ]; then direct_buy_round; shim_buy_round; else shim_buy_round; direct_buy_round; fi
done
shim_rate=$(printf '%s' "$shim_runs" | median)
direct_rate=$(printf '%s' "$direct_runs" | median)

# ---- 2. GET /api/wallet vs pgbench -----------------------------------------------
head -n "$wallet_conns" "$W/tokens" >"$W/wallet.tokens"
pg_args=()
for k in $(seq 1 "$wallet_conns"); do
  echo "SELECT balance_usd::text, balance_inr::text FROM number_wallet.wallets WHERE user_id = :u$k::uuid;" \
    >"$W/wallet$k.pgbench"
  pg_args+=(-D "u$k=${users[$((k - 1))]}" -f "$W/wallet$k.pgbench")
done
wallet_wrk() {
  NW_DATA=$W/wallet.tokens NW_THREADS=2 wrk -t 2 -c "$wallet_conns" -d "${wallet_seconds}s" \
    -s "$lua_dir/wallet.lua" "$shim" >"$W/wrk.wallet" 2>&1 || true
  local r
  r=$(grep '^RESULT' "$W/wrk.wallet") || { cat "$W/wrk.wallet" >&2; return 1; }
  [ "$(field bad "$r")" = 0 ] || log "GET /api/wallet: $(field bad "$r") failed requests"
  field rate "$r"
}
wallet_pgbench() {
  pgbench -n -M prepared -U "$role" -c "$wallet_conns" -j 2 -T "$wallet_seconds" "${pg_args[@]}" "$db" \
    2>"$W/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
log "GET /api/wallet vs pgbench: $wallet_conns connections, $wallet_rounds x ${wallet_seconds} s each"
http_runs="" pg_runs="" wallet_cpu=""
for r in $(seq 1 "$wallet_rounds"); do
  if [ $((r % 2)) = 1 ]; then
    c0=$(proc_ticks "$shim_pid"); read -r s0 i0 < <(sys_ticks)
    http_runs+="$(wallet_wrk)"$'\n'
    c1=$(proc_ticks "$shim_pid"); read -r s1 i1 < <(sys_ticks)
    pg_runs+="$(wallet_pgbench)"$'\n'
  else
    pg_runs+="$(wallet_pgbench)"$'\n'
    c0=$(proc_ticks "$shim_pid"); read -r s0 i0 < <(sys_ticks)
    http_runs+="$(wallet_wrk)"$'\n'
    c1=$(proc_ticks "$shim_pid"); read -r s1 i1 < <(sys_ticks)
  fi
  wallet_cpu+="$(awk -v c=$((c1 - c0)) -v hz="$clk_tck" -v s="$wallet_seconds" -v t=$((s1 - s0)) -v i=$((i1 - i0)) \
    'BEGIN {printf "%.0f%%/%.0f%%", 100 * c / hz / s, t ? 100 * (t - i) / t : 0}') "
done
http_rps=$(printf '%s' "$http_runs" | median)
pg_tps=$(printf '%s' "$pg_runs" | median)
[ -n "$http_rps" ] && [ -n "$pg_tps" ] || die "the wallet phase produced no result: $(cat "$W/pgbench.err")"

# ---- 3. RSS ------------------------------------------------------------------------
kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
read -r rss_kb max_threads < <(awk '$1 > r {r = $1} $2 > t {t = $2} END {print r + 0, t + 0}' "$W/rss")

# ---- report ------------------------------------------------------------------------
row() {  # row NAME A B RATIO_EXPR TARGET_TEXT PASS(1/0)
  printf '%-44s %10s %10s %7s %9s  %s\n' "$1" "$2" "$3" "$4" "$5" "$([ "$6" = 1 ] && echo pass || echo FAIL)"
}
buy_ratio=$(awk -v a="$shim_rate" -v b="$direct_rate" 'BEGIN {printf "%.2f", a / b}')
wallet_ratio=$(awk -v a="$http_rps" -v b="$pg_tps" 'BEGIN {printf "%.2f", a / b}')
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')
rss_ratio=$(awk -v m="$rss_mb" 'BEGIN {printf "%.2f", m / 64}')
echo
printf '%-44s %10s %10s %7s %9s  %s\n' measurement A B A/B target result
row "purchases/s: shim (A) vs direct to fake (B)" "$(printf '%.1f' "$shim_rate")" "$(printf '%.1f' "$direct_rate")" "$buy_ratio" ">= 0.85" \
  "$(awk -v r="$buy_ratio" 'BEGIN {print (r >= 0.85)}')"
row "wallet req/s: GET /api/wallet vs pgbench" "$(printf '%.0f' "$http_rps")" "$(printf '%.0f' "$pg_tps")" "$wallet_ratio" ">= 0.50" \
  "$(awk -v r="$wallet_ratio" 'BEGIN {print (r >= 0.5)}')"
row "shim peak VmRSS MB (A) vs 64 MB (B)" "$rss_mb" "64" "$rss_ratio" "< 1.00" \
  "$(awk -v r="$rss_mb" 'BEGIN {print (r < 64)}')"
echo
echo "purchase rounds (shim / direct, per s): $(printf '%s' "$shim_runs" | awk '{printf "%.1f ", $1}')/ $(printf '%s' "$direct_runs" | awk '{printf "%.1f ", $1}');" \
  "$buyers buyers x $per_buyer numbers a round, buys answered in $buy_delay_ms ms (ideal $(awk -v b="$buyers" -v d="$buy_delay_ms" 'BEGIN {printf "%.0f", b * 1000 / d}')/s)"
echo "during shim purchases: shim CPU (of a core) ${buy_shim_cpu}, machine busy ${buy_sys_busy}, fake peak buys in flight $peak_in_flight;" \
  "shim threads max $max_threads, DATABASE_POOL_SIZE ${DATABASE_POOL_SIZE:-32 (default)}"
echo "wallet rounds (wrk / pgbench): $(printf '%s' "$http_runs" | awk '{printf "%.0f ", $1}')/ $(printf '%s' "$pg_runs" | awk '{printf "%.0f ", $1}');" \
  "shim CPU/machine busy during wrk: $wallet_cpu"
echo "machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(free -m | awk '/Mem:/ {printf "%.1f GiB", $2 / 1024}') memory, load $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
