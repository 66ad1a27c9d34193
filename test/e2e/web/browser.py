#!/usr/bin/python3
"""Drives the buyer page (/) and the operator page (/admin) in Debian's
chromium through chromedriver (python3-selenium), as a person would.

Run by test/e2e/web_test.sh, which starts the shim in testing mode and passes
its address, an ADMIN_API_KEY, the database name and where axe.min.js and the
screenshots are. Prints "ok - ..." / "not ok - ..." / "# ..." lines; the
shell script counts them.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, UnexpectedAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ARGS = None
FAILED = 0
XSS = "<img src=x onerror=alert(1)>"


def ok(name):
    print(f"ok - {name}", flush=True)


def not_ok(name, *details):
    global FAILED
    FAILED += 1
    print(f"not ok - {name}", flush=True)
    for d in details:
        print(f"#   {str(d)[:600]}", flush=True)


def check(name, cond, *details):
    if cond:
        ok(name)
    else:
        not_ok(name, *details)
    return cond


# ---- HTTP and SQL helpers (the test's own set-up, not the page's) -----------------
def http(method, path, token=None, body=None, headers=None):
    data = None
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(ARGS.base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"{}")
        except ValueError:
            return e.code, {}


def sql(query):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", ARGS.db, "-c", query],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else "ERROR: " + out.stderr.strip()


def topup(user_id, amount):
    return http("POST", "/api/wallet/topup", ARGS.admin_key, {"amount": amount, "currency": "USD", "userId": user_id},
                {"Idempotency-Key": f"web-test-{uuid.uuid4()}"})


def jwt_sub(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"]


# ---- the browser --------------------------------------------------------------------
# Recorded in every document before its own scripts: uncaught errors, rejected
# promises, CSP violations and alert() calls (the HTML-in-a-name check).
PROBE = """
window.__nw = {errors: [], csp: [], alerts: []};
window.addEventListener('error', (e) => window.__nw.errors.push(String(e.message || e.type)));
window.addEventListener('unhandledrejection', (e) => window.__nw.errors.push('unhandled rejection: ' + String(e.reason)));
document.addEventListener('securitypolicyviolation', (e) => window.__nw.csp.push(e.violatedDirective + ' ' + e.blockedURI));
window.alert = (m) => window.__nw.alerts.push(String(m));
"""


def start_browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = ARGS.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
              "--no-first-run", "--disable-extensions", "--disable-background-networking", "--lang=en-US"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(ARGS.chromedriver), options=opts)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    return driver


def wait(driver, cond, timeout=20):
    return WebDriverWait(driver, timeout).until(cond)


def button(driver, name_start):
    """The visible button whose accessible name (its text) starts with name_start."""
    for b in driver.find_elements(By.TAG_NAME, "button"):
        if b.is_displayed() and b.text.strip().startswith(name_start):
            return b
    return None


def wait_button(driver, name_start, timeout=20):
    return wait(driver, lambda d: button(d, name_start), timeout)


def region_text(driver, role):
    return driver.find_element(By.CSS_SELECTOR, f'[role="{role}"]').text


def wait_region(driver, role, needle, timeout=30):
    try:
        return wait(driver, lambda d: needle in region_text(d, role) and region_text(d, role), timeout)
    except TimeoutException:
        return None


def section(driver, heading):
    return driver.find_element(By.XPATH, f'//section[.//h2[normalize-space()="{heading}"]]')


def field(driver, label):
    lab = driver.find_element(By.XPATH, f'//label[normalize-space()="{label}"]')
    return driver.find_element(By.ID, lab.get_attribute("for"))


def probe(driver):
    return driver.execute_script("return window.__nw || {errors: [], csp: [], alerts: []};")


def console_errors(driver):
    """SEVERE console entries other than the expected 4xx answers of the API and of
    Supabase Auth (a 402 for an insufficient balance, a 400 for a wrong password:
    the page working; chromium logs every 4xx fetch)."""
    bad = []
    for e in driver.get_log("browser"):
        if e.get("level") != "SEVERE":
            continue
        msg = e.get("message", "")
        if ("/api/" in msg or "/auth/v1/token" in msg) and "the server responded with a status of 4" in msg:
            continue
        bad.append(msg)
    return bad


def check_clean(driver, page):
    p = probe(driver)
    errs = console_errors(driver)
    check(f"{page}: no uncaught script error", not p["errors"], p["errors"])
    check(f"{page}: no CSP violation", not p["csp"], p["csp"])
    check(f"{page}: no console error", not errs, errs)
    check(f"{page}: nothing called alert()", not p["alerts"], p["alerts"])


def axe(driver, page):
    if not ARGS.axe:
        not_ok(f"{page}: axe-core available", "axe.min.js was not fetched")
        return
    with open(ARGS.axe, encoding="utf-8") as f:
        driver.execute_script(f.read())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations.map((v) => "
        "({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3)}))))"
        ".catch((e) => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    check(f"{page}: axe-core finds no serious or critical violation", not serious, json.dumps(serious))
    minor = [v["id"] for v in result if v["impact"] not in ("serious", "critical")]
    if minor:
        print(f"# {page}: axe-core minor/moderate: {', '.join(minor)}")


def narrow(driver, page, shot):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
    time.sleep(0.3)
    sizes = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth];")
    check(f"{page}: no horizontal scrolling at 375 px", sizes[0] <= sizes[1] and sizes[1] <= 375, sizes)
    screenshot(driver, shot, full=True)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    time.sleep(0.2)


def screenshot(driver, name, full=False):
    path = os.path.join(ARGS.shots, name)
    try:
        if full:
            height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 6000);")
            width = driver.execute_script("return window.innerWidth;")
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "captureBeyondViewport": True, "format": "png",
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
            with open(path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        else:
            driver.save_screenshot(path)
        print(f"# screenshot {path}")
    except Exception as e:  # a screenshot is evidence, not a check
        print(f"# screenshot {name} failed: {e}")


def tab_to(driver, target, limit=40):
    """Presses Tab until `target` has the focus; True when it got there."""
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(limit):
        if driver.switch_to.active_element == target:
            return True
        body = driver.switch_to.active_element
        body.send_keys(Keys.TAB)
    return driver.switch_to.active_element == target


def wallet_usd(driver):
    return driver.find_element(By.ID, "balance-usd").text


def wait_balance(driver, want, timeout=20):
    try:
        wait(driver, lambda d: wallet_usd(d) == want, timeout)
        return True
    except TimeoutException:
        return False


# ---- the buyer page -------------------------------------------------------------------
def buyer(driver):
    driver.get(ARGS.base + "/")
    demo = wait_button(driver, "Sign in as demo user")
    check("buyer: the sign-in offers \"Sign in as demo user\" (testing mode)", demo is not None)
    # Keyboard only: Tab to the button, Enter.
    check("buyer: keyboard: Tab reaches \"Sign in as demo user\"", tab_to(driver, demo))
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    try:
        wait(driver, lambda d: d.find_element(By.XPATH, '//h2[normalize-space()="Wallet"]').is_displayed())
        ok("buyer: Enter on the demo button signs in; headings Wallet, My numbers, Transactions shown")
    except TimeoutException:
        not_ok("buyer: demo sign-in shows the Wallet", region_text(driver, "alert"))
        return
    for h in ("My numbers", "Transactions"):
        check(f"buyer: a section with heading {h}", section(driver, h).is_displayed())
    token = driver.execute_script("return JSON.parse(sessionStorage.getItem('nw.buyer.session')).access_token;")
    user = jwt_sub(token)
    check("buyer: the token is in sessionStorage, not in localStorage",
          token not in json.dumps(driver.execute_script("return Object.assign({}, localStorage);")))
    check("buyer: a new demo user starts at 0.00", wait_balance(driver, "0.00"), wallet_usd(driver))

    # Search, then try to buy with an empty wallet: insufficient balance.
    field(driver, "Area code").send_keys("415")
    button(driver, "Search").click()
    first = wait_button(driver, "Buy ")
    results = section(driver, "Find a number").find_elements(By.CSS_SELECTOR, "#results li")
    check("buyer: search with area code 415 lists numbers with E.164 and the monthly price",
          results and results[0].text.startswith("+1415") and "1.15 USD / month" in results[0].text,
          [r.text for r in results[:2]])
    numbers = [r.find_element(By.CLASS_NAME, "phone").text for r in results]
    first.click()
    dialog = driver.find_element(By.ID, "buy-dialog")
    check("buyer: Buy opens a dialog with the number and the price",
          dialog.is_displayed() and numbers[0] in dialog.text and "1.15 USD" in dialog.text, dialog.text)
    button(driver, "Confirm purchase").click()
    msg = wait_region(driver, "alert", "insufficient balance")
    check("buyer: insufficient funds: role=alert shows the API's error", msg, region_text(driver, "alert"))

    # Add funds (ALLOW_SELF_TOPUP=true, testing mode), then top-ups by the service token.
    field(driver, "Amount").send_keys("5.00")
    button(driver, "Add funds").click()
    check("buyer: Add funds: role=status names the amount and the balance",
          wait_region(driver, "status", "Added 5.00 USD. Balance: 5.00 USD."), region_text(driver, "status"))
    check("buyer: the Wallet shows 5.00", wait_balance(driver, "5.00"), wallet_usd(driver))
    for _ in range(10):
        topup(user, "1.00")
    status, _ = topup(user, "0.85")
    check("service token top-ups: 201", status == 201, status)
    driver.refresh()
    check("buyer: after a reload (token kept in sessionStorage) the Wallet shows 15.85", wait_balance(driver, "15.85"),
          wallet_usd(driver))

    # Number already held: another user buys the second result first.
    field(driver, "Area code").send_keys("415")
    button(driver, "Search").click()
    wait_button(driver, "Buy ")
    s, other = http("POST", "/api/demo/session", body={})
    topup(other["user"]["id"], "5.00")
    taken = [r.find_element(By.CLASS_NAME, "phone").text
             for r in driver.find_elements(By.CSS_SELECTOR, "#results li")][1]
    s, _ = http("POST", "/api/numbers/purchase", other["access_token"], {"phoneNumber": taken},
                {"Idempotency-Key": "other-user-1"})
    check("another user bought the number first (201)", s == 201, s)
    button(driver, f"Buy {taken}").click()
    button(driver, "Confirm purchase").click()
    check("buyer: a number already held: role=alert shows the API's error",
          wait_region(driver, "alert", "already held"), region_text(driver, "alert"))

    # Buy with a display name holding HTML; the dialog's Escape and Cancel first.
    to_buy = [r.find_element(By.CLASS_NAME, "phone").text
              for r in driver.find_elements(By.CSS_SELECTOR, "#results li")][0]
    opener = button(driver, f"Buy {to_buy}")
    opener.click()
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    time.sleep(0.2)
    check("buyer: Escape closes the Buy dialog and focus returns to its Buy button",
          not driver.find_element(By.ID, "buy-dialog").is_displayed() and driver.switch_to.active_element == opener)
    opener.click()
    field(driver, "Display name (optional)").send_keys(XSS)
    screenshot(driver, "buyer-buy-dialog.png")
    confirm = button(driver, "Confirm purchase")
    driver.execute_script("arguments[0].click(); arguments[0].click();", confirm)  # a double click
    check("buyer: the purchase is announced in role=status naming the number",
          wait_region(driver, "status", f"Bought {to_buy}"), region_text(driver, "status"))
    check("buyer: a double click bought once (one row, one debit)",
          sql(f"SELECT count(*) FROM number_wallet.business_numbers WHERE user_id = '{user}'") == "1")
    check("buyer: the Wallet shows 15.85 - 1.15 = 14.70", wait_balance(driver, "14.70"), wallet_usd(driver))
    mine = section(driver, "My numbers").find_elements(By.CSS_SELECTOR, "#numbers li")
    card = mine[0].text if mine else ""
    check("buyer: My numbers shows the number, its display name as text, active, paid until",
          to_buy in card and XSS in card and "active" in card and "Paid until 20" in card, card)
    check("buyer: the display name made no element (no <img> in My numbers)",
          not driver.find_elements(By.CSS_SELECTOR, "#numbers img"))
    screenshot(driver, "buyer.png", full=True)
    narrow(driver, "buyer", "buyer-375.png")
    axe(driver, "buyer (signed in, with a number)")

    # Release: the refund before (dialog) and after (status), and the new balance.
    button(driver, f"Release {to_buy}").click()
    dialog = driver.find_element(By.ID, "release-dialog")
    try:
        wait(driver, lambda d: "Refund: 1.15 USD" in dialog.text)
        ok("buyer: the Release dialog shows the refund before confirming (1.15 USD)")
    except TimeoutException:
        not_ok("buyer: the Release dialog shows the refund", dialog.text)
    axe(driver, "buyer (release dialog open)")
    button(driver, "Confirm release").click()
    check("buyer: after the release role=status names the refunded amount",
          wait_region(driver, "status", f"Released {to_buy}. Refunded 1.15 USD."), region_text(driver, "status"))
    check("buyer: the Wallet shows 15.85 again", wait_balance(driver, "15.85"), wallet_usd(driver))
    check("buyer: My numbers no longer lists it",
          wait(driver, lambda d: not d.find_elements(By.XPATH, f'//ul[@id="numbers"]/li[contains(., "{to_buy}")]')))

    # The ledger: 14 entries (topup 5.00, 11 service top-ups, purchase, refund), 10 a page.
    rows = driver.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")
    check("buyer: Transactions shows the first page (10 rows), newest first (the refund)",
          len(rows) == 10 and "refund" in rows[0].text and "1.15 USD" in rows[0].text, [r.text for r in rows[:2]])
    button(driver, "Load more").click()
    try:
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")) == 14)
        ok("buyer: Load more appends the older rows (14 in all)")
    except TimeoutException:
        not_ok("buyer: Load more", len(driver.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")))
    check("buyer: Load more is gone once next is null", not button(driver, "Load more"))
    last = driver.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")[-1].text
    check("buyer: the oldest row is the first top-up, its money as the API gave it (5.00 USD)",
          "5.00 USD" in last and "topup" in last, last)
    check_clean(driver, "buyer")

    # A 401 returns to sign-in; Sign out forgets the token.
    driver.execute_script("const s = JSON.parse(sessionStorage.getItem('nw.buyer.session'));"
                          "s.access_token = 'x.y.z'; sessionStorage.setItem('nw.buyer.session', JSON.stringify(s));")
    driver.refresh()
    check("buyer: a 401 from the API returns to sign-in", wait_button(driver, "Sign in as demo user") is not None)
    return user


def fragment(driver):
    s, session = http("POST", "/api/demo/session", body={})
    token = session["access_token"]
    driver.get(ARGS.base + "/#access_token=" + token + "&token_type=bearer&expires_in=3600")
    try:
        wait(driver, lambda d: d.find_element(By.XPATH, '//h2[normalize-space()="Wallet"]').is_displayed())
        ok("fragment: /#access_token=… signs in")
    except TimeoutException:
        not_ok("fragment: /#access_token=… signs in", region_text(driver, "alert"))
    check("fragment: the #access_token fragment is gone from the address bar",
          "#" not in driver.current_url and token not in driver.current_url, driver.current_url)
    local = json.dumps(driver.execute_script("return Object.assign({}, localStorage);"))
    check("fragment: the token is not in localStorage", token not in local, local[:200])
    check("fragment: no cookie holds it", token not in json.dumps(driver.get_cookies()))
    check("fragment: the page signed in as the token's user",
          session["user"]["id"] in driver.find_element(By.ID, "who-text").text)
    button(driver, "Sign out").click()
    check("buyer: Sign out forgets the token (sessionStorage emptied)",
          wait_button(driver, "Sign in as demo user") is not None and
          driver.execute_script("return sessionStorage.getItem('nw.buyer.session');") is None)
    check_clean(driver, "fragment sign-in")


# ---- live mode: email + password against Supabase Auth (a fake), and the refresh -------
def live(driver):
    if not ARGS.live_base or not ARGS.auth:
        not_ok("live mode: the live shim and the fake Supabase Auth are running")
        return
    driver.get(ARGS.live_base + "/")
    try:
        email = wait(driver, lambda d: field(d, "Email") if field(d, "Email").is_displayed() else None)
        ok("live mode: the buyer page offers Email and Password")
    except TimeoutException:
        not_ok("live mode: Email and Password shown", driver.find_element(By.ID, "signin").text)
        return
    check("live mode: no demo sign-in", not button(driver, "Sign in as demo user"))
    email.send_keys("buyer@example.test")
    field(driver, "Password").send_keys("wrong-password" + Keys.ENTER)
    check("live mode: a wrong password shows Supabase's error in role=alert",
          wait_region(driver, "alert", "Invalid login credentials"), region_text(driver, "alert"))
    field(driver, "Email").clear()
    field(driver, "Email").send_keys("buyer@example.test")
    field(driver, "Password").send_keys("right-password" + Keys.ENTER)
    try:
        wait(driver, lambda d: d.find_element(By.XPATH, '//h2[normalize-space()="Wallet"]').is_displayed())
        ok("live mode: email + password signs in (SUPABASE_URL/auth/v1/token?grant_type=password)")
    except TimeoutException:
        not_ok("live mode: password sign-in", region_text(driver, "alert"))
        return
    check("live mode: the page names the signed-in email",
          "buyer@example.test" in driver.find_element(By.ID, "who-text").text)
    check("live mode: no Add funds form (live Twilio)", not driver.find_element(By.ID, "topup-form").is_displayed())
    first = driver.execute_script("return JSON.parse(sessionStorage.getItem('nw.buyer.session')).access_token;")
    with urllib.request.urlopen(ARGS.auth + "/__count", timeout=10) as r:
        before = json.loads(r.read())["refresh_token"]
    try:
        wait(driver, lambda d: d.execute_script(
            "return JSON.parse(sessionStorage.getItem('nw.buyer.session')).access_token;") != first, 30)
        ok("live mode: the page renewed the access token before it expired (grant_type=refresh_token)")
    except TimeoutException:
        not_ok("live mode: the token was renewed")
    with urllib.request.urlopen(ARGS.auth + "/__count", timeout=10) as r:
        after = json.loads(r.read())["refresh_token"]
    check("live mode: the fake Supabase Auth gave a refresh grant", after > before, before, after)
    driver.refresh()
    try:
        wait(driver, lambda d: wallet_usd(d) == "0.00")
        ok("live mode: the renewed token works (the Wallet loads after a reload)")
    except TimeoutException:
        not_ok("live mode: the renewed token works", region_text(driver, "alert"))
    local = json.dumps(driver.execute_script("return Object.assign({}, localStorage);"))
    check("live mode: nothing in localStorage", local == "{}", local[:200])
    check_clean(driver, "live mode")


# ---- the operator page ---------------------------------------------------------------
def admin(driver, user):
    finding = sql("SELECT number_wallet.record_discrepancy('unknown_at_provider', '+14155559876', "
                  "'PN0123456789abcdef0123456789abcdef', NULL, 'web test')")
    driver.get(ARGS.base + "/admin")
    token_field = wait(driver, lambda d: field(d, "Access token"))
    token_field.send_keys(ARGS.admin_key + Keys.ENTER)
    try:
        wait(driver, lambda d: d.find_element(By.XPATH, '//h2[normalize-space()="Needs attention"]').is_displayed())
        ok("admin: the Access token field signs in; Needs attention shown")
    except TimeoutException:
        not_ok("admin: sign-in with the Access token field", region_text(driver, "alert"))
        return
    for h in ("Summary", "Audit log"):
        check(f"admin: a section with heading {h}", section(driver, h).is_displayed())
    attention = section(driver, "Needs attention").text
    check("admin: Needs attention lists the open finding with its reason",
          "+14155559876" in attention and "unknown_at_provider" in attention, attention[:300])
    try:
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar-purchase"))
        ok("admin: Summary draws an SVG chart of the daily purchases, refunds and renewals")
    except TimeoutException:
        not_ok("admin: the Summary chart", driver.find_element(By.ID, "chart").get_attribute("outerHTML")[:300])
    total = sql("SELECT coalesce(sum(balance_usd), 0)::text FROM number_wallet.wallets")
    check("admin: total balances shown exactly as the API gives them",
          driver.find_element(By.ID, "total-usd").text == total, driver.find_element(By.ID, "total-usd").text, total)
    rate = driver.find_element(By.ID, "success-rate").text
    check("admin: the purchase success rate is shown", rate.endswith("%"), rate)
    daily = driver.find_element(By.ID, "daily-rows").text
    check("admin: the Summary table has the day's purchases and refunds with their totals",
          "purchase (debit)" in daily and "refund (credit)" in daily and "USD" in daily, daily[:300])
    screenshot(driver, "admin.png", full=True)
    narrow(driver, "admin", "admin-375.png")
    axe(driver, "admin")

    # An action: Resolve the finding. Reason is required before it can be sent.
    button(driver, "Resolve finding").click()
    send = wait(driver, lambda d: d.find_element(By.ID, "action-send"))
    check("admin: the action dialog cannot be sent without a Reason", not send.is_enabled())
    field(driver, "Reason").send_keys("checked at Twilio: a test number")
    check("admin: with a Reason it can be sent", send.is_enabled())
    axe(driver, "admin (action dialog open)")
    send.click()
    audit_status, _ = http("GET", "/api/admin/audit?limit=5", ARGS.admin_key)
    if audit_status == 404:
        print("# skip - the operations routes are not in this build (GET /api/admin/audit answered 404): "
              "the actions' outcomes are not checked, only that the page says so")
        check("admin: a missing operations route shows a plain message",
              wait_region(driver, "alert", "Not available yet"), region_text(driver, "alert"))
        check("admin: the Audit log section says it is not available",
              "not available" in driver.find_element(By.ID, "audit-note").text)
    else:
        check("admin: Resolve answered and role=status says so",
              wait_region(driver, "status", "Done: Resolve finding"), region_text(driver, "alert"))
        check("admin: the finding is resolved in the database",
              sql(f"SELECT resolved_at IS NOT NULL FROM number_wallet.discrepancies WHERE id = {finding}") == "t")
        try:
            wait(driver, lambda d: "checked at Twilio: a test number" in d.find_element(By.ID, "audit-rows").text)
            ok("admin: the Audit log shows the action with its reason")
        except TimeoutException:
            not_ok("admin: the Audit log shows the action", driver.find_element(By.ID, "audit-rows").text[:300])
        # Adjust a wallet: signed amount, reason required.
        field(driver, "User id").send_keys(user)
        button(driver, "Adjust balance").click()
        field(driver, "Amount (signed, such as -5.00 or 10.00)").send_keys("-0.85")
        field(driver, "Reason").send_keys("goodwill correction")
        driver.find_element(By.ID, "action-send").click()
        check("admin: Adjust balance answered",
              wait_region(driver, "status", "Done: Adjust a wallet"), region_text(driver, "alert"))
        check("admin: the adjustment is in the ledger",
              sql(f"SELECT balance_usd::text FROM number_wallet.wallets WHERE user_id = '{user}'") == "15.00")
    check_clean(driver, "admin")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base", required=True, help="the shim's address, http://127.0.0.1:PORT")
    p.add_argument("--admin-key", required=True, help="the shim's ADMIN_API_KEY")
    p.add_argument("--db", required=True, help="the database (psql connects with PGHOST/PGPORT/PGUSER)")
    p.add_argument("--shots", required=True, help="directory for the screenshots")
    p.add_argument("--axe", default="", help="axe.min.js (axe-core)")
    p.add_argument("--live-base", default="", help="a second shim, in live mode, with SUPABASE_URL = --auth")
    p.add_argument("--auth", default="", help="the fake Supabase Auth (test/e2e/web/fake_auth.py)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ARGS = p.parse_args()
    os.makedirs(ARGS.shots, exist_ok=True)
    driver = start_browser()
    try:
        user = buyer(driver)
        fragment(driver)
        admin(driver, user)
        live(driver)
    except UnexpectedAlertPresentException as e:
        not_ok("no alert() ran", e)
    except Exception as e:  # a driver failure ends the run as one failed check
        not_ok(f"the browser run ended early: {type(e).__name__}", e)
        screenshot(driver, "failure.png")
    finally:
        driver.quit()
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
