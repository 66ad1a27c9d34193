#!/usr/bin/env bash
# systemd_units_test.sh: ops/systemd/number-wallet-shim.service and the
# reconcile service and timer.
#  * systemd-analyze verify accepts each unit with no warning at all (a
#    misspelt value is only a warning, so any output fails), with ExecStart
#    pointed at the built shim (verify checks that it is executable; the
#    shipped path /usr/local/bin/number-wallet-shim is a placeholder);
#  * the verification catches a broken unit (the test can fail);
#  * verify runs with --man=no: a minimal machine has no man pages to look up
#    for Documentation=man:… (that lookup is not about the unit);
#  * the sandbox settings the shim relies on are there, and
#    systemd-analyze security --offline rates each service's exposure at most 2.0.
#
# Needs systemd-analyze (Debian package systemd; no running systemd needed).
# Prints "ok - ..." / "not ok - ..." lines and a final "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM_BIN=${NW_SHIM_BIN:-$ROOT/build/number-wallet-shim}
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"
DIR=$ROOT/ops/systemd
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_sd.XXXXXX")
trap 'rm -rf "$W"' EXIT

command -v systemd-analyze >/dev/null || { not_ok "systemd-analyze is installed (Debian package systemd)"; finish; }
[ -x "$SHIM_BIN" ] || { not_ok "build/number-wallet-shim exists (run make)"; finish; }

UNITS=(number-wallet-shim.service number-wallet-reconcile.service number-wallet-reconcile.timer)
for unit in "${UNITS[@]}"; do
    [ -f "$DIR/$unit" ] || { not_ok "ops/systemd/$unit exists"; continue; }
    sed "s|^ExecStart=/usr/local/bin/number-wallet-shim |ExecStart=$SHIM_BIN |" "$DIR/$unit" >"$W/$unit"
done
check "the rendered units differ from the shipped ones only in ExecStart" "2" \
    "$(cat "$DIR"/*.service | diff - <(cat "$W"/*.service) | grep -c '^>')"

# verify in the rendered directory, so the timer finds its service.
for unit in "${UNITS[@]}"; do
    out=$(cd "$W" && systemd-analyze verify --man=no "./$unit" 2>&1)
    rc=$?
    check "systemd-analyze verify $unit: exit 0, no warning" "0 " "$rc ${out//$'\n'/ | }"
done

sed 's/^ProtectSystem=strict/ProtectSystem=strictly/' "$W/number-wallet-shim.service" >"$W/broken.service"
out=$(cd "$W" && systemd-analyze verify --man=no ./broken.service 2>&1)
check "verify reports a misspelt value (the check can fail)" "yes" \
    "$(grep -q 'Failed to parse protect system value' <<<"$out" && echo yes || echo "no: $out")"
rm -f "$W/broken.service"

for setting in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
               PrivateDevices=yes 'CapabilityBoundingSet=$' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$' \
               'SystemCallFilter=@system-service$' MemoryDenyWriteExecute=yes RestrictNamespaces=yes; do
    grep -qE "^$setting" "$DIR/number-wallet-shim.service" && ok "number-wallet-shim.service sets ${setting%\$}" ||
        not_ok "number-wallet-shim.service sets ${setting%\$}"
done
check "the timer starts the reconcile service hourly" "yes" \
    "$(grep -q '^OnUnitActiveSec=1h' "$DIR/number-wallet-reconcile.timer" && echo yes || echo no)"

for unit in number-wallet-shim.service number-wallet-reconcile.service; do
    out=$(cd "$W" && systemd-analyze security --offline=yes "./$unit" 2>&1)
    level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    check "systemd-analyze security rates $unit at most 2.0" "yes" \
        "$(awk -v l="${level:-99}" 'BEGIN { print (l <= 2.0) ? "yes" : "no: " l }')"
done
finish
