#!/usr/bin/env bash
# jit_regress_test.sh: the SQL regression suite once more with JIT forced on
# every query, inlining and optimisation included (jit_above_cost,
# jit_inline_above_cost and jit_optimize_above_cost = 0), against the same
# expected output. `make install` installs LLVM bitcode of the extension for
# JIT inlining ($pkglibdir/bitcode/number_wallet); without this run nothing
# ever loads it, and a bitcode file that crashes or miscompiles when inlined
# would first show on a production server with JIT on.
#
# JIT compiles every execution of every statement (the extension's prepared
# SPI statements included) and inlining is costly: the whole suite takes about
# 2.5 minutes on two cores this way, against 5 s without JIT. So `make test`
# runs the files that cover the extension's entry points cheaply (setup,
# wallet, rules: credits, adjustments, the row-rule triggers, JSON answers,
# errors through the C++ guard; about 15 s) plus one query that calls the
# functions and checks in its plan that they were inlined and optimised;
# NW_JIT_SUITE=full runs every file of REGRESS_TESTS (all pass).
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment and the
# installed extension. Creates database nw_jit_regress_$$ and drops it.
# Prints "ok - ..." / "not ok - ..." (one per regression test) and
# "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."

PG_BIN=${PG_BINDIR:-$(pg_config --bindir)}
# The server's own pg_config: with NW_PG_ROOT (scripts/lib.sh) that is the private copy.
PKGLIBDIR=$("${PG_BINDIR:+$PG_BINDIR/}pg_config" --pkglibdir)
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
DB=nw_jit_regress_$$
OUT=$(mktemp -d "${TMPDIR:-/tmp}/nw_jit.XXXXXX")
chmod 755 "$OUT"
passed=0
failed=0
ok()     { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; shift; for line in "$@"; do printf '#   %s\n' "${line:0:300}"; done; }
check()  { if [ "$2" = "$3" ] && [ -n "$2" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got:      $3"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
cleanup() {
    "$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$OUT"
}
trap cleanup EXIT

JIT_OPTIONS="-c jit=on -c jit_above_cost=0 -c jit_inline_above_cost=0 -c jit_optimize_above_cost=0"

check "the extension's bitcode for inlining is installed" "yes" \
      "$([ -f "$PKGLIBDIR/bitcode/number_wallet.index.bc" ] && echo yes || echo "no $PKGLIBDIR/bitcode/number_wallet.index.bc")"
check "the server has a JIT provider" "llvmjit" \
      "$("$PG_BIN/psql" -X -At -d postgres -c "SHOW jit_provider" 2>&1)"

# One query that calls the extension's C functions, JIT-compiled with inlining:
# the plan reports JIT functions and Inlining true.
"$PG_BIN/psql" -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null 2>&1
out=$(PGOPTIONS=$JIT_OPTIONS "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION number_wallet;
-- EXPLAIN cannot be a subquery: its JSON comes through a function.
CREATE FUNCTION pg_temp.plan(p_sql text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || p_sql INTO r;
  RETURN r;
END $$;
SELECT (p->0->'JIT'->>'Functions')::int > 0 AND (p->0->'JIT'->'Options'->>'Inlining')::boolean
       AND (p->0->'JIT'->'Options'->>'Optimization')::boolean
  FROM pg_temp.plan($q$SELECT number_wallet._row_visible(gen_random_uuid()), number_wallet._claimed_user()
                       FROM generate_series(1, 10)$q$) AS p;
SQL
)
check "a query calling the extension's functions is JIT-compiled with inlining and optimisation" "t" "$out"
"$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1

# The regression suite, same files and expected output, JIT on every query.
if [ "${NW_JIT_SUITE:-}" = full ]; then
    tests=$(sed -n 's/^REGRESS_TESTS *= *//p' Makefile)
else
    tests="setup wallet rules"
fi
PGOPTIONS=$JIT_OPTIONS "$PG_REGRESS" --inputdir=test/regress --outputdir="$OUT" --bindir="$PG_BIN" \
    --load-extension=number_wallet --dbname="$DB" $tests >"$OUT/pg_regress.log" 2>&1
status=$?
count=0
while read -r line; do
    name=$(sed -E 's/^(test|ok|not ok) +([0-9]+ +- +)?//; s/ +\.\.\. .*//; s/^ +//' <<<"$line")
    count=$((count + 1))
    if [[ $line == *"... ok"* ]]; then ok "regress $name with JIT (inlined, optimised)"
    else not_ok "regress $name with JIT (inlined, optimised)" "$(head -c 2000 "$OUT/regression.diffs" 2>/dev/null)"; fi
done < <(grep -E '\.\.\. ' "$OUT/pg_regress.log")
if [ "$count" -eq 0 ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
    not_ok "pg_regress ran" "$(tail -n 20 "$OUT/pg_regress.log")"
fi
finish
