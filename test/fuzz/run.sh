#!/usr/bin/env bash
# Builds (test/fuzz/build.sh) and runs every libFuzzer target for a fixed time.
#   test/fuzz/run.sh                       60 s per target (`make fuzz`)
#   test/fuzz/run.sh --short               5 s per target (`make test`; ~30 s on 2 cores once built),
#                                          from a fixed seed (NW_FUZZ_SEED, default 1) so that a CI
#                                          run explores the same inputs each time; long runs take a
#                                          random seed (libFuzzer logs it: "INFO: Seed: N")
#   test/fuzz/run.sh [--short|SECONDS] [TARGET...]
# Environment: FUZZ_JOBS (targets run at once; default: number of CPUs, at most 4).
#
# Seeds: test/fuzz/corpus/<target>/ (read-only). What the fuzzer learns is kept in
# build/fuzz/corpus/<target>/ (outside git) so later runs start from it.
# A crash, sanitizer report or violated invariant leaves the input in
# build/fuzz/crashes/<target>/ and the log next to it; reproduce with
#   build/fuzz/fuzz_<target> build/fuzz/crashes/<target>/crash-<sha1>
# Prints one line per target (executions, corpus size, verdict) and ends with
# "N passed, N failed"; exits non-zero if any target failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET=60
SEED_OPTION=()
case "${1:-}" in
    --short) SECONDS_PER_TARGET=5; SEED_OPTION=(-seed="${NW_FUZZ_SEED:-1}"); shift ;;
    ''|-*) ;;
    *[!0-9]*) ;;
    *) SECONDS_PER_TARGET="$1"; shift ;;
esac
ALL_TARGETS=(validation claims dotenv token jwt jwks twilio_parse phone query http)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")

OUT="$ROOT/build/fuzz"
if ! bash test/fuzz/build.sh "${TARGETS[@]}"; then
    echo "run.sh: build failed"
    echo "0 passed, ${#TARGETS[@]} failed"
    exit 1
fi

# Per-target libFuzzer options.
options_of() {
    case "$1" in
        jwt)   echo "-max_len=12000" ;;  # past kMaxTokenBytes (8192): oversized tokens
        token) echo "-max_len=10000" ;;
        http)  echo "-max_len=8192" ;;
        jwks)  echo "-max_len=8192" ;;
        *)     echo "-max_len=4096" ;;
    esac
}

jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
[ "$jobs" -gt 4 ] && jobs=4
LOGS="$OUT/logs"
mkdir -p "$LOGS"

run_one() {  # target
    local t="$1" work="$OUT/corpus/$1" crashes="$OUT/crashes/$1" rc
    mkdir -p "$work" "$crashes"
    # shellcheck disable=SC2046
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" "${SEED_OPTION[@]}" -print_final_stats=1 -timeout=25 -rss_limit_mb=4096 \
        -artifact_prefix="$crashes/" $(options_of "$t") "$work" "test/fuzz/corpus/$t" >"$LOGS/$t.log" 2>&1
    rc=$?
    echo "$rc" >"$LOGS/$t.rc"
    [ "$rc" -ne 0 ] && cp "$LOGS/$t.log" "$crashes/last.log"
    return 0
}

echo "run.sh: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each, $jobs at a time"
running=0
for t in "${TARGETS[@]}"; do
    rm -f "$LOGS/$t.rc"
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

passed=0; failed=0; total_execs=0
printf '%-13s %-5s %12s %8s  %s\n' target verdict executions corpus note
for t in "${TARGETS[@]}"; do
    log="$LOGS/$t.log"
    rc="$(cat "$LOGS/$t.rc" 2>/dev/null || echo 1)"
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')"
    [ -z "$execs" ] && execs="$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')"
    execs="${execs:-0}"
    total_execs=$((total_execs + execs))
    corpus="$(find "$OUT/corpus/$t" -type f | wc -l)"
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        printf '%-13s %-5s %12s %8s\n' "$t" PASS "$execs" "$corpus"
    else
        failed=$((failed + 1))
        artifact="$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')"
        printf '%-13s %-5s %12s %8s  exit %s; reproduce: build/fuzz/fuzz_%s %s\n' "$t" FAIL "$execs" "$corpus" "$rc" "$t" \
            "${artifact#"$ROOT"/}"
        grep -E 'INVARIANT|ERROR: (Address|Undefined|Leak)Sanitizer|ERROR: libFuzzer|runtime error|SUMMARY' "$log" |
            head -5 | sed 's/^/    /'
    fi
done
echo "total executions: $total_execs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
