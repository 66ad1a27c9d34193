#!/usr/bin/env bash
# test/bare_machine/check.sh (`make bare-check`): the README's two commands on a
# bare Debian 12, the way a new user meets them. Needs root on a Debian host
# (debootstrap, chroot, mount), network access to deb.debian.org, about 10 GB
# of disk and, on 2 cores, about an hour. Not part of `make test`.
#
#   1. debootstrap --variant=minbase bookworm (no make, sudo, git or curl), with
#      bookworm, bookworm-updates and bookworm-security as apt sources; kept in
#      DIR/base and reused by later runs (it is only ever copied, never changed)
#   2. root:  a copy of the base; this tree in /root/number_wallet *without exec
#      bits* (as from a tarball or zip that lost them); as root:
#        bash scripts/test.sh    must end "N passed, 0 failed"
#        bash scripts/run.sh     /api/health must answer ok; SIGINT (Ctrl-C)
#                                must stop the shim and the cluster
#   3. user:  another copy of the base; the machine's own setup: sudo installed
#      and a user `dev` with passwordless sudo; this tree, modes kept, in
#      /home/dev/number_wallet; as dev, the same two commands
#
# The chroots get /proc, /sys, /dev, /dev/pts and a fresh /dev/shm (PostgreSQL
# needs POSIX shared memory); everything is unmounted on exit. They share the
# host's network: the clusters take the next free port from 15432 and the shim
# a free port below 32768. A policy-rc.d keeps the packaged `main` PostgreSQL
# cluster from starting on the host's port 5432 (a real machine would start it;
# the project does not use it). Downloaded .debs are cached in DIR/apt-cache-<run>.
#
#   test/bare_machine/check.sh [--dir DIR] [--only root|user] [--keep]
#     --dir DIR   where the chroots live (default /var/tmp/number_wallet-bare)
#     --only X    one of the two runs
#     --keep      keep DIR/root and DIR/user afterwards (default: removed when
#                 their run passed)
# Logs: DIR/<run>-test.log, DIR/<run>-run.log. Ends with one summary line per
# run and exits non-zero when anything failed.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=/var/tmp/number_wallet-bare
ONLY=""
KEEP=0
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
while [ $# -gt 0 ]; do
  case $1 in
  --dir) DIR=$2; shift ;;
  --only) ONLY=$2; shift ;;
  --keep) KEEP=1 ;;
  -h | --help) sed -n '2,32p' "$0"; exit 0 ;;
  *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\n=== %s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { echo "check.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || {
  say "installing debootstrap on this machine"
  apt-get install -y -q debootstrap >/dev/null
}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

# ---- mounts ---------------------------------------------------------------
MOUNTED=()
mount_into() { # ROOT
  local r=$1
  mount -t proc proc "$r/proc"; MOUNTED+=("$r/proc")
  mount --bind /sys "$r/sys"; MOUNTED+=("$r/sys")
  mount --bind /dev "$r/dev"; MOUNTED+=("$r/dev")
  mount --bind /dev/pts "$r/dev/pts"; MOUNTED+=("$r/dev/pts")
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"; MOUNTED+=("$r/dev/shm")
  # One cache per run: two runs at once (--only) must not share apt's archive lock.
  mkdir -p "$DIR/apt-cache-${r##*/}/partial"
  mount --bind "$DIR/apt-cache-${r##*/}" "$r/var/cache/apt/archives"; MOUNTED+=("$r/var/cache/apt/archives")
}
unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null || true
  done
  MOUNTED=()
}
RUN_PGID=""
cleanup() {
  [ -z "$RUN_PGID" ] || kill -TERM -- "-$RUN_PGID" 2>/dev/null || true
  unmount_all
}
trap cleanup EXIT

# A host whose HTTPS goes through an intercepting proxy trusts that proxy's CA
# through NODE_EXTRA_CA_CERTS; the chroots share the host's network, so they get
# the same CA for Node (npm fetches axe-core for the web test). This models the
# network, not the machine: without such a proxy nothing is added.
EXTRA_ENV=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  EXTRA_ENV=(NODE_EXTRA_CA_CERTS=/etc/nw-host-network-ca.crt)
fi
# chroot_network_ca ROOT: the copy of that CA inside ROOT.
chroot_network_ca() {
  [ ${#EXTRA_ENV[@]} -eq 0 ] || install -m 644 "$NODE_EXTRA_CA_CERTS" "$1/etc/nw-host-network-ca.crt"
}

# in_chroot ROOT USER COMMAND: COMMAND through bash -c, as USER, with the clean
# environment of a login (a normal user's PATH has no sbin directories).
in_chroot() {
  local r=$1 user=$2 cmd=$3
  if [ "$user" = root ]; then
    chroot "$r" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${EXTRA_ENV[@]}" bash -c "$cmd"
  else
    chroot "$r" /usr/sbin/runuser -u "$user" -- /usr/bin/env -i HOME="/home/$user" USER="$user" \
      LOGNAME="$user" SHELL=/bin/bash LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin "${EXTRA_ENV[@]}" \
      bash -c "$cmd"
  fi
}

# ---- the bare machine -------------------------------------------------------
if [ ! -f "$DIR/base/.debootstrapped" ]; then
  say "debootstrap --variant=minbase bookworm into $DIR/base"
  rm -rf "$DIR/base"
  debootstrap --variant=minbase bookworm "$DIR/base" "$MIRROR" >"$DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$DIR/debootstrap.log"; die "debootstrap failed"; }
  touch "$DIR/base/.debootstrapped"
fi
# The machine's apt sources (the project needs bookworm-security's packages).
cat >"$DIR/base/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
SOURCES
printf '#!/bin/sh\n# chroot: start no services (it shares the host network)\nexit 101\n' >"$DIR/base/usr/sbin/policy-rc.d"
chmod 755 "$DIR/base/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$DIR/base/etc/resolv.conf"
for tool in make sudo git curl; do
  [ ! -e "$DIR/base/usr/bin/$tool" ] || die "the base is not bare: it has $tool"
done

# copy_tree ROOT CHECKOUT OWNER STRIP: this checkout without .git and build
# output, into CHECKOUT inside ROOT, owned by OWNER (a user of the chroot).
copy_tree() {
  local dest=$1$2 co=$2 owner=$3 strip=$4
  rm -rf "$dest"; mkdir -p "$dest"
  tar -C "$SRC" --exclude=./.git --exclude=./build --exclude=./.run --exclude=./results \
    --exclude=./output_iso --exclude=./log --exclude='./tmp_check*' --exclude='./regression.*' \
    --exclude=./number_wallet.control --exclude='*.o' --exclude='*.bc' --exclude='*.so' -cf - . |
    tar -C "$dest" -xf -
  if [ "$strip" = 1 ]; then find "$dest" -type f -exec chmod a-x {} +; fi
  chroot "$1" chown -R "$owner" "$co"
  chroot_network_ca "$1"
}

# run_check ROOT USER CHECKOUT: the run command: serve, /api/health, SIGINT.
run_check() {
  local r=$1 user=$2 co=$3 log=$4 port=18080 i body=""
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  # Job control gives the run its own process group, as a terminal would: SIGINT
  # to the group is Ctrl-C (without it, bash starts background jobs with SIGINT ignored).
  set -m
  in_chroot "$r" "$user" "cd $co && PORT=$port bash scripts/run.sh" </dev/null >"$log" 2>&1 &
  RUN_PGID=$!
  set +m
  for i in $(seq 1 1800); do
    body=$(in_chroot "$r" root "command -v curl >/dev/null && curl -fsS --max-time 2 http://127.0.0.1:$port/api/health" 2>/dev/null) && break
    kill -0 "$RUN_PGID" 2>/dev/null || break
    sleep 1
  done
  echo "GET /api/health on port $port: ${body:-no answer}" | tee -a "$log"
  kill -INT -- "-$RUN_PGID" 2>/dev/null || true
  for i in $(seq 1 60); do kill -0 "$RUN_PGID" 2>/dev/null || break; sleep 1; done
  local exited=yes
  if kill -0 "$RUN_PGID" 2>/dev/null; then exited=no; kill -TERM -- "-$RUN_PGID" 2>/dev/null || true; fi
  wait "$RUN_PGID" 2>/dev/null || true
  RUN_PGID=""
  # Nothing of it may be left: no process of this chroot, nothing on the port.
  local left=0 p port_free=yes
  sleep 1
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" != "$r" ] || { left=$((left + 1)); tr '\0' ' ' <"$p/cmdline" >>"$log"; echo >>"$log"; }
  done
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && port_free=no
  echo "after SIGINT: the run exited: $exited; processes left in the chroot: $left; port $port free: $port_free" | tee -a "$log"
  [[ $body == *'"status":"ok"'* ]] && [ "$exited" = yes ] && [ "$left" = 0 ] && [ "$port_free" = yes ]
}

RESULTS=()
one_run() { # NAME
  local name=$1 r="$DIR/$1" user co strip owner line status=ok
  say "$name: a fresh copy of the bare machine in $r"
  rm -rf "$r"
  cp -a "$DIR/base" "$r" && mount_into "$r" || { RESULTS+=("$name: cannot set up the chroot"); return 1; }
  if [ "$name" = root ]; then
    user=root co=/root/number_wallet strip=1 owner=root:root
  else
    user=dev co=/home/dev/number_wallet strip=0 owner=dev:dev
    say "user: the machine's setup: sudo, and dev with passwordless sudo"
    in_chroot "$r" root "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >/dev/null &&
      useradd -m -s /bin/bash dev && echo 'dev ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/dev && chmod 440 /etc/sudoers.d/dev" || { RESULTS+=("$name: the machine's setup failed"); return 1; }
  fi
  copy_tree "$r" "$co" "$owner" "$strip" || { RESULTS+=("$name: cannot copy the tree"); return 1; }
  say "$name: bash scripts/test.sh as $user in $co (log: $DIR/$name-test.log)"
  local started=$SECONDS
  in_chroot "$r" "$user" "cd $co && bash scripts/test.sh" >"$DIR/$name-test.log" 2>&1 || status=failed
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$DIR/$name-test.log" | tail -n1 || true)
  grep -E '^not ok |^==> ' "$DIR/$name-test.log" | head -n 40 || true
  say "$name: test: ${line:-no summary line} (exit $status, $(((SECONDS - started) / 60)) min)"
  say "$name: bash scripts/run.sh as $user, then SIGINT (log: $DIR/$name-run.log)"
  local run_status=ok
  run_check "$r" "$user" "$co" "$DIR/$name-run.log" || run_status=failed
  unmount_all
  RESULTS+=("$name ($user, $co): test: ${line:-no summary line} [$status]; run: health and Ctrl-C [$run_status]")
  if [ "$status" = ok ] && [ "$run_status" = ok ] && [ "$KEEP" = 0 ]; then rm -rf "$r"; fi
  [ "$status" = ok ] && [ "$run_status" = ok ]
}

overall=0
for name in root user; do
  [ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || continue
  one_run "$name" || overall=1
done
say "summary ($(date -u +%Y-%m-%d), Debian $(cat "$DIR/base/etc/debian_version") minbase)"
printf '%s\n' "${RESULTS[@]}"
exit "$overall"
