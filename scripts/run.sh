#!/usr/bin/env bash
# `bash scripts/run.sh` (`make run` with make): install what is missing, build,
# start the local cluster with the extension installed and the shim in Twilio
# testing mode on 127.0.0.1:8080, and serve until Ctrl-C. Needs only bash and
# apt (root, or a user with sudo).
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
  # A cluster that was already running (another `make run` or `make test`) stays up.
  if [ "$NW_STARTED_CLUSTER" = 1 ]; then cluster_stop; fi
}
trap stop_all INT TERM EXIT

# The shim's own login, with the service role's rights only.
psql -X -q -d number_wallet -c "SET client_min_messages = warning" -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'number_wallet_shim') THEN CREATE ROLE number_wallet_shim LOGIN; END IF;
END \$\$" -c "GRANT number_wallet_service TO number_wallet_shim" >/dev/null

# Testing mode: the built-in Twilio simulator and a demo signing secret kept in .run/.
[ -s .run/demo-jwt-secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >.run/demo-jwt-secret
export DATABASE_URL="postgresql://number_wallet_shim@127.0.0.1:$PGPORT/number_wallet"
export SUPABASE_JWT_SECRET="$(cat .run/demo-jwt-secret)"
export TWILIO_TESTING_MODE=true
# The buyer page's Add funds form (testing mode only; live mode refuses it).
export ALLOW_SELF_TOPUP=${ALLOW_SELF_TOPUP:-true}
export PORT=${PORT:-8080}
demo_user=00000000-0000-4000-8000-000000000001
user_token=$(build/number-wallet-shim token --sub "$demo_user" --ttl 86400)
service_token=$(build/number-wallet-shim token --service --ttl 86400)

build/number-wallet-shim serve 2>.run/shim.log &
SHIM_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "$SHIM_PID" 2>/dev/null || { cat .run/shim.log >&2; exit 1; }
  sleep 0.2
done

cat <<INFO

number_wallet is running (Twilio testing mode: the built-in simulator, no network).
  Buyer page  http://127.0.0.1:$PORT/         (Sign in as demo user, or the link below)
  Operators   http://127.0.0.1:$PORT/admin    (Access token: the SERVICE_TOKEN below)
  HTTP API    http://127.0.0.1:$PORT/api/     (logs: .run/shim.log)
  PostgreSQL  psql -h 127.0.0.1 -p $PGPORT -U $PG_SUPERUSER number_wallet

Open the buyer page signed in as the demo user $demo_user (testing mode only):
  http://127.0.0.1:$PORT/#access_token=$user_token
and the operator page with the service token:
  http://127.0.0.1:$PORT/admin#access_token=$service_token

A session to paste (demo tokens, valid for a day, exist only in testing mode):
  USER_TOKEN=$user_token
  SERVICE_TOKEN=$service_token
  curl -s http://127.0.0.1:$PORT/api/health
  curl -s -X POST http://127.0.0.1:$PORT/api/wallet/topup -H "Authorization: Bearer \$SERVICE_TOKEN" \\
       -H 'Content-Type: application/json' -d '{"amount":"10.00","currency":"USD","userId":"$demo_user"}'
  curl -s "http://127.0.0.1:$PORT/api/numbers/available?country=US&limit=3" -H "Authorization: Bearer \$USER_TOKEN"
  curl -s -X POST http://127.0.0.1:$PORT/api/numbers/purchase -H "Authorization: Bearer \$USER_TOKEN" \\
       -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' -d '{"phoneNumber":"+14155550123","displayName":"Demo"}'
  curl -s http://127.0.0.1:$PORT/api/numbers -H "Authorization: Bearer \$USER_TOKEN"
  curl -s http://127.0.0.1:$PORT/api/wallet -H "Authorization: Bearer \$USER_TOKEN"
  curl -s -X DELETE http://127.0.0.1:$PORT/api/numbers/<id>/release -H "Authorization: Bearer \$USER_TOKEN"

Press Ctrl-C to stop.
INFO
wait "$SHIM_PID"
