#!/usr/bin/env bash
# `make test`: install what is missing, build, start the local cluster, run
# every suite, and end with one line "N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"

install_missing_packages
build_and_install
cluster_start

passed=0
failed=0
logs=build/test-logs
mkdir -p "$logs"

# count_pg_regress FILE: pg_regress and pg_isolation_regress print one
# "... ok" or "... FAILED" line per test.
count_pg_regress() {
  local ok bad
  ok=$(grep -cE '\.\.\. ok( |$)' "$1" || true)
  bad=$(grep -cE '\.\.\. FAILED' "$1" || true)
  passed=$((passed + ok))
  failed=$((failed + bad))
}

suite() {
  printf '\n==> %s\n' "$1"
}

suite "SQL regression tests (pg_regress)"
if make --no-print-directory installcheck NW_SKIP_SHIM=1 ISOLATION= >"$logs/regress.log" 2>&1; then :; else
  [ -f regression.diffs ] && cp regression.diffs "$logs/regress.diffs"
fi
grep -E '\.\.\. ' "$logs/regress.log" || cat "$logs/regress.log"
count_pg_regress "$logs/regress.log"

suite "isolation tests (pg_isolation_regress)"
if make --no-print-directory installcheck NW_SKIP_SHIM=1 REGRESS= >"$logs/isolation.log" 2>&1; then :; else
  [ -f output_iso/regression.diffs ] && cp output_iso/regression.diffs "$logs/isolation.diffs"
fi
grep -E '\.\.\. ' "$logs/isolation.log" || cat "$logs/isolation.log"
count_pg_regress "$logs/isolation.log"

suite "C++ unit tests (GoogleTest)"
if build/unit-tests --gtest_brief=1 >"$logs/unit.log" 2>&1; then :; fi
tail -n 5 "$logs/unit.log"
ok=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$logs/unit.log" | tail -n1)
bad=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below.*/\1/p' "$logs/unit.log" | tail -n1)
if [ -z "$ok$bad" ]; then bad=1; fi
passed=$((passed + ${ok:-0}))
failed=$((failed + ${bad:-0}))

for extra in test/e2e/run.sh; do
  if [ -x "$extra" ]; then
    suite "end-to-end tests ($extra)"
    out=$("$extra" 2>&1 | tee "$logs/e2e.log" | tail -n 20) || true
    printf '%s\n' "$out"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/e2e.log" | tail -n1)
    if [ -n "$line" ]; then
      passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
      failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    else
      failed=$((failed + 1))
    fi
  fi
done

if [ "$failed" -gt 0 ]; then
  printf '\nDiffs and logs of failed suites are in %s/.\n' "$logs"
fi
printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
