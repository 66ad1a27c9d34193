#!/usr/bin/env bash
# `bash scripts/test.sh` (`make test` with make): install what is missing,
# build, start the local cluster, run every suite, and end with one line
# "N passed, N failed". Needs only bash and apt (root, or a user with sudo).
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"

install_missing_packages
build_and_install
cluster_start
# Leave the machine as we found it: stop the cluster if this run started it.
trap '[ "$NW_STARTED_CLUSTER" = 1 ] && cluster_stop' EXIT

passed=0
failed=0
logs=build/test-logs
mkdir -p "$logs"

# count_pg_regress FILE STATUS: pg_regress and pg_isolation_regress print one
# "test NAME ... ok|FAILED" line per test; a run that failed without such a
# line (a missing file, a crash) still counts as one failure.
count_pg_regress() {
  local total ok bad
  total=$(grep -cE '\.\.\. ' "$1" || true)
  ok=$(grep -cE '\.\.\. ok( |$)' "$1" || true)
  bad=$((total - ok))
  if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  passed=$((passed + ok))
  failed=$((failed + bad))
}

suite() {
  printf '\n==> %s\n' "$1"
}

suite "SQL regression tests (pg_regress)"
status=0
make --no-print-directory installcheck NW_SKIP_SHIM=1 ISOLATION= >"$logs/regress.log" 2>&1 || status=$?
[ -f regression.diffs ] && cp regression.diffs "$logs/regress.diffs"
grep -E '\.\.\. ' "$logs/regress.log" || cat "$logs/regress.log"
count_pg_regress "$logs/regress.log" "$status"

suite "isolation tests (pg_isolation_regress)"
status=0
make --no-print-directory installcheck NW_SKIP_SHIM=1 REGRESS= >"$logs/isolation.log" 2>&1 || status=$?
[ -f output_iso/regression.diffs ] && cp output_iso/regression.diffs "$logs/isolation.diffs"
grep -E '\.\.\. ' "$logs/isolation.log" || cat "$logs/isolation.log"
count_pg_regress "$logs/isolation.log" "$status"

suite "C++ unit tests (GoogleTest)"
if build/unit-tests --gtest_brief=1 >"$logs/unit.log" 2>&1; then :; fi
tail -n 5 "$logs/unit.log"
ok=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$logs/unit.log" | tail -n1)
bad=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below.*/\1/p' "$logs/unit.log" | tail -n1)
if [ -z "$ok$bad" ]; then bad=1; fi
passed=$((passed + ${ok:-0}))
failed=$((failed + ${bad:-0}))

# Shell-driven end-to-end suites: each prints "N passed, N failed" last. Every
# test/e2e/*_test.sh runs, through bash: a tree unpacked without exec bits
# (a tarball, a zip) still runs them all instead of silently skipping them.
for suite_script in test/e2e/*_test.sh; do
  name=$(basename "$suite_script" .sh)
  suite "end-to-end: $name"
  bash "$suite_script" >"$logs/$name.log" 2>&1 || true
  grep -E '^(ok|not ok) ' "$logs/$name.log" | grep -v '^ok ' || true
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/$name.log" | tail -n1)
  if [ -n "$line" ]; then
    echo "$line"
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
  else
    tail -n 20 "$logs/$name.log"
    failed=$((failed + 1))
  fi
done

if [ "$failed" -gt 0 ]; then
  printf '\nDiffs and logs of failed suites are in %s/.\n' "$logs"
fi
printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
