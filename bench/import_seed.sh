#!/usr/bin/env bash
# import_seed at scale (issue 13): a seed deployment of W wallets and 2W
# numbers (every number active, with a sid and a purchase date in the last
# year) and one transaction per wallet, in schema seed_bench; times the dry
# run and the import, then checks the counts and wallet_reconcile().
#   bench/import_seed.sh [WALLETS]      (default 100000)
source "$(dirname "$0")/../scripts/lib.sh"
set +e +o pipefail
cd "$PROJECT_DIR"
wallets=${1:-100000}
case $wallets in ''|*[!0-9]*) echo "usage: bench/import_seed.sh [WALLETS]" >&2; exit 2 ;; esac

cluster_start >/dev/null
db=nw_bench_import
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
CREATE EXTENSION number_wallet;
CREATE SCHEMA seed_bench;
CREATE TABLE seed_bench.wallets (id uuid PRIMARY KEY, user_id uuid NOT NULL UNIQUE,
  balance_usd numeric(14,2) NOT NULL DEFAULT 0, balance_inr numeric(14,2) NOT NULL DEFAULT 0,
  is_active boolean NOT NULL DEFAULT true, created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE seed_bench.business_numbers (id uuid PRIMARY KEY, user_id uuid NOT NULL,
  phone_number text NOT NULL UNIQUE, display_name text, twilio_sid text, is_active boolean NOT NULL DEFAULT false,
  monthly_cost numeric(10,2), purchase_date timestamptz, notes text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE seed_bench.transactions (id uuid PRIMARY KEY, user_id uuid NOT NULL, type text NOT NULL,
  amount numeric(14,2) NOT NULL, currency text NOT NULL, description text, reference_id uuid,
  created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO seed_bench.wallets (id, user_id, balance_usd, balance_inr)
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
         ('11111111-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 20 + g % 50, CASE WHEN g % 3 = 0 THEN 100 ELSE 0 END
    FROM generate_series(1, $wallets) g;
INSERT INTO seed_bench.business_numbers (id, user_id, phone_number, twilio_sid, is_active, monthly_cost, purchase_date)
  SELECT ('22222222-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
         ('11111111-0000-4000-8000-' || lpad(to_hex((g + 1) / 2), 12, '0'))::uuid,
         CASE WHEN g % 10 = 0 THEN '+1 (3' || substr((10000000000 + g)::text, 3, 2) || ') ' || substr((10000000000 + g)::text, 5, 3)
                                    || '-' || substr((10000000000 + g)::text, 8, 4)
              ELSE '+13' || substr((10000000000 + g)::text, 3) END,
         'PN' || lpad(to_hex(g), 32, '0'), true, 1.15, now() - (g % 365) * interval '1 day'
    FROM generate_series(1, 2 * $wallets) g;
INSERT INTO seed_bench.transactions (id, user_id, type, amount, currency, description)
  SELECT ('33333333-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
         ('11111111-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'CREDIT', 20 + g % 50, 'USD', 'Top-up'
    FROM generate_series(1, $wallets) g;
ANALYZE;
SQL

# cpu: the backend's user + system CPU time so far, in clock ticks (/proc/self/stat).
cpu="(split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint)"
timed() { # SQL: prints the report's counts, the wall time and the backend's CPU time
    local t0 t1 out report ticks hz
    hz=$(getconf CLK_TCK)
    t0=$(date +%s%N)
    out=$(psql -X -q -tA -d "$db" -v ON_ERROR_STOP=1 -c "SELECT $cpu" -c "$1" -c "SELECT $cpu" 2>&1)
    t1=$(date +%s%N)
    report=$(sed -n 2p <<<"$out")
    ticks=$(( $(sed -n 3p <<<"$out") - $(sed -n 1p <<<"$out") ))
    printf '%s  (wall %s s, backend CPU %s s)\n' \
        "$(jq -c '{dry_run, wallets, numbers, discrepancies, transactions, skipped: (.skipped | length), balance_mismatches: (.balance_mismatches | length)}' <<<"$report" 2>/dev/null || echo "$out")" \
        "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e9 }')" "$(awk -v t=$ticks -v h=$hz 'BEGIN { printf "%.1f", t / h }')"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seed: $wallets wallets, $((2 * wallets)) numbers, $wallets transactions"
echo "dry run: $(timed "SELECT number_wallet.import_seed('seed_bench', true)")"
echo "import:  $(timed "SELECT number_wallet.import_seed('seed_bench', false)")"
echo "again:   $(timed "SELECT number_wallet.import_seed('seed_bench', false)")"
echo "after: $(psql -X -q -tA -d "$db" -c "SELECT (SELECT count(*) FROM number_wallet.wallets) || ' wallets, '
  || (SELECT count(*) FROM number_wallet.business_numbers WHERE status = 'active') || ' active numbers, '
  || (SELECT count(*) FROM number_wallet.wallet_reconcile()) || ' wallet_reconcile() rows'")"
[ -n "${NW_BENCH_KEEP:-}" ] || psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
