// Shared by the buyer page (/) and the operator page (/admin): signing in,
// calling the API, announcing outcomes. Every string from the API is put on
// the page as text (textContent), never parsed as HTML.
'use strict';

const NW = (() => {
  // ---- small DOM helpers ---------------------------------------------------
  const $ = (id) => document.getElementById(id);

  // el('li', {className: 'x'}, 'text', child, ...): children are nodes or text.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'className') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, '');
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  // ---- live regions ----------------------------------------------------------
  function say(text) {
    $('alert').textContent = '';
    $('status').textContent = text;
  }
  function warn(text) {
    $('status').textContent = '';
    $('alert').textContent = text;
  }
  function quiet() {
    $('status').textContent = '';
    $('alert').textContent = '';
  }

  // ---- ids -------------------------------------------------------------------
  // A random v4 uuid (crypto.randomUUID needs a secure context; this does not).
  function uuid() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- dates -----------------------------------------------------------------
  // "2026-12-25T04:07:53Z" -> "2026-12-25" (UTC); other text as it came.
  function day(text) {
    return typeof text === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(text) ? text.slice(0, 10) : String(text ?? '');
  }
  function dayTime(text) {
    return typeof text === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)
      ? `${text.slice(0, 10)} ${text.slice(11, 16)}` : String(text ?? '');
  }
  function addDays(iso, days) {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? '' : new Date(t + days * 86400000).toISOString().slice(0, 10);
  }

  // ---- the session (sessionStorage only; never localStorage or a cookie) ------
  class Session {
    constructor(key) {
      this.key = key;
      this.data = null;
      try { this.data = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { this.data = null; }
      this.timer = null;
    }
    get token() { return this.data && this.data.access_token; }
    set(data) {
      this.data = data;
      sessionStorage.setItem(this.key, JSON.stringify(data));
    }
    clear() {
      this.data = null;
      sessionStorage.removeItem(this.key);
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // The JWT's payload (for its sub and exp); null when unreadable. Not verified: the API verifies.
  function claims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (e) {
      return null;
    }
  }

  // A page opened as /#access_token=…&refresh_token=…&expires_at=… (Supabase's
  // redirect): the tokens, with the fragment removed from the address bar at once.
  function takeFragment() {
    const hash = window.location.hash;
    if (!hash || hash.length < 2) return null;
    const params = new URLSearchParams(hash.slice(1));
    const found = params.has('access_token') || params.has('error') || params.has('error_description');
    if (!found) return null;
    history.replaceState(null, '', window.location.pathname + window.location.search);
    if (!params.get('access_token')) {
      return { error: params.get('error_description') || params.get('error') || 'sign-in failed' };
    }
    const token = params.get('access_token');
    const expiresIn = Number(params.get('expires_in'));
    let expiresAt = Number(params.get('expires_at'));
    if (!expiresAt && expiresIn) expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
    if (!expiresAt) expiresAt = (claims(token) || {}).exp || 0;
    return { access_token: token, refresh_token: params.get('refresh_token') || null, expires_at: expiresAt };
  }

  // ---- the API ---------------------------------------------------------------
  // api(method, path, {token, body, headers}) -> {status, ok, body, headers}; never throws:
  // a network failure is status 0 with a body {error}.
  async function api(method, path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      return { status: 0, ok: false, body: { error: 'The server could not be reached; check your connection and try again.' }, headers: new Headers() };
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!body || typeof body !== 'object') body = {};
    return { status: response.status, ok: response.ok, body, headers: response.headers };
  }

  // The API's error text, in plain words (with when to retry on 429).
  function errorText(r, fallback) {
    let text = (r.body && typeof r.body.error === 'string' && r.body.error) || fallback || `The request failed (HTTP ${r.status}).`;
    if (r.status === 429) {
      const after = r.headers && r.headers.get('Retry-After');
      if (after && !/retry after/i.test(text)) text += ` Try again in ${after} seconds.`;
    }
    if (r.body && r.body.refunded === true) text += ' Nothing was charged: the amount is back in your wallet.';
    return text;
  }

  let config = null;
  async function loadConfig() {
    if (config) return config;
    const r = await api('GET', '/api/config');
    config = r.ok ? r.body : { twilio: 'live', countries: ['US'], monthlyCost: '', currency: '', supabaseUrl: null, supabaseAnonKey: null, renewalGraceDays: null };
    return config;
  }

  // Supabase's token endpoint (password or refresh_token grant) with the anon key.
  async function supabaseToken(grant, body) {
    const c = await loadConfig();
    if (!c.supabaseUrl || !c.supabaseAnonKey) return { ok: false, error: 'Sign-in is not configured on this server.' };
    let response;
    try {
      response = await fetch(`${c.supabaseUrl.replace(/\/+$/, '')}/auth/v1/token?grant_type=${grant}`, {
        method: 'POST',
        headers: { apikey: c.supabaseAnonKey, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (e) {
      return { ok: false, error: 'The sign-in service could not be reached.' };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok || !data.access_token) {
      return { ok: false, error: data.error_description || data.msg || data.message || data.error || `Sign-in failed (HTTP ${response.status}).` };
    }
    const expiresAt = data.expires_at || (data.expires_in ? Math.floor(Date.now() / 1000) + data.expires_in : 0);
    return { ok: true, session: { access_token: data.access_token, refresh_token: data.refresh_token || null, expires_at: expiresAt } };
  }

  // Renews the access token a minute before it expires, when there is a refresh token.
  function scheduleRefresh(session, onFail) {
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    const data = session.data;
    if (!data || !data.refresh_token || !data.expires_at) return;
    const wait = Math.max(5, data.expires_at - 60 - Math.floor(Date.now() / 1000)) * 1000;
    session.timer = setTimeout(async () => {
      const r = await supabaseToken('refresh_token', { refresh_token: session.data && session.data.refresh_token });
      if (!r.ok) return onFail(r.error);
      session.set(r.session);
      scheduleRefresh(session, onFail);
    }, Math.min(wait, 2147483000));
  }

  // Dialogs: showModal, focus the first field, give focus back to the opener on close.
  function openDialog(dialog, opener, focusId) {
    dialog.nwOpener = opener || document.activeElement;
    if (!dialog.open) dialog.showModal();
    const first = focusId ? $(focusId) : null;
    if (first) first.focus();
  }
  function closeDialog(dialog) {
    if (dialog.open) dialog.close();
  }
  function restoreFocusOnClose(dialog) {
    dialog.addEventListener('close', () => {
      const opener = dialog.nwOpener;
      dialog.nwOpener = null;
      if (opener && document.contains(opener) && !opener.disabled) opener.focus();
      else { const main = $('main'); if (main) { main.setAttribute('tabindex', '-1'); main.focus(); } }
    });
  }

  return { $, el, say, warn, quiet, uuid, day, dayTime, addDays, Session, claims, takeFragment, api, errorText, loadConfig, supabaseToken, scheduleRefresh, openDialog, closeDialog, restoreFocusOnClose };
})();
