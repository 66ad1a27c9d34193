#!/usr/bin/env bash
# `make bench`: every benchmark, each reporting ratios measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
install_missing_packages wrk
build_and_install
cluster_start >/dev/null
echo "== SQL purchase throughput (pgbench)"; bench/purchase_throughput.sh "${NW_BENCH_ROUNDS:-3}" 10 8
echo; echo "== HTTP (wrk, fake Twilio at 250 ms a buy)"; bench/http_throughput.sh
echo; echo "== backend memory over 100k calls, half failing"; bench/memory_flat.sh 100000
echo; echo "== backend memory during one renewal pass over 20k numbers"; bench/renewal_memory.sh 20000
echo; echo "== import_seed: 100k wallets, 200k numbers"; bench/import_seed.sh 100000
echo; echo "== costs as the data grows (wallets: ${NW_BENCH_SCALE_SIZES:-1000,100000,1000000})"; bash bench/scale.sh
