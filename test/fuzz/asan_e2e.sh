#!/usr/bin/env bash
# The end-to-end suite (test/e2e/shim_test.sh) against a shim and fake Twilio built
# with -fsanitize=address,undefined (g++), then a scan of every log they wrote
# for AddressSanitizer / LeakSanitizer / UBSan reports.
#
#   test/fuzz/asan_e2e.sh           build into build/asan/, run, check
#   test/fuzz/asan_e2e.sh --unit    also run the GoogleTest units under the sanitizers
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) like shim_test.sh; the number_wallet
# extension must be installed in that server (make install).
#
# Nothing in the repository's build/ outputs is touched:
#  * CMakeLists.txt writes the shim to ${CMAKE_SOURCE_DIR}/build/, so CMake is
#    pointed at build/asan/src, a tree of symlinks to the real sources; the
#    binaries land in build/asan/src/build/ (objects in build/asan/cmake/);
#  * shim_test.sh is pointed at them with NW_SHIM_BIN and NW_FAKE_TWILIO_BIN.
# Ends with "N passed, N failed" (the suite's checks, plus one for clean logs).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
WITH_UNIT=0
[ "${1:-}" = "--unit" ] && WITH_UNIT=1

ASAN="$ROOT/build/asan"
SRC="$ASAN/src"
mkdir -p "$SRC"
for entry in CMakeLists.txt shim extension test; do
    ln -sfn "$ROOT/$entry" "$SRC/$entry"
done

SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
targets=(number-wallet-shim fake-twilio)
[ "$WITH_UNIT" -eq 1 ] && targets+=(unit-tests)
echo "asan_e2e.sh: building ${targets[*]} with $SAN_FLAGS"
cmake -S "$SRC" -B "$ASAN/cmake" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >"$ASAN/cmake.log" 2>&1 ||
    { cat "$ASAN/cmake.log"; echo "asan_e2e.sh: cmake failed"; echo "0 passed, 1 failed"; exit 1; }
env -u MAKEFLAGS -u MFLAGS cmake --build "$ASAN/cmake" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" \
    >"$ASAN/build.log" 2>&1 ||
    { tail -40 "$ASAN/build.log"; echo "asan_e2e.sh: build failed"; echo "0 passed, 1 failed"; exit 1; }

rm -rf "$ASAN/root"  # a copy of the tree older versions of this script ran from
mkdir -p "$ASAN/tmp"
rm -rf "$ASAN/tmp"/nw_e2e.* "$ASAN/unit.log"

# shim_test.sh starts the shim with `env -i`, so ASAN_OPTIONS cannot reach it;
# the sanitizers' defaults apply there (report to stderr = the kept logs, leak
# check at exit). Our own options apply to the fake Twilio and the units.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

unit_failed=0
if [ "$WITH_UNIT" -eq 1 ]; then
    echo "asan_e2e.sh: unit tests under ASan/UBSan"
    "$SRC/build/unit-tests" --gtest_brief=1 >"$ASAN/unit.log" 2>&1 || unit_failed=1
    tail -3 "$ASAN/unit.log"
fi

echo "asan_e2e.sh: test/e2e/shim_test.sh against the sanitized shim"
started=$(date +%s)
NW_E2E_KEEP_LOGS=1 TMPDIR="$ASAN/tmp" NW_SHIM_BIN="$SRC/build/number-wallet-shim" \
    NW_FAKE_TWILIO_BIN="$SRC/build/fake-twilio" bash "$ROOT/test/e2e/shim_test.sh" | tee "$ASAN/e2e.out"
e2e_rc=${PIPESTATUS[0]}
echo "asan_e2e.sh: suite took $(($(date +%s) - started)) s, exit $e2e_rc"

# Every log the suite kept (shim.log, fake.log, reconcile-*.log) plus the units'.
pattern='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer'
logs=$(find "$ASAN/tmp" -name '*.log' -type f 2>/dev/null; [ -f "$ASAN/unit.log" ] && echo "$ASAN/unit.log")
nlogs=$(printf '%s\n' "$logs" | grep -c . || true)
reports=$(printf '%s\n' "$logs" | grep . | xargs -r grep -lE "$pattern" 2>/dev/null || true)

suite_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$ASAN/e2e.out" | tail -1)
passed=$(echo "${suite_line:-0 passed, 0 failed}" | awk '{print $1}')
failed=$(echo "${suite_line:-0 passed, 1 failed}" | awk '{print $3}')
if [ "$nlogs" -eq 0 ]; then
    echo "not ok - sanitizer logs: none were kept (the suite did not start the shim?)"
    failed=$((failed + 1))
elif [ -n "$reports" ]; then
    echo "not ok - sanitizer reports in:"
    for f in $reports; do
        echo "  $f"
        grep -E "$pattern" "$f" | sort | uniq -c | head -10 | sed 's/^/    /'
    done
    failed=$((failed + 1))
else
    echo "ok - no sanitizer report in $nlogs logs"
    passed=$((passed + 1))
fi
if [ "$unit_failed" -ne 0 ]; then
    echo "not ok - unit tests under the sanitizers (see $ASAN/unit.log)"
    failed=$((failed + 1))
fi
echo "logs: $ASAN/tmp"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$e2e_rc" -eq 0 ]
