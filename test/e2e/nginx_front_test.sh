#!/usr/bin/env bash
# nginx_front_test.sh: ops/nginx/number-wallet.conf, the shipped file with only
# its placeholders replaced (ports, certificate paths, log path), in front of
# the real shim (against the fake Twilio), in Debian's nginx run unprivileged
# with its own prefix in a temporary directory and a self-signed certificate.
#  * nginx -t accepts it; the rendered copy differs from the shipped file only
#    in the placeholder lines;
#  * TLS works; plain HTTP redirects; every request carries nginx's request id
#    to the shim, which logs it and answers it in X-Request-Id;
#  * a 1 MiB request line (414), a header flood (400), a 16 KiB header line
#    (400) and an oversized body (413) are refused by nginx, never reaching the
#    shim;
#  * 200 slowloris connections (headers never finished) are cut off after
#    client_header_timeout, and while they are open a normal buyer, from
#    another address, tops up and buys a number in time;
#  * a client over its request rate gets 429 while another client does not.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser) from the environment: creates database
# nw_ngx_$$ and role nw_ngx_shim_$$ and removes them on exit. Needs nginx,
# openssl, curl, jq, psql. Prints "ok - ..." / "not ok - ..." lines and a
# final "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM_BIN=${NW_SHIM_BIN:-$ROOT/build/number-wallet-shim}
FAKE_BIN=${NW_FAKE_TWILIO_BIN:-$ROOT/build/fake-twilio}
CONF=$ROOT/ops/nginx/number-wallet.conf
NGINX=${NW_NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=nw_ngx_$$
ROLE=nw_ngx_shim_$$
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_ngx.XXXXXX")
SECRET=ngx-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=ngx-admin-key-$$-abcdefghijklmnopqrstuvwxyz
TW_SID=AC00000000000000000000000000000000
TW_TOKEN=fake-auth-token
SHIM_PID=
FAKE_PID=
NGINX_PID=
SLOW_PIDS=()
STARTED=$(date +%s)
trap '' PIPE

cleanup() {
    local pid
    for pid in "${SLOW_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ] || [ -n "${NW_E2E_KEEP_LOGS:-}" ]; then
        echo "# logs kept in $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$NGINX" ] || { not_ok "nginx is installed (Debian package nginx)"; finish; }
require_suite_tools curl jq openssl psql timeout
create_suite_database
start_fake "$W/fake.log" || { not_ok "fake Twilio starts" "$(cat "$W/fake.log")"; finish; }
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET" ADMIN_API_KEY="$ADMIN_KEY"
    TWILIO_TESTING_MODE=false TWILIO_API_BASE="$FAKE" TWILIO_ACCOUNT_SID="$TW_SID" TWILIO_AUTH_TOKEN="$TW_TOKEN"
    TWILIO_TIMEOUT_MS=5000 RECONCILE_INTERVAL_SECONDS=3600 RECONCILE_PENDING_AFTER_SECONDS=60
)
start_shim "$W/shim.log" || { not_ok "shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
token() { (cd "$W" && env -i PATH="$PATH" TWILIO_TESTING_MODE=true SUPABASE_JWT_SECRET="$SECRET" "$SHIM_BIN" token "$@"); }

# ---- nginx with the shipped file ---------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost -keyout "$W/privkey.pem" \
    -out "$W/fullchain.pem" >/dev/null 2>&1 || { not_ok "make a self-signed certificate"; finish; }
mkdir -p "$W/tmp"
# As root, nginx's workers run as nobody: they need to enter $W and write their temp files.
chmod 711 "$W"
chmod 1777 "$W/tmp"

# render TLS_PORT HTTP_PORT: the shipped file with its placeholders replaced, and a main nginx.conf including it.
render() {
    sed -e "s|^\(\s*listen\) 443 ssl;|\1 127.0.0.1:$1 ssl;|" \
        -e "s|^\(\s*listen\) 80;|\1 127.0.0.1:$2;|" \
        -e "/^\s*#/!s|/etc/ssl/number-wallet/|$W/|" \
        -e "s|^\(\s*server\) 127.0.0.1:8080 |\1 127.0.0.1:$SHIM_PORT |" \
        -e "/^\s*#/!s|/var/log/nginx/number-wallet.access.log|$W/access.log|" \
        "$CONF" >"$W/number-wallet.conf"
    cat >"$W/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/error.log info;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/tmp/body;
    proxy_temp_path $W/tmp/proxy;
    fastcgi_temp_path $W/tmp/fastcgi;
    uwsgi_temp_path $W/tmp/uwsgi;
    scgi_temp_path $W/tmp/scgi;
    include $W/number-wallet.conf;
}
EOF
}
# Free ports below 32768: try a few random pairs (nginx says when one is taken).
for attempt in 1 2 3 4 5 6; do
    TLS_PORT=$((20000 + RANDOM % 12000))
    HTTP_PORT=$((20000 + RANDOM % 12000))
    [ "$TLS_PORT" != "$HTTP_PORT" ] || continue
    render "$TLS_PORT" "$HTTP_PORT"
    : >"$W/error.log"
    "$NGINX" -p "$W" -c "$W/nginx.conf" -g 'daemon off;' >>"$W/nginx.out" 2>&1 &
    NGINX_PID=$!
    for i in $(seq 1 50); do
        curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$TLS_PORT/api/health" && break
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$NGINX_PID" 2>/dev/null && break
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=
done
[ -n "$NGINX_PID" ] || { not_ok "nginx starts" "$(cat "$W/nginx.out" "$W/error.log")"; finish; }
ok "nginx serves the shipped configuration on 127.0.0.1:$TLS_PORT (TLS) and :$HTTP_PORT"

out=$("$NGINX" -t -p "$W" -c "$W/nginx.conf" 2>&1)
rc=$?
check "nginx -t accepts the configuration" "0 yes" "$rc $(grep -q 'test is successful' <<<"$out" && echo yes || echo "no: $out")"
# Only the placeholder lines differ: listen x2, certificate x2, upstream, access log.
check "the tested file is the shipped one with only its placeholders replaced" "6" \
    "$(diff "$CONF" "$W/number-wallet.conf" | grep -c '^>')"
for directive in client_max_body_size large_client_header_buffers client_header_timeout client_body_timeout \
                 keepalive_timeout limit_conn limit_req 'proxy_set_header X-Request-Id \$request_id' 'ssl_certificate '; do
    grep -qE "^\s*$directive" "$CONF" && ok "the shipped file sets $directive" || not_ok "the shipped file sets $directive"
done

BASE=https://127.0.0.1:$TLS_PORT
CURL=(curl -sk --max-time 30)
# A shim request log line count, to see that refused requests never reached it.
shim_requests() { grep -c '"msg":"request"' "$W/shim.log"; }

# ---- TLS, redirect, request id ----------------------------------------------------------------
status=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/health")
check "plain HTTP redirects (301)" "301" "$status"
"${CURL[@]}" -D "$W/h" -o "$W/b" "$BASE/api/health"
check "GET /api/health through TLS: the shim answers" "ok" "$(jq -r .status "$W/b" 2>/dev/null)"
RID=$(grep -i '^x-request-id:' "$W/h" | tail -n1 | cut -d: -f2 | tr -d ' \r')
check "the answer carries nginx's request id (32 hex digits)" "yes" \
    "$([[ $RID =~ ^[0-9a-f]{32}$ ]] && echo yes || echo "no: '$RID'")"
check "the shim logged the request under nginx's request id" "yes" \
    "$(grep '"msg":"request"' "$W/shim.log" | grep -q "\"requestId\":\"$RID\"" && echo yes || echo no)"
check "nginx's access log has the same id" "yes" "$(grep -q "rid=$RID" "$W/access.log" && echo yes || echo no)"
"${CURL[@]}" -o /dev/null -D "$W/h" -H 'X-Request-Id: client-chosen-id' "$BASE/api/health"
check "a client's own X-Request-Id is replaced by nginx's" "yes" \
    "$(grep -i '^x-request-id:' "$W/h" | grep -q client-chosen-id && echo no || echo yes)"

# ---- oversized requests -------------------------------------------------------------------------
# raw FILE: send FILE's bytes over TLS; prints the response's status line.
raw() { timeout 20 openssl s_client -quiet -connect "127.0.0.1:$TLS_PORT" <"$1" 2>/dev/null | head -n1 | tr -d '\r'; }
before=$(shim_requests)
{ printf 'GET /api/health?x='; head -c 1048576 /dev/zero | tr '\0' 'a'; printf ' HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'; } >"$W/long-line"
check "a 1 MiB request line is refused (414)" "HTTP/1.1 414 Request-URI Too Large" "$(raw "$W/long-line")"
{ printf 'GET /api/health HTTP/1.1\r\nHost: t\r\n'; for i in $(seq 1 5000); do printf 'X-Flood-%d: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n' "$i"; done; printf 'Connection: close\r\n\r\n'; } >"$W/flood"
check "a header flood (5000 headers, 220 KB) is refused (400)" "HTTP/1.1 400 Bad Request" "$(raw "$W/flood")"
{ printf 'GET /api/health HTTP/1.1\r\nHost: t\r\nX-Big: '; head -c 16384 /dev/zero | tr '\0' 'b'; printf '\r\nConnection: close\r\n\r\n'; } >"$W/big-header"
check "a 16 KiB header line is refused (400)" "HTTP/1.1 400 Bad Request" "$(raw "$W/big-header")"
head -c 1048576 /dev/zero | tr '\0' 'c' >"$W/big-body"
status=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN_KEY" \
    -H 'Content-Type: application/json' --data-binary @"$W/big-body" "$BASE/api/wallet/topup")
check "a 1 MiB body is refused (413)" "413" "$status"
check "none of the oversized requests reached the shim" "$before" "$(shim_requests)"

# ---- slowloris, and a buyer meanwhile -------------------------------------------------------------
# 200 clients send the start of a request and never end its headers
# (s_client keeps the connection after its input ends). They are forked first
# and held at a lock, then let go together, so that they are all open at once
# even on a busy machine. Each records how long its connection lasted (ms).
# Five more trickle a header line every 2 s for 150 s: nginx's
# client_header_timeout counts from the start of the request, so a trickle
# does not extend it.
printf 'GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow: ' >"$W/partial"
trickle() {
    printf 'GET /api/health HTTP/1.1\r\nHost: t\r\n'
    for i in $(seq 1 75); do sleep 2; printf 'X-Slow-%d: a\r\n' "$i" 2>/dev/null || exit 0; done
}
health_before=$(grep '"msg":"request"' "$W/shim.log" | grep -c '"path":"/api/health"')
timeouts_before=$(grep -c 'client timed out' "$W/error.log")
exec 9>"$W/gate"
flock -x 9
for i in $(seq 1 205); do
    (
        exec 9>&-
        flock -s "$W/gate" true
        start=$(date +%s%N)
        if [ "$i" -le 200 ]; then
            timeout 180 openssl s_client -quiet -connect "127.0.0.1:$TLS_PORT" <"$W/partial" >/dev/null 2>&1
            echo $((($(date +%s%N) - start) / 1000000)) >>"$W/slow-durations"
        else
            trickle | timeout 180 openssl s_client -quiet -connect "127.0.0.1:$TLS_PORT" >/dev/null 2>&1
            echo $((($(date +%s%N) - start) / 1000000)) >>"$W/trickle-durations"
        fi
    ) &
    SLOW_PIDS+=($!)
done
flock -u 9
exec 9>&-
# Connections nginx holds (ss is not on a minimal Debian: count the client
# processes), sampled while the buyer below works: the peak.
(
    peak=0
    for i in $(seq 1 40); do
        n=$(pgrep -c -f "^openssl s_client -quiet -connect 127.0.0.1:$TLS_PORT")
        [ "$n" -gt "$peak" ] && peak=$n && echo "$peak" >"$W/slow-peak"
        sleep 0.25
    done
) &
SAMPLER=$!
sleep 2

# The buyer, from another address (127.0.0.2), while they hang.
U=$(uuid)
T=$(token --sub "$U")
buy_started=$(date +%s%N)
status=$("${CURL[@]}" --interface 127.0.0.2 -o "$W/b" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_KEY" \
    -H 'Content-Type: application/json' --data-binary "{\"amount\":\"5.00\",\"currency\":\"USD\",\"userId\":\"$U\"}" \
    "$BASE/api/wallet/topup")
check "during the attack: a top-up goes through (201)" "201" "$status"
status=$("${CURL[@]}" --interface 127.0.0.2 -o "$W/b" -w '%{http_code}' -H "Authorization: Bearer $T" \
    "$BASE/api/numbers/available?country=US&limit=1")
PHONE=$(jq -r '.numbers[0].phoneNumber // empty' "$W/b" 2>/dev/null)
check "during the attack: a search answers a number (200)" "200 yes" "$status $([ -n "$PHONE" ] && echo yes || echo no)"
status=$("${CURL[@]}" --interface 127.0.0.2 -o "$W/b" -w '%{http_code}' -H "Authorization: Bearer $T" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: ngx-$$" \
    --data-binary "{\"phoneNumber\":\"$PHONE\"}" "$BASE/api/numbers/purchase")
buy_ms=$((($(date +%s%N) - buy_started) / 1000000))
check "during the attack: the purchase completes (201 active)" "201 active" "$status $(jq -r .number.status "$W/b" 2>/dev/null)"
check "during the attack: top-up, search and purchase take under 10 s" "yes" \
    "$([ "$buy_ms" -lt 10000 ] && echo yes || echo "no: $buy_ms ms")"

wait "$SAMPLER"
peak=$(cat "$W/slow-peak" 2>/dev/null || echo 0)
check "the slowloris connections were open together (peak $peak of 205; at least 100 on a busy machine)" "yes" \
    "$([ "$peak" -ge 100 ] && echo yes || echo "no: $peak")"
# nginx cuts each off after client_header_timeout (10 s).
for pid in "${SLOW_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
SLOW_PIDS=()
durations=$(sort -n "$W/slow-durations" 2>/dev/null)
check "all 200 slow connections ended" "200" "$(grep -c . <<<"$durations")"
# 10 s, and on a busy machine many seconds more to be noticed; never the
# clients' own 180 s, nor the trickle's 150 s.
range() { awk 'NR == 1 { min = $1 } { max = $1 } END { print (NR > 0 && min >= 9000 && max <= 90000) ? "yes" : "no: " min " to " max " ms" }'; }
check "each was cut off by nginx (after 10 s to 90 s, not the clients' 180 s)" "yes" "$(range <<<"$durations")"
check "the trickling ones too (5), long before their 150 s of header lines" "5 yes" \
    "$(grep -c . "$W/trickle-durations") $(sort -n "$W/trickle-durations" | range)"
check "nginx logged each as a client header timeout" "yes" \
    "$([ $(($(grep -c 'client timed out' "$W/error.log") - timeouts_before)) -ge 205 ] && echo yes || echo no)"
check "the shim never saw them" "0" \
    "$(grep '"msg":"request"' "$W/shim.log" | grep -c '"path":"/api/health"' | awk -v b="$health_before" '{ print $1 - b }')"

# ---- per-client request rate ---------------------------------------------------------------------
urls=()
for i in $(seq 1 60); do urls+=(-o /dev/null "$BASE/api/health"); done
codes=$(curl -sk --max-time 30 -Z --parallel-max 60 -w '%{http_code}\n' "${urls[@]}" 2>/dev/null)
check "60 requests at once from one client: some are 429" "yes" \
    "$([ "$(grep -c '^429$' <<<"$codes")" -ge 10 ] && echo yes || echo "no: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')")"
status=$("${CURL[@]}" --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$BASE/api/health")
check "meanwhile another client is served (200)" "200" "$status"

finish
