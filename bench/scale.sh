#!/usr/bin/env bash
# Costs as the data grows (issue 15): the per-operation costs a deployment is
# sized with, measured at several sizes of the same database, and how each
# grows from the smallest size to the largest (target: at most 1.3 times).
# See --help. Results: a table on stdout, bench/scale/results.tsv, bench/scale.svg.
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PROJECT_DIR"
set +e +o pipefail

usage() {
  cat <<'EOF'
usage: bench/scale.sh [--sizes 1000,100000,1000000] [--seconds 5] [--clients 4] [--runs 3]
                      [--requests 100] [--out DIR]

For each size W (wallets), builds a fresh database nw_bench_scale in SQL
(bench/scale/generate.sql, as the table owner, every row rule and index on):
  * W wallets, each with one active and one released (refunded) number and
    four ledger rows;
  * 100,000 numbers falling due now (5,000 wallets of 20);
  * one user with a long history: 2,000 numbers and 10,001 ledger rows;
  * 10,000 numbers (500 wallets) that the fake Twilio also holds;
then measures, per operation, its cost (the median of --runs runs, or of
--requests requests):
  purchase+settle    purchase_number + confirm_purchase, pgbench, --clients
                     clients for --seconds, random users among the W: wall ms
                     per purchase (1 / throughput)
  numbers page       GET /api/numbers?limit=50 of the long-history user, a page
                     near its oldest number (keyset `before`): ms per request
  transactions page  GET /api/transactions?limit=50, a page near the oldest entry
  refund_quote       GET /api/numbers/{id}/refund-quote: ms per request
  renewal            one renew_due_numbers(100000) pass over the 100,000 due
                     numbers: µs per number renewed (and numbers/s, and the
                     backend's private peak memory growth)
  sweep              `number-wallet-shim reconcile` against build/fake-twilio
                     holding the 10,000 numbers, 1,000 a page: ms per page
  buyer page         GET / with its four assets, then the three calls the page
                     makes before it shows anything (wallet, numbers,
                     transactions): ms, and the bytes transferred
  operator page      GET /admin with its assets, then summary and interventions
  metrics snapshot   SELECT * FROM metrics_snapshot(), once (what a /metrics scrape
                     reads at most every 15 s): ms
Times are single-client latencies over HTTP through the shim (keep-alive, one
curl process), except purchase+settle (throughput) and renewal.

  --sizes LIST     wallet counts, comma-separated (default 1000,100000,1000000;
                   NW_BENCH_SCALE_SIZES also sets it)
  --seconds N      pgbench seconds per purchase run (default 5)
  --clients N      pgbench clients (default 4)
  --runs N         runs per size for purchase+settle, the sweep and the pages (default 3)
  --requests N     requests per HTTP latency figure (default 100)
  --out DIR        where results.tsv goes (default bench/scale); the SVG is
                   written to bench/scale.svg
NW_BENCH_KEEP=1 keeps the last size's database and the work directory.
Needs the build (make), curl, jq and pgbench; uses the local cluster of
scripts/lib.sh (NW_PG_ROOT, NW_PG_PORT, NW_CLUSTER_DIR honoured). A benchmark,
not a test: exits 0 whatever the ratios, non-zero when setup fails.
EOF
}

sizes=${NW_BENCH_SCALE_SIZES:-1000,100000,1000000}
seconds=5 clients=4 runs=3 requests=100 out=bench/scale
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$seconds" "$clients" "$runs" "$requests" ${sizes//,/ }; do
  case $v in ''|*[!0-9]*|0) echo "bench/scale.sh: numbers must be positive integers" >&2; exit 2 ;; esac
done

renewal=100000 history=10000 sweep_numbers=10000 page_size=1000
db=nw_bench_scale
role=nw_bench_scale_shim
secret=nw-bench-scale-secret-0123456789abcdef0123456789
tw_sid=AC00000000000000000000000000000000
tw_token=fake-auth-token
shim_bin=$PROJECT_DIR/build/number-wallet-shim
fake_bin=$PROJECT_DIR/build/fake-twilio
mkdir -p "$out"
results=$out/results.tsv
W=$(mktemp -d /tmp/nw-bench-scale.XXXXXX)
fake_pid="" shim_pid=""

die() { log "scale: setup failed: $*"; exit 1; }
cleanup() {
  local rc=$?
  set +e
  for pid in "$shim_pid" "$fake_pid"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  if [ -n "${NW_BENCH_KEEP:-}" ]; then
    log "kept $W and the database $db (the last size)"
  else
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$shim_bin" ] && [ -x "$fake_bin" ] || die "build/number-wallet-shim and build/fake-twilio are missing (run make)"
for tool in pgbench psql curl jq awk; do command -v "$tool" >/dev/null || die "$tool is missing"; done
cluster_start >/dev/null || die "cannot start PostgreSQL"
hz=$(getconf CLK_TCK)

median() { sort -g | awk 'NF {a[++n] = $1} END {if (n) print (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2}'; }
now_ns() { date +%s%N; }
q() { psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 "$@"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }  # op size value

# ---- the fake Twilio: one for the whole run, holding the sweep's numbers -----------
"$fake_bin" --port 0 >"$W/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$W/fake.log" && break; sleep 0.1; done
fake_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$W/fake.log")
[ -n "$fake_port" ] || die "fake-twilio did not start: $(cat "$W/fake.log")"
fake=http://127.0.0.1:$fake_port
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "{\"pageSize\":$page_size}" \
  "$fake/__control/config" >/dev/null || die "cannot configure the fake"
# One curl, keep-alive: POST /__control/own for each number, tagged with its row id.
psql -X -At -d postgres -F ' ' -c "SELECT 8000000000 + k, md5('s' || k)::uuid FROM generate_series(1, $sweep_numbers) k" |
  awk -v u="$fake/__control/own" '{
    if (NR > 1) print "next"
    printf "url = \"%s\"\nheader = \"Content-Type: application/json\"\n", u
    printf "data = \"{\\\"phoneNumber\\\":\\\"+1%s\\\",\\\"friendlyName\\\":\\\"%s\\\"}\"\n", $1, $2 }' >"$W/own.cfg"
curl -s -K "$W/own.cfg" -w '\n' | jq -r 'select(.sid) | [.friendly_name, .phone_number, .sid] | @tsv' >"$W/sweep.tsv"
[ "$(wc -l <"$W/sweep.tsv")" -eq "$sweep_numbers" ] || die "the fake holds $(wc -l <"$W/sweep.tsv") of $sweep_numbers numbers"

# ---- the shim --------------------------------------------------------------------------
shim_env() {  # in a subshell: it becomes the shim (exec), so killing the subshell's pid stops it
  exec env -i PATH="$PATH" DATABASE_URL="postgresql://$role@127.0.0.1:$PGPORT/$db" SUPABASE_JWT_SECRET="$secret" \
    TWILIO_TESTING_MODE=false TWILIO_API_BASE="$fake" TWILIO_ACCOUNT_SID="$tw_sid" TWILIO_AUTH_TOKEN="$tw_token" \
    RECONCILE_INTERVAL_SECONDS=86400 WEB_ROOT="$PROJECT_DIR/web" PORT=0 "$@"
}
start_shim() {
  (cd "$W" && shim_env "$shim_bin" serve) >"$W/shim.log" 2>&1 &
  shim_pid=$!
  shim=""
  for _ in $(seq 1 150); do
    local p
    p=$(grep '"msg":"listening"' "$W/shim.log" 2>/dev/null | jq -r '.port // empty' 2>/dev/null)
    [ -n "$p" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/api/health")" = 200 ] &&
      shim=http://127.0.0.1:$p && return 0
    kill -0 "$shim_pid" 2>/dev/null || break
    sleep 0.1
  done
  die "the shim did not start: $(tail -n 5 "$W/shim.log")"
}
stop_shim() { kill "$shim_pid" 2>/dev/null; wait "$shim_pid" 2>/dev/null; shim_pid=""; }
mint() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$secret" "$shim_bin" token "$@" --ttl 3600); }

# latency TOKEN PATH: median ms of --requests GETs on one keep-alive connection;
# prints nothing when a request did not answer 200.
latency() {
  local i
  : >"$W/get.cfg"
  for i in $(seq 1 "$requests"); do printf 'url = "%s%s"\noutput = "/dev/null"\n' "$shim" "$2" >>"$W/get.cfg"; done
  curl -s -K "$W/get.cfg" -H "Authorization: Bearer $1" -w '%{http_code} %{time_total}\n' >"$W/get.out"
  [ "$(grep -c '^200 ' "$W/get.out")" -eq "$requests" ] || { log "GET $2: $(grep -v '^200 ' "$W/get.out" | head -n 2)"; return 0; }
  awk '{print $2 * 1000}' "$W/get.out" | median
}
# page TOKEN PATH...: one cold-cache-free load of a page as a browser would
# fetch it before its first render, sequentially on one connection; prints
# "ms bytes", the median over --runs loads.
page() {
  local tok=$1 r cfg=$W/page.cfg times="" bytes
  shift
  : >"$cfg"
  for p in "$@"; do printf 'url = "%s%s"\noutput = "/dev/null"\n' "$shim" "$p" >>"$cfg"; done
  for r in $(seq 1 "$runs"); do
    curl -s -K "$cfg" -H "Authorization: Bearer $tok" -H 'Accept-Encoding: identity' \
      -w '%{http_code} %{time_total} %{size_download} %{size_header}\n' >"$W/page.out"
    [ "$(grep -c '^200 ' "$W/page.out")" -eq "$#" ] || { log "page $1: $(grep -v '^200 ' "$W/page.out" | head -n 2)"; return 0; }
    times+="$(awk '{t += $2} END {print t * 1000}' "$W/page.out")"$'\n'
    bytes=$(awk '{b += $3 + $4} END {print b}' "$W/page.out")
  done
  echo "$(printf '%s' "$times" | median) $bytes"
}

: >"$results"
printf '# bench/scale.sh %s: sizes %s, %s clients x %s s, %s runs, %s requests; %s cores, load %s\n' \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$sizes" "$clients" "$seconds" "$runs" "$requests" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"

for size in ${sizes//,/ }; do
  log "scale: $size wallets"
  # ---- data -----------------------------------------------------------------------------
  psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null 2>"$W/psql.err" <<SQL || die "$(cat "$W/psql.err")"
DROP DATABASE IF EXISTS $db WITH (FORCE);
CREATE DATABASE $db;
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF; END \$\$;
SQL
  q >/dev/null 2>"$W/psql.err" <<SQL || die "$(cat "$W/psql.err")"
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
CREATE SEQUENCE public.bench_phone_seq;
ALTER DATABASE $db SET number_wallet.max_purchases_per_hour = 0;
-- pgbench's purchases are recorded as the simulator's: the sweep judges only the
-- twilio rows, which the fake holds.
ALTER DATABASE $db SET number_wallet.provider = 'simulator';
GRANT number_wallet_service TO $role;
SQL
  t0=$(now_ns)
  q -v wallets="$size" -v renewal=$renewal -v history=$history -f bench/scale/generate.sql >/dev/null 2>"$W/psql.err" ||
    die "generate.sql: $(cat "$W/psql.err")"
  # The sweep's numbers: 20 for each of 500 wallets, active, provider twilio, as the fake holds them.
  q >/dev/null 2>"$W/psql.err" <<SQL || die "sweep rows: $(cat "$W/psql.err")"
CREATE TEMP TABLE sweep (id uuid, phone text, sid text);
\copy sweep FROM '$W/sweep.tsv'
CREATE TEMP TABLE sweep_rows AS SELECT s.*, row_number() OVER (ORDER BY s.phone) - 1 AS k FROM sweep s;
INSERT INTO number_wallet.wallets (id, user_id, balance_usd)
  SELECT md5('sw' || u)::uuid, md5('su' || u)::uuid, 100.00 - 20 * 1.15 FROM generate_series(0, $sweep_numbers / 20 - 1) u;
INSERT INTO number_wallet.business_numbers (id, user_id, phone_number, status, twilio_sid, monthly_cost, currency,
    purchase_date, paid_until, refund_window_days, provider)
  SELECT id, md5('su' || (k / 20))::uuid, phone, 'active', sid, 1.15, 'USD', now() - interval '2 days',
         now() - interval '2 days' + interval '1 month', 30, 'twilio' FROM sweep_rows;
INSERT INTO number_wallet.transactions (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id)
  SELECT md5('sw' || u)::uuid, md5('su' || u)::uuid, CASE WHEN j = 0 THEN 'CREDIT' ELSE 'DEBIT' END,
         CASE WHEN j = 0 THEN 'topup' ELSE 'purchase' END, CASE WHEN j = 0 THEN 100.00 ELSE 1.15 END, 'USD',
         100.00 - j * 1.15, CASE WHEN j = 0 THEN 'Top-up' ELSE 'Purchase' END,
         CASE WHEN j > 0 THEN (SELECT s.id FROM sweep_rows s WHERE s.k = u * 20 + j - 1) END
    FROM generate_series(0, $sweep_numbers / 20 - 1) u, generate_series(0, 20) j ORDER BY u, j;
SQL
  q -c "VACUUM ANALYZE" >/dev/null 2>&1
  gen_s=$(awk -v d=$(($(now_ns) - t0)) 'BEGIN {printf "%.0f", d / 1e9}')
  counts=$(q -F ' ' -c "SELECT (SELECT count(*) FROM number_wallet.wallets), (SELECT count(*) FROM number_wallet.business_numbers),
                               (SELECT count(*) FROM number_wallet.transactions), pg_database_size(current_database()) / 1048576")
  read -r n_wallets n_numbers n_ledger db_mb <<<"$counts"
  log "scale: $n_wallets wallets, $n_numbers numbers, $n_ledger ledger rows, $db_mb MB, generated in ${gen_s} s"
  record data_seconds "$size" "$gen_s"
  record data_rows "$size" "$n_wallets/$n_numbers/$n_ledger/${db_mb}MB"
  if [ "$size" = "$(tr ',' '\n' <<<"$sizes" | sort -n | head -n1)" ] && [ "$size" -le 100000 ]; then
    drift=$(q -c "SELECT count(*) FROM number_wallet.wallet_reconcile()")
    [ "$drift" = 0 ] || die "the generated data breaks the ledger rules: $drift wallet_reconcile() rows"
  fi

  # ---- purchase + settle (pgbench) ---------------------------------------------------------
  tps_runs=""
  for r in $(seq 1 "$runs"); do
    tps=$(pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" -D users="$size" \
      -f bench/number_wallet_purchase.pgbench "$db" 2>"$W/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
    [ -n "$tps" ] || die "pgbench: $(tail -n 3 "$W/pgbench.err")"
    tps_runs+="$tps"$'\n'
  done
  tps=$(printf '%s' "$tps_runs" | median)
  record purchase_settle "$size" "$(awk -v t="$tps" 'BEGIN {printf "%.3f", 1000 / t}')"
  record purchase_tps "$size" "$tps"

  # ---- one renewal pass over the due numbers -------------------------------------------------
  status_kb() { echo "substring(pg_read_file('/proc/self/status') from '$1:\\s+(\\d+) kB')"; }
  status() { echo "SELECT $(status_kb VmHWM), $(status_kb RssShmem), $(status_kb RssFile);"; }
  rout=$(q -F ' ' 2>"$W/psql.err" <<SQL
SELECT number_wallet._claimed_user() IS NULL;
$(status)
SELECT clock_timestamp() AS t0 \gset
SELECT (r->>'renewed') FROM number_wallet.renew_due_numbers($renewal) r;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
$(status)
SQL
  )
  read -r _ hwm0 shm0 file0 renewed rsec hwm1 shm1 file1 <<<"$(tr '\n' ' ' <<<"$rout")"
  [ "$renewed" = "$renewal" ] || die "the renewal pass renewed '$renewed' of $renewal: $(cat "$W/psql.err")"
  record renewal_us "$size" "$(awk -v s="$rsec" -v n="$renewed" 'BEGIN {printf "%.1f", 1e6 * s / n}')"
  record renewal_per_s "$size" "$(awk -v s="$rsec" -v n="$renewed" 'BEGIN {printf "%.0f", n / s}')"
  record renewal_private_kb "$size" "$((hwm1 - hwm0 - (shm1 - shm0) - (file1 - file0)))"

  # ---- metrics snapshot (SQL) -------------------------------------------------------------------
  m_runs=""  # once: it reads every row (seconds at 10^6 wallets)
  for r in 1; do
    t0=$(now_ns)
    q -c "SELECT count(*) FROM number_wallet.metrics_snapshot()" >/dev/null || die "metrics_snapshot failed"
    m_runs+="$(awk -v d=$(($(now_ns) - t0)) 'BEGIN {print d / 1e6}')"$'\n'
  done
  record metrics_snapshot "$size" "$(printf '%s' "$m_runs" | median)"

  # ---- HTTP reads through the shim ----------------------------------------------------------------
  start_shim
  user_token=$(mint --sub "$(q -c "SELECT md5('hu')::uuid")")
  service_token=$(mint --service)
  # A page near the oldest number / entry of the long-history user (keyset cursors).
  deep_number=$(q -c "SELECT id FROM number_wallet.business_numbers WHERE user_id = md5('hu')::uuid
                      ORDER BY created_at, id OFFSET 60 LIMIT 1")
  deep_entry=$(q -c "SELECT min(id) + 60 FROM number_wallet.transactions WHERE user_id = md5('hu')::uuid")
  quote_number=$(q -c "SELECT md5('h1')::uuid")
  record numbers_page_first "$size" "$(latency "$user_token" "/api/numbers?limit=50")"
  record numbers_page_deep "$size" "$(latency "$user_token" "/api/numbers?limit=50&before=$deep_number")"
  record transactions_page_first "$size" "$(latency "$user_token" "/api/transactions?limit=50")"
  record transactions_page_deep "$size" "$(latency "$user_token" "/api/transactions?limit=50&before=$deep_entry")"
  record refund_quote "$size" "$(latency "$user_token" "/api/numbers/$quote_number/refund-quote")"
  read -r ms bytes <<<"$(page "$user_token" / /assets/app.css /assets/common.js /assets/buyer.js /assets/icon.svg \
    /api/wallet '/api/numbers?limit=100' '/api/transactions?limit=20')"
  record buyer_page "$size" "$ms"
  record buyer_page_bytes "$size" "$bytes"
  read -r ms bytes <<<"$(page "$service_token" /admin /assets/app.css /assets/common.js /assets/admin.js /assets/icon.svg \
    /api/admin/summary /api/admin/interventions)"
  record operator_page "$size" "$ms"
  record operator_page_bytes "$size" "$bytes"
  stop_shim

  # ---- the reconciler's sweep at the fake Twilio ------------------------------------------------------
  s_runs=""
  pages=$(((sweep_numbers + page_size - 1) / page_size))
  for r in $(seq 1 "$runs"); do
    t0=$(now_ns)
    (cd "$W" && shim_env "$shim_bin" reconcile) >"$W/reconcile.log" 2>&1 || die "reconcile: $(tail -n 3 "$W/reconcile.log")"
    t1=$(now_ns)
    grep -q '"swept":true' "$W/reconcile.log" || die "the sweep did not run: $(tail -n 3 "$W/reconcile.log")"
    grep -q '"discrepancies":0' "$W/reconcile.log" || log "sweep: $(grep -o '"discrepancies":[0-9]*' "$W/reconcile.log")"
    s_runs+="$(awk -v d=$((t1 - t0)) -v p="$pages" 'BEGIN {print d / 1e6 / p}')"$'\n'
  done
  record sweep_page "$size" "$(printf '%s' "$s_runs" | median)"
done

# ---- report: table and plot ------------------------------------------------------------------------------
bash bench/scale/report.sh "$results" bench/scale.svg
