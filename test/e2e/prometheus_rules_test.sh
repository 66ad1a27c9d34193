#!/usr/bin/env bash
# prometheus_rules_test.sh: the alert rules and the example Prometheus and
# Alertmanager configurations in ops/prometheus/.
#  * promtool check rules: the rules file is valid;
#  * it holds exactly the seven NumberWallet* alerts, each rule with severity
#    warning or critical and a summary and runbook annotation;
#  * promtool test rules: every file of ops/prometheus/tests/ passes, and every
#    alert has a test where it fires and one where it stays silent;
#  * a rule changed to fire at a threshold it must not (20 % refunds, 5
#    conflicts) makes its test fail (the tests can fail);
#  * promtool check config / amtool check-config accept the examples, and the
#    example routes critical alerts to the pager and warnings to chat.
#
# Needs promtool (Debian package prometheus) and amtool (prometheus-alertmanager).
# Prints "ok - ..." / "not ok - ..." lines and a final "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"
DIR=$ROOT/ops/prometheus
RULES=$DIR/number_wallet.rules.yml
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_prom.XXXXXX")
STARTED=$(date +%s)
trap 'rm -rf "$W"' EXIT

for tool in promtool amtool; do
    command -v "$tool" >/dev/null || { not_ok "tool $tool is installed"; finish; }
done

out=$(promtool check rules "$RULES" 2>&1)
check "promtool check rules accepts number_wallet.rules.yml" "0 yes" \
    "$? $(grep -q 'SUCCESS: 11 rules found' <<<"$out" && echo yes || echo "no: $out")"

ALERTS=(NumberWalletLedgerDrift NumberWalletPurchaseUnsettled NumberWalletInterventions NumberWalletRefundRate
        NumberWalletDuplicateConflicts NumberWalletTwilioAuthFailing NumberWalletDatabaseDown)
check "the rules file names exactly the seven alerts" \
    "$(printf '%s\n' "${ALERTS[@]}" | sort)" \
    "$(sed -n 's/^ *- alert: *//p' "$RULES" | sort -u)"

# Each rule: an alert line, then (before the next rule) severity and annotations.
bad=$(awk '
    /^ *- alert:/ { if (name != "") report(); name = $3; sev = ""; summary = 0; runbook = 0; next }
    /^ *severity:/ { sev = $2 }
    /^ *summary:/ { summary = length($0) > 60 }
    /^ *runbook:/ { runbook = 1 }
    function report() { if ((sev != "warning" && sev != "critical") || !summary || !runbook) print name " severity=" sev " summary=" summary " runbook=" runbook }
    END { if (name != "") report() }' "$RULES")
check "every rule has severity warning|critical, a summary and a runbook link" "" "$bad"
check "critical-only alerts have no warning rule (drift, Twilio auth, database)" "" \
    "$(grep -A6 -E 'alert: (NumberWalletLedgerDrift|NumberWalletTwilioAuthFailing|NumberWalletDatabaseDown)$' "$RULES" | grep 'severity: warning')"

# promtool test rules, one file per alert, all in one run (promtool starts slowly):
# it prints "Unit Testing:  FILE" and then SUCCESS or FAILED for each.
files=$(cd "$DIR/tests" && ls -- *.yml)
out=$(cd "$DIR/tests" && promtool test rules $files 2>&1)
rc=$?
for file in $files; do
    verdict=$(awk -v f="$file" '$0 ~ "^Unit Testing: +" f "$" { getline; print $1; exit }' <<<"$out")
    check "promtool test rules $file" "SUCCESS" "$verdict"
done
check "promtool test rules exits 0" "0" "$rc"
tests=$(wc -w <<<"$files")
[ "$tests" -ge 7 ] && ok "a test file per alert ($tests files)" || not_ok "a test file per alert" "found $tests"
for alert in "${ALERTS[@]}"; do
    # After "alertname: X" the next line is exp_alerts: either "[]" (silent) or a list (fires).
    silent=$(cat "$DIR"/tests/*.yml | grep -A1 -E "alertname: $alert\$" | grep -c 'exp_alerts: \[\]')
    fires=$(cat "$DIR"/tests/*.yml | grep -A1 -E "alertname: $alert\$" | grep -c 'exp_alerts:$')
    check "$alert has tests where it fires and where it stays silent" "yes" \
        "$([ "$silent" -ge 1 ] && [ "$fires" -ge 1 ] && echo yes || echo "no: $fires firing, $silent silent")"
done

# The tests can fail: thresholds moved to where they must not fire.
mkdir -p "$W/tests"
cp "$DIR"/tests/*.yml "$W/tests/"
sed -e 's/) > 0.2 <= 0.4/) >= 0.2 <= 0.4/' -e 's/\[24h\])) > 5 <= 20/[24h])) >= 5 <= 20/' "$RULES" >"$W/number_wallet.rules.yml"
check "the mutated copy differs in two places" "2" "$(diff "$RULES" "$W/number_wallet.rules.yml" | grep -c '^>')"
out=$(cd "$W/tests" && promtool test rules refund_rate.yml duplicate_conflicts.yml 2>&1)
check "promtool test rules exits 1 for rules firing at exactly the threshold" "1" "$?"
for file in refund_rate.yml duplicate_conflicts.yml; do
    verdict=$(awk -v f="$file" '$0 ~ "^Unit Testing: +" f "$" { getline; print $1; exit }' <<<"$out")
    check "the test of $file fails for a rule firing at exactly the threshold" "FAILED:" "$verdict"
done

# The example configurations.
out=$(amtool check-config "$DIR/alertmanager.example.yml" 2>&1)
check "amtool check-config accepts alertmanager.example.yml" "0 yes" "$? $(grep -q SUCCESS <<<"$out" && echo yes || echo "no: $out")"
route_of() { amtool config routes test --config.file="$DIR/alertmanager.example.yml" "$@" 2>/dev/null; }
check "critical alerts go to the pager" "number-wallet-pager" "$(route_of alertname=NumberWalletDatabaseDown severity=critical)"
check "warnings go to chat" "number-wallet-chat" "$(route_of alertname=NumberWalletInterventions severity=warning)"
# The Prometheus example, with its placeholder token file pointed at a real one.
echo "placeholder-token" >"$W/token"
mkdir -p "$W/config"
cp "$RULES" "$W/config/"
sed "s|/etc/prometheus/number-wallet-service-token|$W/token|" "$DIR/prometheus.example.yml" >"$W/config/prometheus.yml"
out=$(promtool check config "$W/config/prometheus.yml" 2>&1)
rc=$?
check "promtool check config accepts prometheus.example.yml (with its rules)" "0 yes" \
    "$rc $(grep -q 'SUCCESS: 11 rules found' <<<"$out" && echo yes || echo "no: ${out//$'\n'/ }")"

# Every series the rules read is one the shim exports (docs/operations.md lists them).
used=$(grep -v '^ *#' "$RULES" | grep -o 'nw_[a-z_]*' | sort -u | tr '\n' ' ')
check "the rules read only the shim's series" \
    "nw_database_up nw_interventions nw_ledger_amount_total nw_ledger_drift_rows nw_pending_overdue nw_purchase_conflicts_total nw_twilio_errors_total " \
    "$used"
finish
