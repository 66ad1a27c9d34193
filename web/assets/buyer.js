// The buyer page (/): wallet, search and buy, own numbers and release, the ledger.
'use strict';

(() => {
  const { $, el, say, warn, quiet } = NW;
  const session = new NW.Session('nw.buyer.session');
  const PAGE = 10; // ledger rows per page
  let config = null;
  let selfTopup = null; // from the demo sign-in; null = unknown
  let ledgerNext = null;
  let purchase = null; // the attempt the buy dialog holds: {number, key, busy}
  let releasing = null; // {number, busy}

  // ---- signing in and out ------------------------------------------------------
  function showSignIn(message) {
    session.clear();
    $('app').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    $('signin-loading').hidden = true;
    const testing = config && config.twilio === 'testing';
    const live = config && config.supabaseUrl && config.supabaseAnonKey;
    $('demo-signin-block').hidden = !testing;
    $('password-form').hidden = !live;
    $('signin-unavailable').hidden = Boolean(testing || live);
    if (message) warn(message);
  }

  function signedIn() {
    const c = NW.claims(session.token) || {};
    $('signin').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-text').textContent = c.email ? `Signed in as ${c.email}` : `Signed in (user ${c.sub || 'unknown'})`;
    $('topup-form').hidden = !(config.twilio === 'testing' && selfTopup !== false);
    NW.scheduleRefresh(session, (error) => showSignIn(`Your session ended: ${error} Sign in again.`));
    refreshAll();
  }

  // Every API call of the page: a 401 returns to sign-in.
  async function call(method, path, body, headers) {
    const r = await NW.api(method, path, { token: session.token, body, headers });
    if (r.status === 401) {
      showSignIn('Your session has ended; sign in again.');
      r.signedOut = true;
    }
    return r;
  }

  $('demo-signin').addEventListener('click', async () => {
    quiet();
    const r = await NW.api('POST', '/api/demo/session', { body: {} });
    if (!r.ok) return warn(NW.errorText(r, 'Demo sign-in is not available.'));
    selfTopup = r.body.selfTopup === true;
    session.set({ access_token: r.body.access_token, refresh_token: null, expires_at: r.body.expires_at || 0, selfTopup });
    say('Signed in as a new demo user.');
    signedIn();
  });

  $('password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    quiet();
    const r = await NW.supabaseToken('password', { email: $('email').value, password: $('password').value });
    $('password').value = '';
    if (!r.ok) return warn(r.error);
    session.set(r.session);
    say('Signed in.');
    signedIn();
  });

  $('sign-out').addEventListener('click', () => {
    showSignIn();
    say('Signed out.');
    $('demo-signin-block').hidden || $('demo-signin').focus();
  });

  // ---- wallet ------------------------------------------------------------------
  async function loadWallet() {
    const r = await call('GET', '/api/wallet');
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    $('balance-usd').textContent = r.body.wallet.balanceUsd;
    $('balance-inr').textContent = r.body.wallet.balanceInr;
  }

  $('topup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const amount = $('topup-amount').value.trim();
    const currency = $('topup-currency').value;
    const button = event.submitter || $('topup-form').querySelector('button');
    button.disabled = true;
    const r = await call('POST', '/api/wallet/topup', { amount, currency }, { 'Idempotency-Key': `topup-${NW.uuid()}` });
    button.disabled = false;
    if (r.signedOut) return;
    if (!r.ok) {
      if (r.status === 403) $('topup-form').hidden = true;
      return warn(NW.errorText(r));
    }
    $('topup-amount').value = '';
    const balance = currency === 'INR' ? r.body.wallet.balanceInr : r.body.wallet.balanceUsd;
    say(`Added ${amount} ${currency}. Balance: ${balance} ${currency}.`);
    await Promise.all([loadWallet(), loadLedger(true)]);
  });

  // ---- search and buy -------------------------------------------------------------
  $('search-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ country: $('country').value, limit: '10' });
    const area = $('area-code').value.trim();
    const contains = $('contains').value.trim();
    if (area) params.set('areaCode', area);
    if (contains) params.set('contains', contains);
    const button = event.submitter || $('search-form').querySelector('button');
    button.disabled = true;
    $('results-note').textContent = 'Searching…';
    const r = await call('GET', `/api/numbers/available?${params}`);
    button.disabled = false;
    $('results-note').textContent = '';
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    quiet();
    const list = $('results');
    list.replaceChildren();
    const numbers = Array.isArray(r.body.numbers) ? r.body.numbers : [];
    $('results-note').textContent = numbers.length ? `${numbers.length} numbers found.` : 'No numbers match; try other digits or another area code.';
    for (const n of numbers) {
      const place = [n.locality, n.region].filter(Boolean).join(', ');
      list.append(el('li', { className: 'card' },
        el('span', { className: 'phone', text: n.phoneNumber }),
        el('span', { className: 'meta', text: place }),
        el('span', { className: 'price', text: `${n.monthlyCost} ${n.currency} / month` }),
        el('button', { type: 'button', text: `Buy ${n.phoneNumber}`, onclick: (e) => openBuy(n, e.currentTarget) })));
    }
  });

  function openBuy(number, opener) {
    quiet();
    purchase = { number, key: `buy-${NW.uuid()}`, busy: false };
    $('buy-number').textContent = number.phoneNumber;
    $('buy-price').textContent = `${number.monthlyCost} ${number.currency}`;
    $('display-name').value = '';
    $('confirm-purchase').disabled = false;
    NW.openDialog($('buy-dialog'), opener, 'display-name');
  }

  $('cancel-purchase').addEventListener('click', () => NW.closeDialog($('buy-dialog')));
  $('buy-dialog').addEventListener('close', () => { if (purchase && !purchase.busy) purchase = null; });
  NW.restoreFocusOnClose($('buy-dialog'));

  $('buy-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!purchase || purchase.busy) return; // a double click buys once
    const attempt = purchase;
    attempt.busy = true;
    $('confirm-purchase').disabled = true;
    const body = { phoneNumber: attempt.number.phoneNumber, expectedMonthlyCost: attempt.number.monthlyCost };
    const name = $('display-name').value.trim();
    if (name) body.displayName = name;
    say(`Buying ${attempt.number.phoneNumber}…`);
    // One attempt, one Idempotency-Key: a retry of this attempt buys once.
    const r = await call('POST', '/api/numbers/purchase', body, { 'Idempotency-Key': attempt.key });
    attempt.busy = false;
    if (r.signedOut) return;
    if (r.status === 0) {
      $('confirm-purchase').disabled = false; // retry with the same key
      return warn(`${r.body.error} Confirm again to retry; you will be charged at most once.`);
    }
    purchase = null;
    NW.closeDialog($('buy-dialog'));
    if (r.status === 201) {
      say(`Bought ${r.body.number.phoneNumber}. It is active and paid until ${NW.day(r.body.number.paidUntil)}.`);
    } else if (r.status === 202) {
      say(`${r.body.number.phoneNumber} is pending: the provider has not confirmed yet. This page will tell you when it settles.`);
      poll(r.body.number.id, r.body.number.phoneNumber, 0);
    } else {
      warn(NW.errorText(r));
    }
    await refreshAll();
  });

  // A 202: ask GET /api/numbers/{id} until the purchase settles.
  async function poll(id, phone, tries) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000 + tries * 1000, 10000)));
    if (!session.token) return;
    const r = await call('GET', `/api/numbers/${encodeURIComponent(id)}`);
    if (r.signedOut) return;
    const status = r.ok && r.body.number ? r.body.number.status : null;
    if (status === 'pending' || !r.ok) {
      if (tries < 60) poll(id, phone, tries + 1);
      return;
    }
    if (status === 'active') say(`Bought ${phone}. It is active now.`);
    else warn(`The purchase of ${phone} did not go through (${status}); the amount is back in your wallet.`);
    refreshAll();
  }

  // ---- my numbers and release ------------------------------------------------------
  async function loadNumbers() {
    const r = await call('GET', '/api/numbers?limit=100');
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    const list = $('numbers');
    list.replaceChildren();
    const numbers = Array.isArray(r.body.numbers) ? r.body.numbers : [];
    $('numbers-note').textContent = numbers.length ? '' : 'You have no numbers yet. Search for one above.';
    const now = Date.now();
    for (const n of numbers) {
      const item = el('li', { className: 'card' },
        el('span', { className: 'phone', text: n.phoneNumber }),
        el('span', { className: 'name', text: n.displayName || '' }),
        el('span', { className: `badge ${n.status}`, text: n.status }));
      if (n.paidUntil) item.append(el('span', { className: 'meta', text: `Paid until ${NW.day(n.paidUntil)}` }));
      if (n.status === 'active' && n.paidUntil && Date.parse(n.paidUntil) < now) {
        // renewalGraceDays is null when the shim could not ask the database: say no date rather than a wrong one.
        const grace = config.renewalGraceDays;
        const when = Number.isInteger(grace) ? `on ${NW.addDays(n.paidUntil, grace)}` : 'after its grace period';
        item.append(el('span', { className: 'warning', text: `The renewal could not be charged: this number will be released ${when} unless funds are added.` }));
      }
      if (n.status === 'active') {
        item.append(el('button', { type: 'button', text: `Release ${n.phoneNumber}`, onclick: (e) => openRelease(n, e.currentTarget) }));
      }
      list.append(item);
    }
  }

  async function openRelease(number, opener) {
    quiet();
    releasing = { number, busy: false };
    $('release-number').textContent = number.phoneNumber;
    $('release-refund').textContent = 'Checking the refund…';
    $('confirm-release').disabled = false;
    NW.openDialog($('release-dialog'), opener, 'cancel-release');
    const r = await call('GET', `/api/numbers/${encodeURIComponent(number.id)}/refund-quote`);
    if (r.signedOut || releasing === null || releasing.number !== number) return;
    if (!r.ok) {
      $('release-refund').textContent = `The refund could not be checked: ${NW.errorText(r)}`;
      return;
    }
    const q = r.body.refund || {};
    $('release-refund').textContent = q.eligible
      ? `Refund: ${q.amount} ${q.currency}, back into your wallet.`
      : `Refund: none (${q.amount} ${q.currency}). ${refundReason(q)}`;
  }

  function refundReason(q) {
    if (q.reason === 'window_passed' || (q.windowDays !== undefined && q.daysSincePurchase > q.windowDays)) {
      return `Refunds are given within ${q.windowDays} days of purchase; this number was bought ${q.daysSincePurchase} days ago.`;
    }
    return q.reason ? `Reason: ${String(q.reason).replace(/_/g, ' ')}.` : '';
  }

  $('cancel-release').addEventListener('click', () => NW.closeDialog($('release-dialog')));
  $('release-dialog').addEventListener('close', () => { if (releasing && !releasing.busy) releasing = null; });
  NW.restoreFocusOnClose($('release-dialog'));

  $('release-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!releasing || releasing.busy) return;
    const attempt = releasing;
    attempt.busy = true;
    $('confirm-release').disabled = true;
    const r = await call('DELETE', `/api/numbers/${encodeURIComponent(attempt.number.id)}/release`);
    attempt.busy = false;
    releasing = null;
    NW.closeDialog($('release-dialog'));
    if (r.signedOut) return;
    if (!r.ok) {
      warn(NW.errorText(r));
    } else {
      const refund = r.body.refund || {};
      say(refund.issued
        ? `Released ${attempt.number.phoneNumber}. Refunded ${refund.amount} ${refund.currency}.`
        : `Released ${attempt.number.phoneNumber}. No refund was due.`);
    }
    await refreshAll();
  });

  // ---- the ledger --------------------------------------------------------------------
  async function loadLedger(fresh) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (!fresh && ledgerNext !== null) params.set('before', String(ledgerNext));
    const r = await call('GET', `/api/transactions?${params}`);
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    const rows = $('ledger-rows');
    if (fresh) rows.replaceChildren();
    const items = Array.isArray(r.body.transactions) ? r.body.transactions : [];
    for (const t of items) {
      rows.append(el('tr', {},
        el('td', { text: NW.dayTime(t.createdAt) }),
        el('td', { className: 'wrap', text: t.description || '' }),
        el('td', { text: `${t.kind || ''} (${String(t.type || '').toLowerCase()})` }),
        el('td', { className: 'num', text: `${t.amount} ${t.currency}` }),
        el('td', { className: 'num', text: `${t.balanceAfter} ${t.currency}` })));
    }
    ledgerNext = r.body.next === undefined ? null : r.body.next;
    $('load-more').hidden = ledgerNext === null;
    $('transactions-note').textContent = rows.children.length ? '' : 'No transactions yet.';
  }

  $('load-more').addEventListener('click', async () => {
    const before = $('ledger-rows').children.length;
    await loadLedger(false);
    const first = $('ledger-rows').children[before];
    if ($('load-more').hidden && first) { first.setAttribute('tabindex', '-1'); first.focus(); }
    say(`Showing ${$('ledger-rows').children.length} transactions.`);
  });

  async function refreshAll() {
    await Promise.all([loadWallet(), loadNumbers(), loadLedger(true)]);
  }

  // ---- start -------------------------------------------------------------------------
  async function start() {
    const fragment = NW.takeFragment(); // first: the token leaves the address bar at once
    config = await NW.loadConfig();
    const country = $('country');
    for (const c of config.countries || []) country.append(el('option', { value: c, text: c }));
    if (fragment && fragment.error) return showSignIn(`Sign-in failed: ${fragment.error}`);
    if (fragment) session.set(fragment);
    if (session.data && session.data.selfTopup !== undefined) selfTopup = session.data.selfTopup;
    if (!session.token) return showSignIn();
    const exp = (NW.claims(session.token) || {}).exp;
    if (exp && exp * 1000 < Date.now() && !session.data.refresh_token) return showSignIn('Your session has ended; sign in again.');
    signedIn();
  }
  // A sign-in link opened in a tab that already shows this page changes only the fragment.
  window.addEventListener('hashchange', () => {
    const fragment = NW.takeFragment();
    if (!fragment) return;
    if (fragment.error) return showSignIn(`Sign-in failed: ${fragment.error}`);
    quiet();
    selfTopup = null;
    session.clear();
    session.set(fragment);
    signedIn();
  });
  start();
})();
