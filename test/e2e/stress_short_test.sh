#!/usr/bin/env bash
# The short stress of `make test` (about 70 s): SQL contention, races, a
# PostgreSQL crash under load, and the shim killed and Twilio failing under
# HTTP load, each followed by every invariant (test/stress/run.sh).
exec bash "$(dirname "$0")/../stress/run.sh" --short
