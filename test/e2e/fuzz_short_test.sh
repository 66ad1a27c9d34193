#!/usr/bin/env bash
# The short fuzz run of `make test`: every libFuzzer target for 5 s under
# ASan and UBSan (test/fuzz/run.sh; `make fuzz` runs them longer).
exec bash "$(dirname "$0")/../fuzz/run.sh" --short
