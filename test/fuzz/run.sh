#!/usr/bin/env bash
# Builds and runs every libFuzzer target for a fixed time.
#   test/fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
#   test/fuzz/run.sh --short                (5 s per target)
# Seeds come from test/fuzz/corpus/<name>/ and are copied to a temp dir, so
# runs never grow the repository. Crashing inputs go to build/fuzz/crashes/.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET=60
case "${1:-}" in
    "") ;;
    --short) SECONDS_PER_TARGET=5 ;;
    *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET|--short]" >&2; exit 2 ;;
    *) SECONDS_PER_TARGET="$1" ;;
esac

TARGETS=(validation claims jwt twilio_parse dotenv)
OUT="$ROOT/build/fuzz"
CRASHES="$OUT/crashes"
mkdir -p "$CRASHES"

test/fuzz/build.sh "${TARGETS[@]}" || { echo "run.sh: build failed" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/nw-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0; failed=0; summary=()
for t in "${TARGETS[@]}"; do
    corpus="$WORK/corpus_$t"; log="$WORK/$t.log"
    mkdir -p "$corpus" "$CRASHES/$t"
    [ -d "test/fuzz/corpus/$t" ] && cp -r "test/fuzz/corpus/$t/." "$corpus/"
    echo "run.sh: fuzz_$t for ${SECONDS_PER_TARGET}s"
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$CRASHES/$t/" "$corpus" >"$log" 2>&1
    rc=$?
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')"
    execs="${execs:-?}"
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        summary+=("$(printf '%-14s PASS  %12s execs' "$t" "$execs")")
    else
        failed=$((failed + 1))
        cp "$log" "$CRASHES/$t/last.log"
        summary+=("$(printf '%-14s FAIL  %12s execs  (exit %d, see %s)' "$t" "$execs" "$rc" "$CRASHES/$t/")")
        echo "---- fuzz_$t failed (exit $rc); tail of log:"
        grep -E 'ERROR|SUMMARY|invariant|ACCEPTED|runtime error|Test unit written|^Base64' "$log" | head -20
    fi
done

echo
echo "Executions per target (${SECONDS_PER_TARGET}s each):"
printf '  %s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
