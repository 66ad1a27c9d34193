# Shared by scripts/run.sh and scripts/test.sh: install what is missing, build,
# and run a private PostgreSQL 15 cluster for this checkout (NW_CLUSTER_DIR and
# NW_PG_PORT choose another one, e.g. for fault tests that stop it).
#
# PostgreSQL refuses to run as root. As root the cluster runs as the
# `postgres` user, and its files live under /var/tmp (postgres cannot enter a
# checkout under /root); .run/pg points there. As a normal user the cluster
# runs as that user inside the checkout, in .run/pg.

set -euo pipefail

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
# Below 32768: Linux hands out 32768-60999 as the local ports of outgoing
# connections, and a port one of those holds cannot be listened on.
NW_PG_PORT=${NW_PG_PORT:-15432}

# For developers who test several checkouts at once: NW_PG_ROOT=/var/tmp/some-dir
# gives this checkout a private copy of the PostgreSQL 15 server there
# (PostgreSQL finds its share and lib directories relative to its binaries), and
# the extension is installed into that copy, not over another checkout's.
if [ -n "${NW_PG_ROOT:-}" ]; then
  PG_BIN=$NW_PG_ROOT/usr/lib/postgresql/15/bin
  export PG_BINDIR=$PG_BIN
fi

if [ "$(id -u)" -eq 0 ]; then
  # `su` without `-` keeps a user's PATH, which has no sbin directories; root
  # needs them (runuser, and dpkg calls ldconfig and start-stop-daemon).
  case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac
  SUDO=""
  AS_PG=(runuser -u postgres -- env --chdir=/)  # postgres cannot enter a checkout under /root
  PG_SUPERUSER=postgres
  CLUSTER_DIR=${NW_CLUSTER_DIR:-/var/tmp/number_wallet-$(printf '%s' "$PROJECT_DIR" | md5sum | cut -c1-12)}
else
  SUDO="sudo"
  AS_PG=()
  PG_SUPERUSER=$(id -un)
  CLUSTER_DIR=${NW_CLUSTER_DIR:-$PROJECT_DIR/.run/pg}
fi

export PGHOST=127.0.0.1 PGPORT=$NW_PG_PORT PGUSER=$PG_SUPERUSER
NW_STARTED_CLUSTER=0

log() { printf '==> %s\n' "$*" >&2; }

# As a normal user, installing packages and the extension goes through sudo.
need_sudo() {
  [ -z "$SUDO" ] || command -v sudo >/dev/null && return 0
  log "installing needs root: run this as root, or as a user with sudo (apt-get install sudo as root)"
  exit 1
}

# Debian packages the project builds, runs and tests with, installed without
# their recommendations: everything the scripts call beyond a minimal Debian 12
# (debootstrap --variant=minbase; test/bare_machine/check.sh proves the list)
# must be named here. ca-certificates: the shim's live calls (Twilio, a JWKS)
# verify TLS against the system CA bundle, which libcurl only recommends.
# chromium, chromium-driver (one build), python3-selenium and a font: the web
# pages' browser test (test/e2e/web_test.sh).
NW_PACKAGES=(
  make g++ cmake pkg-config clang-14 llvm-14-dev libclang-rt-14-dev clang-format
  postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev
  libcpp-httplib-dev libcurl4-openssl-dev nlohmann-json3-dev libjwt-dev libssl-dev
  libgtest-dev libgmock-dev libphonenumber-dev curl jq openssl gzip procps
  ca-certificates postgresql-15-auto-failover
  # ops/: the tests run nginx unprivileged in front of the shim, promtool and
  # amtool on the alert rules, systemd-analyze on the units (no service of
  # these packages is started: see install_missing_packages).
  nginx prometheus prometheus-alertmanager systemd
  # web/: the browser test drives the pages in Debian's chromium through its driver.
  chromium chromium-driver python3-selenium fonts-liberation
)
# The web pages' browser test injects axe-core, an npm package fetched at test
# time; NodeSource's nodejs brings its own npm (and conflicts with Debian's).
command -v npm >/dev/null 2>&1 || NW_PACKAGES+=(npm)

install_missing_packages() {
  local missing=() pkg
  for pkg in "${NW_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing ${missing[*]}"
  need_sudo
  $SUDO apt-get update -q
  # nginx, prometheus and prometheus-alertmanager start their daemons when
  # installed (on a machine without systemd, through their init scripts, even
  # in a chroot): the project needs only their programs. A policy-rc.d that
  # denies those three starts (and no other), unless the machine has its own
  # policy, keeps them stopped.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '%s\n' '#!/bin/sh' '# number_wallet: its test tools are not started as services while they install' \
      'case "$1" in nginx|prometheus|prometheus-alertmanager) exit 101 ;; esac' 'exit 0' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=1
  fi
  local rc=0
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
  [ "$own_policy" = 0 ] || $SUDO rm -f "$policy"
  return "$rc"
}

build_and_install() {
  log "building"
  make -C "$PROJECT_DIR" -j2 --no-print-directory >/dev/null
  if [ -n "${NW_PG_ROOT:-}" ]; then
    if [ ! -x "$PG_BIN/postgres" ]; then
      log "copying the PostgreSQL 15 server into $NW_PG_ROOT"
      mkdir -p "$NW_PG_ROOT/usr/lib/postgresql" "$NW_PG_ROOT/usr/share/postgresql"
      cp -a /usr/lib/postgresql/15 "$NW_PG_ROOT/usr/lib/postgresql/"
      cp -a /usr/share/postgresql/15 "$NW_PG_ROOT/usr/share/postgresql/"
    fi
    log "installing the extension into $NW_PG_ROOT"
    make -C "$PROJECT_DIR" install DESTDIR="$NW_PG_ROOT" NW_SKIP_SHIM=1 --no-print-directory >/dev/null
    return 0
  fi
  log "installing the extension into $(pg_config --pkglibdir)"
  need_sudo
  $SUDO make -C "$PROJECT_DIR" install NW_SKIP_SHIM=1 --no-print-directory >/dev/null
}

pg_ctl_() { "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" "$@"; }

cluster_start() {
  mkdir -p "$PROJECT_DIR/.run"
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$CLUSTER_DIR"
    chown postgres:postgres "$CLUSTER_DIR"
    chmod 700 "$CLUSTER_DIR"
    [ -n "${NW_CLUSTER_DIR:-}" ] || ln -sfn "$CLUSTER_DIR" "$PROJECT_DIR/.run/pg"
  else
    mkdir -p "$CLUSTER_DIR"
  fi
  if [ ! -f "$CLUSTER_DIR/data/PG_VERSION" ]; then
    log "creating a PostgreSQL 15 cluster in $CLUSTER_DIR"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$CLUSTER_DIR/data" -U "$PG_SUPERUSER" -A trust -E UTF8 --locale=C >/dev/null
    "${AS_PG[@]}" tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null <<CONF
# number_wallet's local cluster (scripts/lib.sh)
listen_addresses = '127.0.0.1'
port = $NW_PG_PORT
unix_socket_directories = '$CLUSTER_DIR'
max_connections = 200
shared_buffers = 128MB
max_prepared_transactions = 0
log_min_messages = warning
CONF
  fi
  if pg_ctl_ status >/dev/null 2>&1; then
    # Already running (an earlier `make run` or `make test`): use its port.
    NW_PG_PORT=$(sed -n 4p "$CLUSTER_DIR/data/postmaster.pid")
    export PGPORT=$NW_PG_PORT
    return 0
  fi
  # Another checkout's cluster (or anything else) may hold the port: take the next free one.
  local tries=0
  while (echo >"/dev/tcp/127.0.0.1/$NW_PG_PORT") 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || { log "no free port from ${PGPORT} on; set NW_PG_PORT"; return 1; }
    NW_PG_PORT=$((NW_PG_PORT + 1))
  done
  export PGPORT=$NW_PG_PORT
  NW_STARTED_CLUSTER=1
  log "starting PostgreSQL on 127.0.0.1:$NW_PG_PORT"
  if ! pg_ctl_ -w -t 60 -l "$CLUSTER_DIR/postgresql.log" -o "-p $NW_PG_PORT" start >/dev/null; then
    tail -n 20 "$CLUSTER_DIR/postgresql.log" >&2
    return 1
  fi
}

cluster_stop() {
  if [ -f "$CLUSTER_DIR/data/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    pg_ctl_ -w -m fast stop >/dev/null
  fi
}

# Creates database $1 with the extension if it does not exist yet.
ensure_database() {
  local db=$1
  if ! psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql -X -q -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
  psql -X -q -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS number_wallet" >/dev/null
}
