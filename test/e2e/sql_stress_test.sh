#!/usr/bin/env bash
# The short SQL stress of `make test`: 15 s of contended random operations,
# then every invariant from the raw tables (test/stress/sql_stress.sh).
exec "$(dirname "$0")/../stress/sql_stress.sh" 15 8
