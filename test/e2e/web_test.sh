#!/usr/bin/env bash
# web_test.sh: the two web pages (docs/web.md) end to end: what the shim serves
# (types, caching, security headers, /api/config, /api/demo/session,
# /api/numbers/{id}/refund-quote) checked with curl, then both pages driven in
# Debian's chromium through chromedriver (python3-selenium; test/e2e/web/browser.py),
# with axe-core injected (npm package fetched at test time into build/web-test/,
# never committed). Screenshots go to build/test-logs/web/.
#
# Uses PGHOST/PGPORT/PGUSER (a superuser). Creates database nw_web_$$ and role
# nw_web_shim_$$, starts the shim in Twilio testing mode with ALLOW_SELF_TOPUP=true
# (and briefly a second one in live mode against the fake Twilio), removes all
# of it on exit. Last line: "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM_BIN=${NW_SHIM_BIN:-$ROOT/build/number-wallet-shim}
FAKE_BIN=${NW_FAKE_TWILIO_BIN:-$ROOT/build/fake-twilio}
# shellcheck source=lib/common.sh
source "$ROOT/test/e2e/lib/common.sh"

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=nw_web_$$
ROLE=nw_web_shim_$$
W=$(mktemp -d "${TMPDIR:-/tmp}/nw_web.XXXXXX")
SECRET=web-jwt-secret-$$-0123456789abcdefghijklmnopqrstuvwxyz
ADMIN_KEY=web-admin-key-$$-abcdefghijklmnopqrstuvwxyz
SHOTS=$ROOT/build/test-logs/web
AXE_VERSION=4.10.3
AXE_DIR=$ROOT/build/web-test/axe-core-$AXE_VERSION
PY=/usr/bin/python3  # Debian's, which has python3-selenium (not a pyenv or venv one)
SHIM_PID=
FAKE_PID=
LIVE_PID=
AUTH_PID=
LIVE=
STARTED=$(date +%s)

cleanup() {
    [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    [ -n "$LIVE_PID" ] && kill "$LIVE_PID" 2>/dev/null && wait "$LIVE_PID" 2>/dev/null
    [ -n "$AUTH_PID" ] && kill "$AUTH_PID" 2>/dev/null && wait "$AUTH_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    qpg "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    qpg "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
    if [ "$failed" -gt 0 ]; then echo "# logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the browser and its driver ---------------------------------------------------
require_suite_tools curl jq psql
for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null || { not_ok "$tool is installed (Debian package ${tool/chromedriver/chromium-driver})"; finish; }
done
"$PY" -c 'import selenium' 2>/dev/null || { not_ok "python3-selenium is installed (for $PY)"; finish; }
# Debian builds chromium and chromium-driver from one source: the same version,
# or the driver refuses the browser. Say so plainly when an upgrade split them.
BROWSER_VERSION=$(chromium --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
DRIVER_VERSION=$(chromedriver --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
if [ -n "$BROWSER_VERSION" ] && [ "$BROWSER_VERSION" = "$DRIVER_VERSION" ]; then
    ok "chromium and chromedriver are the same build ($BROWSER_VERSION)"
else
    not_ok "chromium and chromedriver are the same build" "chromium: ${BROWSER_VERSION:-unknown}, chromedriver: ${DRIVER_VERSION:-unknown}" \
        "upgrade both together: apt-get install chromium chromium-driver"
    finish
fi

# axe-core: the npm package, fetched once into build/ (npm checks its integrity).
AXE_JS=$AXE_DIR/package/axe.min.js
if [ ! -s "$AXE_JS" ]; then
    mkdir -p "$AXE_DIR"
    if command -v npm >/dev/null &&
        (cd "$AXE_DIR" && npm pack --silent "axe-core@$AXE_VERSION" >"$W/npm.log" 2>&1 && tar -xzf "axe-core-$AXE_VERSION.tgz"); then
        :
    else
        echo "# npm pack axe-core@$AXE_VERSION failed: $(tail -n 3 "$W/npm.log" 2>/dev/null)"
    fi
fi
check_true "axe-core $AXE_VERSION is available (npm pack, into build/web-test/)" test -s "$AXE_JS"

# ---- the shim, testing mode -------------------------------------------------------
create_suite_database
ok "database $DB with the extension and role $ROLE"
SHIM_ENV=(
    PATH="$PATH" HOME="${HOME:-/tmp}"
    DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB"
    SUPABASE_JWT_SECRET="$SECRET"
    ADMIN_API_KEY="$ADMIN_KEY"
    TWILIO_TESTING_MODE=true
    ALLOW_SELF_TOPUP=true
    SUPABASE_ANON_KEY=public-anon-key-for-tests
    RECONCILE_INTERVAL_SECONDS=3600
)
start_shim "$W/shim.log" || { not_ok "the shim starts" "$(tail -n 20 "$W/shim.log")"; finish; }
ok "the shim serves in testing mode at $BASE"

# ---- what the shim serves -----------------------------------------------------------
page_headers() { # NAME PATH
    local name=$1 path=$2 csp
    api GET "$path" ""
    csp=$(hdr Content-Security-Policy)
    check "$name: 200" 200 "$STATUS"
    check "$name: Content-Type text/html; charset=utf-8" "text/html; charset=utf-8" "$(hdr Content-Type)"
    check_true "$name: CSP default-src 'self' and frame-ancestors 'none', no unsafe-inline" \
        bash -c "[[ \"\$1\" == *\"default-src 'self'\"* && \"\$1\" == *\"frame-ancestors 'none'\"* && \"\$1\" != *unsafe-inline* ]]" _ "$csp"
    check "$name: X-Content-Type-Options nosniff" nosniff "$(hdr X-Content-Type-Options)"
    check "$name: Referrer-Policy no-referrer" no-referrer "$(hdr Referrer-Policy)"
    check "$name: no inline script (every <script> has a src)" 0 \
        "$(grep -oiE '<script[^>]*>' "$W/body" | grep -vciE 'src=')"
}
page_headers "GET /" /
page_headers "GET /admin" /admin

# Assets: named with their content version (immutable), else revalidated by ETag.
JS=$(grep -oE '/assets/common\.js\?v=[0-9a-f]{16}' "$W/body" | head -n1)
check_true "the page names its assets with a content version (/assets/common.js?v=…)" test -n "$JS"
api GET "$JS" ""
check "a versioned asset: 200, text/javascript" "200 text/javascript; charset=utf-8" "$STATUS $(hdr Content-Type)"
check "a versioned asset: Cache-Control immutable" "public, max-age=31536000, immutable" "$(hdr Cache-Control)"
ETAG=$(hdr ETag)
api GET /assets/common.js "" -H "If-None-Match: $ETAG"
check "an asset with a matching If-None-Match: 304" 304 "$STATUS"
api GET /assets/app.css ""
check "app.css: text/css, revalidated (no-cache) without its version" "200 text/css; charset=utf-8 no-cache" \
    "$STATUS $(hdr Content-Type) $(hdr Cache-Control)"
api GET /assets/nope.js ""
check "an unknown asset: 404" 404 "$STATUS"
api GET "/assets/..%2Fadmin.html" ""
check "no path out of the assets folder: 404" 404 "$STATUS"

# /api/config: exactly the public settings.
api GET /api/config ""
expect "GET /api/config (no token): exactly twilio, countries, monthlyCost, currency, supabaseUrl, supabaseAnonKey, renewalGraceDays" 200 \
    '(keys == (["countries","currency","monthlyCost","renewalGraceDays","supabaseAnonKey","supabaseUrl","twilio"])) and .twilio == "testing" and .countries == ["US","CA"] and .monthlyCost == "1.15" and .currency == "USD" and .supabaseAnonKey == "public-anon-key-for-tests" and .supabaseUrl == null and .renewalGraceDays == 7'
q "ALTER DATABASE \"$DB\" SET number_wallet.renewal_grace_days = 9" >/dev/null
restart_ok=no
kill "$SHIM_PID" && wait "$SHIM_PID" 2>/dev/null
start_shim "$W/shim.log" && restart_ok=yes
check "the shim restarts (new database setting)" yes "$restart_ok"
api GET /api/config ""
expect "GET /api/config: renewalGraceDays follows number_wallet.renewal_grace_days (9)" 200 '.renewalGraceDays == 9'

# /api/demo/session: a demo user's token (testing mode), usable at once.
api POST /api/demo/session "" - -H 'Content-Length: 0'
expect "POST /api/demo/session with an empty body and no Content-Type: 200 with an access_token for a new user" 200 \
    '(.access_token | type) == "string" and .token_type == "bearer" and (.user.id | test("^[0-9a-f-]{36}$")) and .selfTopup == true'
DEMO=$(jb .access_token); DEMO_USER=$(jb .user.id)
api GET /api/wallet "$DEMO"
expect "the demo token works: GET /api/wallet 200 0.00" 200 '.wallet.balanceUsd == "0.00"'
api POST /api/demo/session "" '{}'
expect "POST /api/demo/session with {}: another user" 200 ".user.id != \"$DEMO_USER\""
OTHER=$(jb .access_token)

# /api/numbers/{id}/refund-quote
api POST /api/wallet/topup "$ADMIN_KEY" "{\"amount\":\"5.00\",\"userId\":\"$DEMO_USER\"}"
api GET "/api/numbers/available?country=US&areaCode=212&limit=1" "$DEMO"
PHONE=$(jb '.numbers[0].phoneNumber')
api POST /api/numbers/purchase "$DEMO" "{\"phoneNumber\":\"$PHONE\"}"
expect "a demo user buys $PHONE" 201
NID=$(jb .number.id)
api GET "/api/numbers/$NID/refund-quote" "$DEMO"
expect "GET /api/numbers/{id}/refund-quote: eligible, the full price, inside the window" 200 \
    '.refund.eligible == true and .refund.amount == "1.15" and .refund.currency == "USD" and .refund.reason == "within_window" and .refund.windowDays == 30'
api GET "/api/numbers/$NID/refund-quote" "$OTHER"
expect "refund-quote of another user's number: 404" 404 '.code == "NOT_FOUND"'
api GET "/api/numbers/not-a-uuid/refund-quote" "$DEMO"
expect "refund-quote with a malformed id: 404" 404 '.code == "NOT_FOUND"'
api GET "/api/numbers/$NID/refund-quote" ""
expect "refund-quote without a token: 401" 401 '.code == "UNAUTHORIZED"'
api GET "/api/numbers/$NID/refund-quote" "$ADMIN_KEY"
expect "refund-quote with the service role: 403" 403 '.code == "FORBIDDEN"'
api DELETE "/api/numbers/$NID/release" "$DEMO"
api GET "/api/numbers/$NID/refund-quote" "$DEMO"
expect "refund-quote of a released number: not eligible, 0.00" 200 '.refund.eligible == false and .refund.amount == "0.00" and .refund.reason == "not_active"'

# ---- live mode: no demo sign-in -----------------------------------------------------
# A fake of Supabase Auth's token endpoint for the page's password sign-in.
AUTH=
"$PY" "$ROOT/test/e2e/web/fake_auth.py" --secret "$SECRET" --anon-key live-anon-key --email buyer@example.test \
    --password right-password >"$W/auth.log" 2>&1 &
AUTH_PID=$!
for _ in $(seq 1 50); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$W/auth.log")
    [ -n "$port" ] && AUTH=http://127.0.0.1:$port && break
    sleep 0.1
done
check_true "the fake Supabase Auth starts" test -n "$AUTH"
if start_fake "$W/fake.log"; then
    LIVE_LOG=$W/live.log
    (cd "$W" && exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" DATABASE_URL="postgresql://$ROLE@127.0.0.1:$PGPORT/$DB" \
        SUPABASE_JWT_SECRET="$SECRET" TWILIO_TESTING_MODE=false TWILIO_API_BASE="$FAKE" \
        TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 TWILIO_AUTH_TOKEN=fake-auth-token \
        SUPABASE_URL="$AUTH" SUPABASE_ANON_KEY=live-anon-key RECONCILE_INTERVAL_SECONDS=3600 PORT=0 \
        "$SHIM_BIN" serve) >"$LIVE_LOG" 2>&1 &
    LIVE_PID=$!
    LIVE=
    for _ in $(seq 1 100); do
        port=$(grep '"msg":"listening"' "$LIVE_LOG" 2>/dev/null | jq -r '.port // empty' 2>/dev/null | tail -n1)
        [ -n "$port" ] && LIVE=http://127.0.0.1:$port && curl -s -o /dev/null --max-time 1 "$LIVE/api/health" && break
        sleep 0.1
    done
    SAVED=$BASE; BASE=$LIVE
    api POST /api/demo/session "" '{}'
    expect "live mode: POST /api/demo/session is 404" 404 '.code == "NOT_FOUND"'
    api GET /api/config ""
    expect "live mode: /api/config says live and names SUPABASE_URL and SUPABASE_ANON_KEY" 200 ".twilio == \"live\" and .supabaseUrl == \"$AUTH\" and .supabaseAnonKey == \"live-anon-key\""
    api GET / ""
    check_true "live mode: connect-src adds SUPABASE_URL (the password sign-in)" \
        grep -q "connect-src 'self' $AUTH;" <<<"$(hdr Content-Security-Policy)"
    BASE=$SAVED
else
    not_ok "the fake Twilio starts (for the live-mode checks)" "$(cat "$W/fake.log")"
fi

# ---- both pages in chromium -----------------------------------------------------------
mkdir -p "$SHOTS"
"$PY" "$ROOT/test/e2e/web/browser.py" --base "$BASE" --admin-key "$ADMIN_KEY" --db "$DB" --shots "$SHOTS" \
    --axe "$AXE_JS" --live-base "$LIVE" --auth "$AUTH" >"$W/browser.log" 2>&1
browser_rc=$?
cat "$W/browser.log"
b_ok=$(grep -c '^ok - ' "$W/browser.log")
b_bad=$(grep -c '^not ok - ' "$W/browser.log")
passed=$((passed + b_ok))
failed=$((failed + b_bad))
if [ "$browser_rc" -ne 0 ] && [ "$b_bad" -eq 0 ]; then not_ok "the browser run ended cleanly (exit $browser_rc)"; fi
check_true "the browser run checked something" test "$b_ok" -gt 20
finish
