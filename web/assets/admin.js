// The operator page (/admin): what needs attention (and the actions on it),
// the daily summary as a chart and a table, and the audit log.
'use strict';

(() => {
  const { $, el, say, warn, quiet } = NW;
  const session = new NW.Session('nw.admin.session');
  const SVG = 'http://www.w3.org/2000/svg';
  let auditNext = null;
  let action = null; // what the action dialog will send: {title, path, fields, subject, key, busy}

  // ---- signing in and out ------------------------------------------------------
  function showSignIn(message) {
    session.clear();
    $('app').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    if (message) warn(message);
  }

  async function call(method, path, body, headers) {
    const r = await NW.api(method, path, { token: session.token, body, headers });
    if (r.status === 401) {
      showSignIn('The token was not accepted (expired or wrong); sign in again.');
      r.signedOut = true;
    }
    return r;
  }

  // A route the server does not have yet answers the generic 404 {"error":"not found"}.
  function missingRoute(r) {
    return r.status === 404 && r.body && r.body.error === 'not found';
  }

  async function signIn(token) {
    session.set({ access_token: token, refresh_token: null, expires_at: 0 });
    const r = await call('GET', '/api/admin/summary');
    if (r.signedOut) return false;
    if (r.status === 403) {
      showSignIn('This token belongs to an end user; the operator page needs a service or operator token.');
      return false;
    }
    if (!r.ok) {
      showSignIn(NW.errorText(r));
      return false;
    }
    const c = NW.claims(token) || {};
    $('who-text').textContent = c.email ? `Signed in as ${c.email}` : (c.role === 'service_role' || !c.sub ? 'Signed in with a service token' : `Signed in (user ${c.sub})`);
    $('signin').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    renderSummary(r.body.summary || {});
    await Promise.all([loadAttention(), loadAudit(true)]);
    return true;
  }

  $('token-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    quiet();
    const token = $('access-token').value.trim();
    $('access-token').value = '';
    if (await signIn(token)) say('Signed in.');
  });

  $('sign-out').addEventListener('click', () => {
    showSignIn();
    say('Signed out.');
    $('access-token').focus();
  });

  // ---- needs attention -------------------------------------------------------------
  const REASONS = {
    pending_too_long: 'Purchase pending for too long: check Twilio, then confirm or fail it',
    provider_release_pending: 'Released, but not yet deleted at Twilio (the reconciler retries)',
    renewal_unpaid: 'Renewal unpaid: the wallet is short',
    unknown_at_provider: 'Twilio holds a number this database does not know',
    missing_at_provider: 'Active here but gone at Twilio',
  };

  async function loadAttention() {
    const r = await call('GET', '/api/admin/interventions');
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    const rows = $('attention-rows');
    rows.replaceChildren();
    const items = Array.isArray(r.body.interventions) ? r.body.interventions : [];
    $('attention-note').textContent = items.length ? (items.length === 1 ? '1 item.' : `${items.length} items.`) : 'Nothing needs attention.';
    for (const item of items) {
      const phone = item.phone_number || '';
      const actions = el('div', { className: 'actions' });
      const subject = `${phone || 'number'} (${item.reason})`;
      if (item.id && item.status === 'pending') {
        actions.append(el('button', { type: 'button', text: `Fail ${phone}…`, onclick: (e) => openAction(e.currentTarget, {
          title: `Fail the purchase of ${phone}`, subject, send: 'Mark failed', fields: [],
          path: `/api/admin/numbers/${encodeURIComponent(item.id)}/fail` }) }));
        actions.append(el('button', { type: 'button', text: `Confirm ${phone}…`, onclick: (e) => openAction(e.currentTarget, {
          title: `Confirm the purchase of ${phone}`, subject, send: 'Mark active', fields: ['sid'], sid: item.twilio_sid || '',
          path: `/api/admin/numbers/${encodeURIComponent(item.id)}/confirm` }) }));
      }
      if (item.id && item.status === 'active') {
        actions.append(el('button', { type: 'button', text: `Release ${phone}…`, onclick: (e) => openAction(e.currentTarget, {
          title: `Release ${phone}`, subject, send: 'Release number', fields: ['refund'],
          path: `/api/admin/numbers/${encodeURIComponent(item.id)}/release` }) }));
      }
      if (item.discrepancy_id !== null && item.discrepancy_id !== undefined) {
        actions.append(el('button', { type: 'button', text: `Resolve finding ${item.discrepancy_id}…`, onclick: (e) => openAction(e.currentTarget, {
          title: `Resolve finding ${item.discrepancy_id}`, subject, send: 'Resolve', fields: [],
          path: `/api/admin/discrepancies/${encodeURIComponent(item.discrepancy_id)}/resolve` }) }));
      }
      if (item.user_id) {
        actions.append(el('button', { type: 'button', text: `Adjust wallet of ${phone || item.user_id}…`, onclick: (e) => openAdjust(e.currentTarget, item.user_id) }));
      }
      rows.append(el('tr', {},
        el('td', { className: 'phone', text: phone }),
        el('td', { text: item.status || '' }),
        el('td', { className: 'wrap' }, el('strong', { text: item.reason || '' }), el('br'), el('span', { className: 'meta', text: REASONS[item.reason] || '' })),
        el('td', { text: NW.dayTime(item.since) }),
        el('td', { className: 'id', text: item.user_id || '' }),
        el('td', {}, actions)));
    }
  }

  $('refresh').addEventListener('click', async () => {
    await refreshAll();
    say('Refreshed.');
  });

  $('adjust-form').addEventListener('submit', (event) => {
    event.preventDefault();
    openAdjust(event.submitter || $('adjust-form').querySelector('button'), $('adjust-user').value.trim().toLowerCase());
  });

  function openAdjust(opener, userId) {
    openAction(opener, {
      title: 'Adjust a wallet', subject: `User ${userId}`, send: 'Adjust balance', fields: ['amount'], key: `adjust-${NW.uuid()}`,
      path: `/api/admin/wallets/${encodeURIComponent(userId)}/adjust` });
  }

  // ---- the action dialog: every action needs a Reason -------------------------------
  function openAction(opener, spec) {
    quiet();
    action = Object.assign({ busy: false }, spec);
    $('action-title').textContent = spec.title;
    $('action-subject').textContent = spec.subject;
    $('action-send').textContent = spec.send;
    $('field-sid').hidden = !spec.fields.includes('sid');
    $('field-refund').hidden = !spec.fields.includes('refund');
    $('field-amount').hidden = !spec.fields.includes('amount');
    $('action-sid').required = spec.fields.includes('sid');
    $('action-amount').required = spec.fields.includes('amount');
    $('action-sid').value = spec.sid || '';
    $('action-refund').checked = false;
    $('action-amount').value = '';
    $('action-reason').value = '';
    updateSend();
    NW.openDialog($('action-dialog'), opener, 'action-reason');
  }

  function updateSend() {
    const reason = $('action-reason').value.trim();
    $('action-send').disabled = !action || action.busy || reason.length < 1 || reason.length > 500;
  }
  $('action-reason').addEventListener('input', updateSend);
  $('action-cancel').addEventListener('click', () => NW.closeDialog($('action-dialog')));
  NW.restoreFocusOnClose($('action-dialog'));

  $('action-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = $('action-reason').value.trim();
    if (!action || action.busy) return;
    if (!reason) { // never sent without a reason
      $('action-reason').focus();
      return warn('A reason is required.');
    }
    if (!$('action-form').reportValidity()) return;
    const spec = action;
    const body = { reason };
    if (spec.fields.includes('sid')) body.twilioSid = $('action-sid').value.trim();
    if (spec.fields.includes('refund')) body.refund = $('action-refund').checked;
    if (spec.fields.includes('amount')) {
      body.amount = $('action-amount').value.trim();
      body.currency = $('action-currency').value;
    }
    spec.busy = true;
    updateSend();
    const r = await call('POST', spec.path, body, spec.key ? { 'Idempotency-Key': spec.key } : undefined);
    spec.busy = false;
    if (r.signedOut) return;
    if (r.status === 0) { updateSend(); return warn(NW.errorText(r)); }
    action = null;
    NW.closeDialog($('action-dialog'));
    if (missingRoute(r)) warn(`Not available yet: this server does not have ${spec.path.replace(/\/[^/]+\/(fail|confirm|release|adjust|resolve)$/, '/{id}/$1')} (404).`);
    else if (!r.ok) warn(NW.errorText(r));
    else say(`Done: ${spec.title}.${r.body.replayed ? ' (It had been done already.)' : ''}`);
    await refreshAll();
  });

  // ---- summary: figures, an SVG chart drawn here, and a table --------------------------
  function renderSummary(summary) {
    const p = summary.purchases || {};
    $('success-rate').textContent = p.success_rate === null || p.success_rate === undefined ? 'no purchases yet' : `${p.success_rate} %`;
    $('purchase-counts').textContent = `${p.successful ?? 0} / ${p.failed ?? 0} / ${p.pending ?? 0}`;
    const b = summary.balances || {};
    $('total-usd').textContent = b.usd ?? '';
    $('total-inr').textContent = b.inr ?? '';
    const daily = Array.isArray(summary.daily) ? summary.daily : [];
    const rows = $('daily-rows');
    rows.replaceChildren();
    for (const d of daily) {
      rows.append(el('tr', {},
        el('td', { text: String(d.date ?? '') }),
        el('td', { text: `${d.kind ?? ''} (${String(d.type ?? '').toLowerCase()})` }),
        el('td', { className: 'num', text: String(d.count ?? '') }),
        el('td', { className: 'num', text: `${d.total ?? ''} ${d.currency ?? ''}` })));
    }
    drawChart(daily);
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(daily) {
    const kinds = ['purchase', 'refund', 'renewal'];
    const byDate = new Map();
    for (const d of daily) {
      if (!kinds.includes(d.kind)) continue;
      const key = String(d.date);
      if (!byDate.has(key)) byDate.set(key, { purchase: 0, refund: 0, renewal: 0 });
      byDate.get(key)[d.kind] += Number(d.count) || 0;
    }
    const dates = Array.from(byDate.keys()).sort().slice(-14);
    const max = Math.max(1, ...dates.map((k) => Math.max(...kinds.map((kind) => byDate.get(k)[kind]))));
    const W = 600, H = 220, left = 30, bottom = 40, top = 10;
    const slot = (W - left - 10) / Math.max(dates.length, 1);
    const bar = Math.max(2, Math.min(24, (slot - 6) / kinds.length));
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
    chart.append(svg('title', { id: 'chart-title' }, 'Daily purchases, refunds and renewals'));
    const described = dates.map((k) => `${k}: ${kinds.map((kind) => `${byDate.get(k)[kind]} ${kind}s`).join(', ')}`).join('; ');
    chart.append(svg('desc', { id: 'chart-desc' }, described || 'No purchases, refunds or renewals in the last 30 days.'));
    chart.append(svg('line', { x1: left, y1: H - bottom, x2: W - 5, y2: H - bottom, class: 'axis' }));
    chart.append(svg('text', { x: 2, y: top + 10 }, String(max)));
    chart.append(svg('text', { x: 2, y: H - bottom }, '0'));
    dates.forEach((k, i) => {
      const x0 = left + i * slot + 3;
      kinds.forEach((kind, j) => {
        const value = byDate.get(k)[kind];
        const h = ((H - bottom - top) * value) / max;
        const rect = svg('rect', { x: x0 + j * bar, y: H - bottom - h, width: bar - 1, height: h, class: `bar-${kind}` });
        rect.append(svg('title', {}, `${k}: ${value} ${kind}s`));
        chart.append(rect);
      });
      chart.append(svg('text', { x: x0, y: H - bottom + 14 }, k.slice(5)));
    });
    if (!dates.length) chart.append(svg('text', { x: left + 10, y: H / 2 }, 'No activity yet'));
    $('chart').replaceChildren(chart);
  }

  async function loadSummary() {
    const r = await call('GET', '/api/admin/summary');
    if (r.signedOut) return;
    if (!r.ok) return warn(NW.errorText(r));
    renderSummary(r.body.summary || {});
  }

  // ---- audit log (GET /api/admin/audit?limit&before) ------------------------------------
  function auditEntries(body) {
    for (const key of ['entries', 'audit', 'items', 'log', 'rows']) if (Array.isArray(body[key])) return body[key];
    for (const value of Object.values(body)) if (Array.isArray(value)) return value;
    return [];
  }

  async function loadAudit(fresh) {
    const params = new URLSearchParams({ limit: '20' });
    if (!fresh && auditNext !== null) params.set('before', String(auditNext));
    const r = await call('GET', `/api/admin/audit?${params}`);
    if (r.signedOut) return;
    const rows = $('audit-rows');
    if (r.status === 404) {
      rows.replaceChildren();
      $('audit-more').hidden = true;
      $('audit-note').textContent = 'The audit log is not available on this server yet (GET /api/admin/audit answered 404).';
      return;
    }
    if (!r.ok) return warn(NW.errorText(r));
    if (fresh) rows.replaceChildren();
    const items = auditEntries(r.body);
    for (const a of items) {
      const subject = [a.number_id ?? a.numberId, a.user_id ?? a.userId, a.discrepancy_id ?? a.discrepancyId]
        .filter((x) => x !== null && x !== undefined).join(' / ');
      rows.append(el('tr', {},
        el('td', { text: NW.dayTime(a.at ?? a.createdAt) }),
        el('td', { text: String(a.actor ?? '') }),
        el('td', { text: String(a.action ?? '') }),
        el('td', { className: 'id', text: subject }),
        el('td', { className: 'wrap', text: String(a.reason ?? '') })));
    }
    auditNext = r.body.next === undefined ? null : r.body.next;
    $('audit-more').hidden = auditNext === null;
    $('audit-note').textContent = rows.children.length ? '' : 'No entries yet.';
  }

  $('audit-more').addEventListener('click', () => loadAudit(false));

  async function refreshAll() {
    await Promise.all([loadAttention(), loadSummary(), loadAudit(true)]);
  }

  // ---- start -------------------------------------------------------------------------
  async function start() {
    const fragment = NW.takeFragment();
    if (fragment && fragment.error) return showSignIn(`Sign-in failed: ${fragment.error}`);
    const token = fragment ? fragment.access_token : session.token;
    if (!token) return showSignIn();
    await signIn(token);
  }
  window.addEventListener('hashchange', async () => {
    const fragment = NW.takeFragment();
    if (!fragment) return;
    if (fragment.error) return showSignIn(`Sign-in failed: ${fragment.error}`);
    quiet();
    await signIn(fragment.access_token);
  });
  start();
})();
