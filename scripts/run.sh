#!/usr/bin/env bash
# `make run`: install what is missing, build, start the local cluster with the
# extension installed (and the shim in Twilio testing mode, once built), and
# serve until Ctrl-C.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"

install_missing_packages
build_and_install
cluster_start
ensure_database number_wallet

SHIM_PID=""
stop_all() {
  trap - INT TERM EXIT
  if [ -n "$SHIM_PID" ]; then
    kill -TERM "$SHIM_PID" 2>/dev/null || true
    wait "$SHIM_PID" 2>/dev/null || true
  fi
  cluster_stop
}
trap stop_all INT TERM EXIT

cat <<INFO

number_wallet is running.
  PostgreSQL 15 on 127.0.0.1:$NW_PG_PORT, database "number_wallet", superuser "$PG_SUPERUSER"
  Connect:  psql -h 127.0.0.1 -p $NW_PG_PORT -U $PG_SUPERUSER number_wallet

  Try:
    SELECT number_wallet.wallet_credit('00000000-0000-0000-0000-000000000001', 20);
    SELECT number_wallet.purchase_number('00000000-0000-0000-0000-000000000001', '+14155550100', 1.15);

Press Ctrl-C to stop.
INFO

if [ -x build/number-wallet-shim ] && [ -f scripts/shim-env.sh ]; then
  source scripts/shim-env.sh
  build/number-wallet-shim serve &
  SHIM_PID=$!
  wait "$SHIM_PID"
else
  while true; do sleep 3600; done
fi
