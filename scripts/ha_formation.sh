#!/usr/bin/env bash
# A pg_auto_failover formation on this machine, for development and tests: a
# monitor, a primary and two standbys with synchronous replication
# (number_sync_standbys = 1: a commit confirmed to a client is on two nodes,
# so it survives the loss of any one), the number_wallet extension created in
# the formation's database. docs/high-availability.md explains a real
# deployment; this script is its one-machine rehearsal.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
set +u

usage() {
  cat <<'EOF'
Usage: bash scripts/ha_formation.sh [options] COMMAND

Commands:
  create     create and start the monitor and three nodes (prints the DATABASE_URL)
  start      start the keepers of an existing formation
  stop       stop every keeper and its PostgreSQL
  destroy    stop, then delete the formation's directory
  url        print the multi-host DATABASE_URL (target_session_attrs=read-write)
  state      print pg_autoctl show state
  primary    print the name of the current primary (node1, node2 or node3)
  kill NODE  kill -9 the keeper and the postmaster of NODE (a lost machine)
  run NODE   start NODE's keeper again (it rejoins as a standby)
  failover   pg_autoctl perform failover (a planned, clean failover)
  wait-primary [SECONDS]
             wait until a primary accepts writes and two nodes replicate

Options:
  --dir DIR        where the formation lives (default: /var/tmp/number_wallet-ha-<hash> as root,
                   .run/ha in the checkout otherwise)
  --base-port P    the monitor listens on P, the nodes on P+1, P+2, P+3 (default 25441)
  --dbname NAME    the database (default number_wallet)
  --fast           monitor timeouts of a few seconds (a failover in about 10 s); default for create
  -h, --help       this text

The nodes run the PostgreSQL server the extension is installed into
(NW_PG_ROOT's copy when set, see scripts/lib.sh), as the postgres user when
run as root. Build and install the extension first (bash scripts/test.sh, or
make && make install).
EOF
}

DIR=""
BASE_PORT=25441
DBNAME=number_wallet
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --dbname) DBNAME=$2; shift 2 ;;
    --fast) shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "ha_formation.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ ${#ARGS[@]} -ge 1 ] || { usage >&2; exit 2; }
COMMAND=${ARGS[0]}
case "$BASE_PORT" in '' | *[!0-9]*) echo "ha_formation.sh: --base-port must be a number" >&2; exit 2 ;; esac

if [ -z "$DIR" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DIR=/var/tmp/number_wallet-ha-$(printf '%s' "$PROJECT_DIR" | md5sum | cut -c1-12)
  else
    DIR=$PROJECT_DIR/.run/ha
  fi
fi
MONITOR_PORT=$BASE_PORT
NODES=(node1 node2 node3)
node_port() { echo $((BASE_PORT + ${1#node})); }

command -v pg_autoctl >/dev/null || {
  echo "ha_formation.sh: pg_autoctl not found: install postgresql-15-auto-failover (bash scripts/test.sh installs it)" >&2
  exit 1
}
# The monitor needs the pgautofailover extension; the nodes need number_wallet.
# Both live in the server the nodes run (the system's, or NW_PG_ROOT's copy).
PG_CTL=$PG_BIN/pg_ctl
if [ ! -f "$PG_BIN/../lib/pgautofailover.so" ]; then
  if [ -n "${NW_PG_ROOT:-}" ] && [ -f /usr/lib/postgresql/15/lib/pgautofailover.so ]; then
    cp -a /usr/lib/postgresql/15/lib/pgautofailover.so "$PG_BIN/../lib/"
    cp -a /usr/share/postgresql/15/extension/pgautofailover* "$NW_PG_ROOT/usr/share/postgresql/15/extension/"
  else
    echo "ha_formation.sh: pgautofailover.so is missing from $PG_BIN/../lib" >&2
    exit 1
  fi
fi

# pg_autoctl keeps its state under XDG directories: keep them in the formation.
# PG_REGRESS_SOCK_DIR: pg_autoctl then puts every server's Unix socket there
# (the default directory, /var/run/postgresql, is not writable for a normal user).
AUTOCTL=("${AS_PG[@]}" env XDG_CONFIG_HOME="$DIR/config" XDG_DATA_HOME="$DIR/share" PGHOST=127.0.0.1
  PG_REGRESS_SOCK_DIR="$DIR/sockets" pg_autoctl)
MONITOR_URI="postgres://autoctl_node@127.0.0.1:$MONITOR_PORT/pg_auto_failover?sslmode=disable"

database_url() {
  local hosts="" n
  for n in "${NODES[@]}"; do hosts+="${hosts:+,}127.0.0.1:$(node_port "$n")"; done
  echo "postgresql://$PG_SUPERUSER@$hosts/$DBNAME?target_session_attrs=read-write&connect_timeout=2"
}

psql_node() {  # psql_node PORT SQL...: as the superuser, on the node's postgres database
  local port=$1; shift
  psql -X -q -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres -tA "$@"
}

start_keeper() {  # start_keeper NAME PGDATA
  local name=$1 pgdata=$2
  if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then return 0; fi
  # setsid: the keeper outlives this script and is stopped by its pid file.
  setsid "${AUTOCTL[@]}" run --pgdata "$pgdata" >>"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local until=$((SECONDS + seconds))
  while ! "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $until ]; then
      log "timed out waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

current_primary() {
  local n
  for n in "${NODES[@]}"; do
    if [ "$(psql_node "$(node_port "$n")" -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; then
      echo "$n"
      return 0
    fi
  done
  return 1
}

# A primary that takes writes with a synchronous standby streaming.
writable_with_sync() {
  local n port
  n=$(current_primary) || return 1
  port=$(node_port "$n")
  [ "$(psql_node "$port" -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null)" -ge 1 ] || return 1
  psql_node "$port" -c "SHOW transaction_read_only" 2>/dev/null | grep -qx off
}

monitor_sql() {
  psql -X -q -h 127.0.0.1 -p "$MONITOR_PORT" -U "$PG_SUPERUSER" -d pg_auto_failover -tA -c "$1"
}

node_in_state() {  # node_in_state NAME STATE: the monitor sees NAME reported in STATE
  [ "$(monitor_sql "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null)" = "$2" ]
}

create() {
  if [ -d "$DIR/monitor" ]; then
    log "a formation already exists in $DIR (destroy it first)"
    exit 1
  fi
  local port
  for port in "$MONITOR_PORT" $((BASE_PORT + 1)) $((BASE_PORT + 2)) $((BASE_PORT + 3)); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port is taken: choose another --base-port"
      exit 1
    fi
  done
  mkdir -p "$DIR"
  [ "$(id -u)" -ne 0 ] || { chown postgres:postgres "$DIR"; chmod 700 "$DIR"; }
  "${AS_PG[@]}" mkdir -p "$DIR/config" "$DIR/share" "$DIR/sockets"

  log "creating the monitor on 127.0.0.1:$MONITOR_PORT"
  "${AUTOCTL[@]}" create monitor --pgctl "$PG_CTL" --pgdata "$DIR/monitor" --pgport "$MONITOR_PORT" \
    --hostname 127.0.0.1 --auth trust --no-ssl >>"$DIR/monitor.log" 2>&1
  echo "unix_socket_directories = '$DIR/sockets'" | "${AS_PG[@]}" tee -a "$DIR/monitor/postgresql.conf" >/dev/null
  # Failover in seconds rather than the default half minute: check each node
  # every second and give a lost primary 5 s to step down.
  cat <<CONF | "${AS_PG[@]}" tee -a "$DIR/monitor/postgresql.conf" >/dev/null
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 5000
pgautofailover.startup_grace_period = 3000
CONF
  start_keeper monitor "$DIR/monitor"
  wait_for 60 "the monitor" monitor_sql "SELECT 1"

  local n
  # The first node becomes the primary; the two standbys are then created at
  # once (each clones the primary with pg_basebackup).
  create_node() {
    local n=$1
    "${AUTOCTL[@]}" create postgres --pgctl "$PG_CTL" --pgdata "$DIR/$n" --pgport "$(node_port "$n")" \
      --listen 127.0.0.1 --hostname 127.0.0.1 --name "$n" --dbname "$DBNAME" --monitor "$MONITOR_URI" \
      --auth trust --no-ssl >>"$DIR/$n.log" 2>&1 || return 1
    # pg_autoctl includes its own settings file; these follow it and win.
    cat <<CONF | "${AS_PG[@]}" tee -a "$DIR/$n/postgresql.conf" >/dev/null
unix_socket_directories = '$DIR/sockets'
max_connections = 200
log_min_messages = warning
CONF
    start_keeper "$n" "$DIR/$n"
  }
  log "creating node1 on 127.0.0.1:$(node_port node1)"
  create_node node1
  wait_for 90 "node1 to become the primary" node_in_state node1 single
  log "creating node2 and node3 on 127.0.0.1:$(node_port node2) and $(node_port node3)"
  local pids=()
  for n in node2 node3; do create_node "$n" & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || { log "creating a standby failed (see $DIR/node*.log)"; exit 1; }; done
  for n in node2 node3; do wait_for 180 "$n to join as a standby" node_in_state "$n" secondary; done

  log "number_sync_standbys = 1"
  # The monitor takes the setting only while the primary is in state primary
  # (or wait_primary); right after the standbys join it may still be moving
  # between states, so wait for that and try again until it is accepted.
  wait_for 120 "node1 to be reported primary" node_in_state node1 primary
  wait_for 120 "the monitor to accept number-sync-standbys 1" \
    "${AUTOCTL[@]}" set formation number-sync-standbys 1 --pgdata "$DIR/node1"
  wait_for 60 "a primary with a synchronous standby" writable_with_sync
  local primary
  primary=$(current_primary)
  psql -X -q -h 127.0.0.1 -p "$(node_port "$primary")" -U "$PG_SUPERUSER" -d "$DBNAME" \
    -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS number_wallet" >/dev/null
  log "formation ready in $DIR; primary $primary"
  database_url
}

stop_all() {
  local name pid
  for name in node1 node2 node3 monitor; do
    [ -f "$DIR/$name.pid" ] || continue
    pid=$(cat "$DIR/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/$name.pid"
    # A postmaster left behind by a killed keeper.
    if [ -f "$DIR/$name/postmaster.pid" ]; then
      "${AS_PG[@]}" "$PG_CTL" -D "$DIR/$name" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
}

kill_node() {
  local name=$1 pid
  [ -f "$DIR/$name/postmaster.pid" ] || { log "$name has no running PostgreSQL"; return 1; }
  if [ -f "$DIR/$name.pid" ]; then
    kill -KILL -- "-$(cat "$DIR/$name.pid")" 2>/dev/null || kill -KILL "$(cat "$DIR/$name.pid")" 2>/dev/null || true
    rm -f "$DIR/$name.pid"
  fi
  pid=$(head -n1 "$DIR/$name/postmaster.pid")
  kill -KILL "$pid" 2>/dev/null || true
}

case "$COMMAND" in
  create) create ;;
  start)
    for n in monitor "${NODES[@]}"; do start_keeper "$n" "$DIR/$n"; done
    wait_for 120 "a writable primary" writable_with_sync
    ;;
  stop) stop_all ;;
  destroy)
    # Everything goes: no need for a clean shutdown.
    for n in "${NODES[@]}" monitor; do
      [ -d "$DIR/$n" ] || continue
      if [ -f "$DIR/$n.pid" ]; then
        kill -KILL -- "-$(cat "$DIR/$n.pid")" 2>/dev/null || kill -KILL "$(cat "$DIR/$n.pid")" 2>/dev/null || true
      fi
      "${AS_PG[@]}" "$PG_CTL" -D "$DIR/$n" -m immediate stop >/dev/null 2>&1 || true
    done
    # A postmaster killed with its keeper's process group can leave children
    # behind (the monitor's logger and health-check worker): every process
    # still working in a data directory of this formation goes too.
    for proc in /proc/[0-9]*; do
      case "$(readlink "$proc/cwd" 2>/dev/null)" in "$DIR"/*) kill -KILL "${proc#/proc/}" 2>/dev/null || true ;; esac
    done
    rm -rf "$DIR"
    ;;
  url) database_url ;;
  state) "${AUTOCTL[@]}" show state --pgdata "$DIR/monitor" ;;
  primary) current_primary ;;
  kill) kill_node "${ARGS[1]:?kill needs a node name}" ;;
  run) start_keeper "${ARGS[1]:?run needs a node name}" "$DIR/${ARGS[1]}" ;;
  failover) "${AUTOCTL[@]}" perform failover --pgdata "$DIR/monitor" ;;
  wait-primary) wait_for "${ARGS[1]:-60}" "a writable primary" writable_with_sync ;;
  *) echo "ha_formation.sh: unknown command $COMMAND (see --help)" >&2; exit 2 ;;
esac
