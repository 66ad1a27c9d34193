#!/usr/bin/env bash
# test/e2e/format_test.sh: every C++ source and header is formatted as .clang-format says.
# Uses `find` (not `git ls-files`) so that it also runs in a tarball without .git.
# Fix a failure with: clang-format -i <file>   (Debian's clang-format, version 14)
set -u
cd "$(dirname "$0")/../.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
    echo "not ok - $CLANG_FORMAT is not installed (Debian package clang-format)"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
while IFS= read -r file; do
    if "$CLANG_FORMAT" --dry-run -Werror "$file" >/dev/null 2>&1; then
        echo "ok - $file"
        passed=$((passed + 1))
    else
        echo "not ok - $file (run: $CLANG_FORMAT -i $file)"
        failed=$((failed + 1))
    fi
done < <(find core extension shim test/unit test/fuzz test/fake_twilio test/stress bench \
              -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
