#!/usr/bin/env bash
# test/stress/sql_stress.sh [SECONDS] [CLIENTS]   (defaults 20 s, 8 clients)
#
# SQL-level stress of the number_wallet extension: pgbench drives weighted
# custom scripts against a throw-away database (nw_stress_<pid>) with 5 users
# and 20 phone numbers (heavy contention). Every call goes through the plpgsql
# helper stress.call(op, a, b, c), which runs one operation, catches any error
# and records its SQLSTATE in stress.outcomes, so pgbench never aborts.
# Then sql_invariants.sql checks the invariants (one query per invariant).
# Prints counts per op and SQLSTATE, "ok - ..."/"not ok - ..." lines and
# "N passed, N failed"; exits non-zero on a failure.
set -u
DURATION=${1:-20}
CLIENTS=${2:-8}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-15432} PGUSER=${PGUSER:-postgres}
HERE=$(cd "$(dirname "$0")" && pwd)
INVARIANTS=$HERE/sql_invariants.sql
DB=nw_stress_$$
TMP=$(mktemp -d)
cleanup() {
  psql -d postgres -qAtX -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PSQL=(psql -d "$DB" -qAtX -v ON_ERROR_STOP=1)

createdb "$DB" || { echo "not ok - create database $DB"; echo "0 passed, 1 failed"; exit 1; }

"${PSQL[@]}" >/dev/null <<'EOF' || { echo "not ok - setup"; echo "0 passed, 1 failed"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
SELECT format('ALTER DATABASE %I SET number_wallet.max_purchases_per_hour = 0', current_database()) \gexec
CREATE SCHEMA stress;
CREATE TABLE stress.outcomes (op text NOT NULL, sqlstate text NOT NULL, ok boolean NOT NULL);
CREATE TABLE stress.told_credits (key text, user_id uuid NOT NULL, amount numeric NOT NULL,
                                  currency text NOT NULL, txid bigint NOT NULL);
CREATE TABLE stress.client_violations (op text, detail text);

CREATE FUNCTION stress.uid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5('s' || n)::uuid $$;
CREATE FUNCTION stress.phone(n int) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT '+1415555' || lpad((1999 + n)::text, 4, '0') $$;

-- One operation; a, b, c are random ints from pgbench (a: user 1..5,
-- b: 1..20 phone number / key pool, c: 1..1000 free). Never raises.
CREATE FUNCTION stress.call(op text, a int, b int, c int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  st   text := '00000';
  r    jsonb;
  nid  uuid;
  nuid uuid;
  ukey text;
  amt  numeric;
  cur  text;
  tx   bigint;
BEGIN
  BEGIN
    IF op = 'credit' THEN
      -- keyless (1 in 3) or keyed from a pool of 20 per user (amount and currency
      -- fixed per key; 1 in 10 keyed calls changes the amount -> NW006)
      IF c % 3 = 0 THEN
        ukey := NULL; amt := 5 + c % 7; cur := CASE WHEN c % 4 = 0 THEN 'INR' ELSE 'USD' END;
      ELSE
        ukey := 'ck' || b; amt := 10 + 5 * (b % 4); cur := CASE WHEN b % 5 = 0 THEN 'INR' ELSE 'USD' END;
        IF c % 10 = 1 THEN amt := amt + 1; END IF;
      END IF;
      r := number_wallet.wallet_credit(stress.uid(a), amt, cur, 'stress', ukey);
      tx := (r->>'transaction_id')::bigint;
      IF (r->>'replayed')::boolean THEN
        IF NOT EXISTS (SELECT 1 FROM stress.told_credits t
                        WHERE t.user_id = stress.uid(a) AND t.key = ukey AND t.txid = tx) THEN
          INSERT INTO stress.client_violations
          VALUES (op, format('replay of key %s (user %s) returned tx %s, not the original: %s', ukey, a, tx, r));
        END IF;
      ELSE
        INSERT INTO stress.told_credits VALUES (ukey, stress.uid(a), amt, cur, tx);
      END IF;
    ELSIF op = 'purchase' THEN
      r := number_wallet.purchase_number(stress.uid(a), stress.phone(b), (1 + c % 5)::numeric,
             CASE WHEN c % 7 = 0 THEN 'INR' ELSE 'USD' END, NULL,
             CASE WHEN c % 3 = 0 THEN 'pk' || b || '.' || (c % 2) END);  -- same key: same phone, maybe other currency (NW006)
    ELSIF op IN ('confirm', 'fail') THEN
      SELECT id INTO nid FROM number_wallet.business_numbers WHERE status = 'pending' ORDER BY random() LIMIT 1;
      IF nid IS NULL THEN st := 'SKIP';
      ELSIF op = 'confirm' THEN r := number_wallet.confirm_purchase(nid, 'PN' || md5(nid::text));
      ELSE r := number_wallet.fail_purchase(nid, 'stress');
      END IF;
    ELSIF op = 'release' THEN
      SELECT id, user_id INTO nid, nuid FROM number_wallet.business_numbers
       WHERE status = 'active' ORDER BY random() LIMIT 1;
      IF nid IS NULL THEN st := 'SKIP';
      ELSE
        IF c % 8 = 0 THEN nuid := stress.uid(a); END IF;  -- maybe someone else's: NW003
        r := number_wallet.release_number(nuid, nid);
      END IF;
    ELSIF op = 'mark' THEN
      SELECT id INTO nid FROM number_wallet.business_numbers WHERE status = 'released'
       ORDER BY provider_released_at IS NULL DESC, random() LIMIT 1;
      IF nid IS NULL THEN st := 'SKIP'; ELSE r := number_wallet.mark_provider_released(nid); END IF;
    ELSIF op = 'renew' THEN
      UPDATE number_wallet.business_numbers SET paid_until = now() - make_interval(days => c % 10),
             renewal_attempted_at = renewal_attempted_at - interval '1 hour'
       WHERE id = (SELECT id FROM number_wallet.business_numbers WHERE status = 'active'
                    ORDER BY random() LIMIT 1);
      r := number_wallet.renew_due_numbers(10);
    ELSIF op = 'replay' THEN
      IF c % 2 = 0 THEN
        SELECT id INTO nid FROM number_wallet.business_numbers WHERE status = 'active' ORDER BY random() LIMIT 1;
        IF nid IS NULL THEN st := 'SKIP';
        ELSE
          r := number_wallet.confirm_purchase(nid, 'PN' || md5(nid::text));
          IF NOT coalesce((r->>'replayed')::boolean, false) THEN
            INSERT INTO stress.client_violations VALUES (op, format('confirm replay of %s not flagged replayed: %s', nid, r));
          END IF;
        END IF;
      ELSE
        SELECT id, user_id INTO nid, nuid FROM number_wallet.business_numbers
         WHERE status = 'released' ORDER BY random() LIMIT 1;
        IF nid IS NULL THEN st := 'SKIP';
        ELSE
          r := number_wallet.release_number(nuid, nid);
          IF NOT coalesce((r->>'replayed')::boolean, false)
             OR ((r->'refund'->>'issued')::boolean AND NOT EXISTS (
                   SELECT 1 FROM number_wallet.transactions t WHERE t.number_id = nid AND t.kind = 'refund')) THEN
            INSERT INTO stress.client_violations VALUES (op, format('release replay of %s: %s', nid, r));
          END IF;
        END IF;
      END IF;
    ELSE
      RAISE EXCEPTION 'unknown op %', op;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
  END;
  INSERT INTO stress.outcomes VALUES (op, st, st IN ('00000', 'SKIP'));
  RETURN st;
END $$;

-- Seed: every user gets some money (through the helper, so it is "told").
SELECT stress.call('credit', u, 1, 3 * k) FROM generate_series(1, 5) u, generate_series(1, 8) k;
EOF

# Weighted pgbench scripts: op@weight.
WEIGHTS="purchase@30 credit@15 confirm@15 fail@8 release@10 mark@8 renew@4 replay@10"
ARGS=()
for ow in $WEIGHTS; do
  op=${ow%@*}
  cat > "$TMP/$op.sql" <<EOF
\\set a random(1, 5)
\\set b random(1, 20)
\\set c random(1, 1000)
SELECT stress.call('$op', :a, :b, :c);
EOF
  ARGS+=(-f "$TMP/$op.sql@${ow#*@}")
done

echo "# pgbench: $CLIENTS clients, $DURATION s, database $DB"
pgbench -d "$DB" -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" "${ARGS[@]}" > "$TMP/pgbench.out" 2>&1
PGBENCH_RC=$?
grep -E '^(number of (transactions|failed)|tps|latency average)' "$TMP/pgbench.out" | sed 's/^/# /'

echo "# operations per op and SQLSTATE:"
"${PSQL[@]}" -F $'\t' -c "SELECT op, sqlstate, count(*) FROM stress.outcomes GROUP BY ROLLUP (op, sqlstate) ORDER BY op NULLS LAST, sqlstate NULLS FIRST" \
  | awk -F'\t' '{ if ($1 == "") printf "#   total %s\n", $3; else if ($2 == "") printf "#   %-9s %s\n", $1, $3; else printf "#     %-9s %-6s %s\n", $1, $2, $3 }'
echo "# operations per SQLSTATE:"
"${PSQL[@]}" -F $'\t' -c "SELECT sqlstate, count(*) FROM stress.outcomes GROUP BY 1 ORDER BY 1" \
  | awk -F'\t' '{ printf "#   %-6s %s\n", $1, $2 }'

PASS=0; FAIL=0
ok()     { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

if [ "$PGBENCH_RC" -eq 0 ] && ! grep -q 'aborted' "$TMP/pgbench.out"; then
  ok "pgbench ran without aborted clients"
else
  not_ok "pgbench ran without aborted clients (rc $PGBENCH_RC)"; sed 's/^/#   /' "$TMP/pgbench.out" | tail -20
fi

if "${PSQL[@]}" -F $'\t' -f "$INVARIANTS" > "$TMP/violations" 2> "$TMP/inv.err"; then
  while IFS= read -r label; do
    n=$(awk -F'\t' -v l="$label" '$1 == l' "$TMP/violations" | wc -l)
    if [ "$n" -eq 0 ]; then ok "$label"; else
      not_ok "$label ($n violations)"
      awk -F'\t' -v l="$label" '$1 == l { print "#   " $2 }' "$TMP/violations" | head -10
    fi
  done < <(grep -oE "^SELECT '[^']*'::text AS check" "$INVARIANTS" | sed -E "s/^SELECT '([^']*)'.*/\1/")
else
  not_ok "invariant queries ran"; sed 's/^/#   /' "$TMP/inv.err"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
