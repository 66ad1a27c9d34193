#!/usr/bin/env bash
# Builds the libFuzzer targets into build/fuzz/.
# Needs clang-14 and libclang-rt-14-dev (libFuzzer/ASan/UBSan runtimes),
# libjwt-dev, libssl-dev, nlohmann-json3-dev.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CXX="${CXX:-clang++-14}"
OUT="$ROOT/build/fuzz"
mkdir -p "$OUT"

if ! command -v "$CXX" >/dev/null; then
    echo "build.sh: $CXX not found (apt-get install clang-14)" >&2; exit 1
fi
RT_DIR="$("$CXX" -print-resource-dir)/lib/linux"
if [ ! -e "$RT_DIR/libclang_rt.fuzzer-x86_64.a" ] && ! ls "$RT_DIR"/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    echo "build.sh: libFuzzer runtime missing (apt-get install libclang-rt-14-dev)" >&2; exit 1
fi

FLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c++17 -O1 -g
       -I shim -I extension/core -I extension)
# shellcheck disable=SC2207
PKG=($(pkg-config --cflags --libs libjwt openssl))
if [ -d /usr/include/nlohmann ]; then :; else
    FLAGS+=($(pkg-config --cflags nlohmann_json 2>/dev/null || true))
fi

AUTH_SRCS=(shim/auth/base64url.cpp shim/auth/claims.cpp shim/auth/constant_time.cpp shim/auth/jwks.cpp
           shim/auth/signature.cpp shim/auth/token.cpp shim/auth/verifier.cpp)

build() {  # name sources...
    local name="$1"; shift
    echo "build.sh: fuzz_$name"
    "$CXX" "${FLAGS[@]}" "test/fuzz/fuzz_$name.cpp" "$@" "${PKG[@]}" -o "$OUT/fuzz_$name"
}

pids=()
TARGETS=("${@:-validation claims jwt twilio_parse dotenv}")
for t in ${TARGETS[*]}; do
    case "$t" in
        validation)   build validation extension/core/validation.cpp ;;
        claims)       build claims extension/core/claims.cpp extension/core/validation.cpp ;;
        jwt)          build jwt "${AUTH_SRCS[@]}" ;;
        twilio_parse) build twilio_parse shim/twilio/parse.cpp shim/twilio/errors.cpp shim/twilio/encoding.cpp ;;
        dotenv)       build dotenv shim/config/config.cpp extension/core/validation.cpp ;;
        *) echo "build.sh: unknown target $t" >&2; exit 2 ;;
    esac &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
