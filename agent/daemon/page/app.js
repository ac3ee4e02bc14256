// The agent's status page: plain DOM, no framework. Data comes from the local API with the
// token kept in this tab's sessionStorage (given once as #token=... or pasted under Access);
// updates arrive through the event stream, read with fetch so that the token travels in a
// header, never in a URL. Every value is written as text, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const short = (c) => (typeof c === 'string' ? c.slice(0, 12) : '-');

function takeTokenFromAddress() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
}
const token = () => sessionStorage.getItem('token') || '';
const headers = () => (token() ? { authorization: 'Bearer ' + token() } : {});

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: { ...headers(), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json().catch(() => ({ code: 'bad-answer', message: 'HTTP ' + r.status }));
  if (!r.ok)
    throw Object.assign(new Error(json.message || 'HTTP ' + r.status), {
      code: json.code,
      hint: json.hint,
      status: r.status,
    });
  return json;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children.flat())
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

function say(text, bad) {
  const m = $('message');
  m.textContent = text;
  m.className = bad ? 'error' : 'meta';
}

let role = null;

function renderStatus(s) {
  $('device').textContent = s.environment + ' / ' + s.device;
  document.title = s.device + ' · ' + short(s.current && s.current.commit);
  const cur = s.current;
  $('current-commit').textContent = cur ? short(cur.commit) : 'nothing applied yet';
  $('current-subject').textContent = cur && cur.subject ? cur.subject : '';
  $('current-meta').textContent = cur
    ? [
        cur.signer ? 'signed by ' + cur.signer : 'not signed (' + s.mode + ')',
        cur.committed_at ? 'committed ' + ago(cur.committed_at) : null,
        cur.applied_at ? 'applied ' + ago(cur.applied_at) : null,
      ]
        .filter(Boolean)
        .join(' · ')
    : s.mode;
  const lg = s.last_good;
  $('last-good').textContent =
    lg && (!cur || lg.commit !== cur.commit)
      ? 'last good: ' + short(lg.commit) + (lg.subject ? ' ' + lg.subject : '')
      : 'last good: the running release';
  const e = s.last_error;
  $('last-error').hidden = !e;
  $('last-error').textContent = e
    ? 'last refusal or error (' + e.code + ', ' + short(e.commit) + ', ' + ago(e.time) + '): ' + e.reason
    : '';
  $('components').replaceChildren(
    ...(s.components.length ? s.components : []).map((c) =>
      el(
        'li',
        { class: c.healthy ? 'healthy' : 'unhealthy', 'data-component': c.name },
        el('strong', {}, c.name),
        ' ',
        c.healthy ? 'healthy' : 'unhealthy',
        c.reason ? el('div', { class: 'meta' }, c.reason) : null,
        el('div', { class: 'meta' }, 'since ' + ago(c.since)),
      ),
    ),
  );
  if (!s.components.length) $('components').append(el('li', { class: 'meta' }, 'not checked yet'));
  role = s.caller ? s.caller.role : null;
  $('who').textContent = s.caller ? 'you are ' + s.caller.name + ' (' + s.caller.role + ')' : '';
  $('operator').hidden = role !== 'operator';
  $('sync').disabled = !!s.syncing;
}

function renderJournal(entries) {
  $('journal').replaceChildren(
    ...entries
      .slice()
      .reverse()
      .map((e) =>
        el(
          'li',
          { class: e.event, 'data-event': e.event, 'data-commit': e.commit || '' },
          el('span', { class: 'ev ' + e.event }, e.event),
          ' ',
          el('code', {}, short(e.commit)),
          e.to ? [' → ', el('code', {}, short(e.to))] : null,
          e.component ? ' ' + e.component : null,
          e.subject ? ' “' + e.subject + '”' : null,
          e.by ? ' by ' + e.by : null,
          ' ',
          el('span', { class: 'meta' }, ago(e.time)),
          e.code ? el('span', { class: 'meta' }, ' [' + e.code + ']') : null,
          e.reason ? el('span', { class: 'reason' }, e.reason) : null,
        ),
      )
      .flat(),
  );
}

function renderReleases(list) {
  const label = (r) =>
    short(r.commit) +
    (r.current ? ' (running)' : r.bad ? ' (bad)' : '') +
    (r.subject ? ' ' + r.subject.slice(0, 40) : '');
  const fill = (select, items, pick) => {
    const keep = select.value;
    select.replaceChildren(...items.map((r) => el('option', { value: r.commit }, label(r))));
    if (items.some((r) => r.commit === keep)) select.value = keep;
    else if (pick) select.value = pick;
  };
  fill(
    $('rollback-to'),
    list.filter((r) => r.good && !r.current),
  );
  const current = list.find((r) => r.current);
  const previous = list.find((r) => !r.current);
  fill($('diff-to'), list, current && current.commit);
  fill($('diff-from'), list, previous && previous.commit);
  $('rollback').disabled = $('rollback-to').options.length === 0;
}

async function showDiff() {
  const from = $('diff-from').value;
  const to = $('diff-to').value;
  const body = $('diff-out').tBodies[0];
  if (!from || !to) return body.replaceChildren(el('tr', {}, el('td', {}, 'two releases are needed')));
  try {
    const d = await api('GET', '/api/v1/diff?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to));
    const val = (v) => (v === undefined ? '' : JSON.stringify(v));
    body.replaceChildren(
      ...(d.changes.length
        ? d.changes.map((c) =>
            el(
              'tr',
              { 'data-path': c.path },
              el('td', {}, c.change === 'added' ? '+' : c.change === 'removed' ? '−' : '~'),
              el('td', {}, el('code', {}, c.path)),
              el('td', {}, c.secret ? '(secret changed, value not shown)' : val(c.old) + ' → ' + val(c.new)),
            ),
          )
        : [el('tr', {}, el('td', {}, 'no differences'))]),
    );
  } catch (e) {
    body.replaceChildren(el('tr', {}, el('td', { class: 'error' }, e.message)));
  }
}

// One refresh at a time; an event that arrives during one asks for another after it, so the
// page never stays on an answer read before the event.
let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [s, j, r] = await Promise.all([
        api('GET', '/api/v1/status'),
        api('GET', '/api/v1/journal?limit=30'),
        api('GET', '/api/v1/releases'),
      ]);
      renderStatus(s);
      renderJournal(j);
      renderReleases(r);
    } catch (e) {
      say(
        e.status === 401
          ? 'This page needs an API token: open Access below and paste one.'
          : e.message + (e.hint ? ' (' + e.hint + ')' : ''),
        true,
      );
      if (e.status === 401) $('access').open = true;
    } finally {
      refreshing = null;
      if (again) {
        again = false;
        void refresh();
      }
    }
  })();
  return refreshing;
}

async function listen() {
  for (let wait = 1000; ; wait = Math.min(wait * 2, 30000)) {
    try {
      const r = await fetch('/api/v1/events', { headers: headers() });
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      $('live').textContent = 'live';
      $('live').className = 'pill on';
      wait = 1000;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = (/^event: (.*)$/m.exec(block) || [])[1];
          if (!type) continue;
          if (type === 'sync-started') say('syncing…');
          if (type === 'refused' || type === 'rolled-back' || type === 'applied' || type === 'sync-failed') {
            const data = JSON.parse((/^data: (.*)$/m.exec(block) || [])[1] || '{}');
            say(
              type + ' ' + short(data.to || data.commit) + (data.reason ? ': ' + data.reason.split('\n')[0] : ''),
              type !== 'applied',
            );
          }
          void refresh();
        }
      }
    } catch {
      // the agent restarted or the network dropped: try again with backoff
    }
    $('live').textContent = 'offline';
    $('live').className = 'pill off';
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function act(button, method, path, body, done) {
  button.disabled = true;
  try {
    done(await api(method, path, body));
  } catch (e) {
    say(e.message + (e.hint ? ' (' + e.hint + ')' : ''), true);
  } finally {
    button.disabled = false;
    void refresh();
  }
}

document.addEventListener('DOMContentLoaded', () => {
  takeTokenFromAddress();
  $('sync').addEventListener('click', () =>
    act($('sync'), 'POST', '/api/v1/sync', null, (r) =>
      say(
        r.outcome + (r.commit ? ' ' + short(r.commit) : '') + (r.reason ? ': ' + r.reason.split('\n')[0] : ''),
        r.outcome === 'refused' || r.outcome === 'rolled-back',
      ),
    ),
  );
  $('rollback').addEventListener('click', () => {
    const to = $('rollback-to').value;
    if (
      !to ||
      !confirm('Roll back to ' + short(to) + '? The running release will be marked bad and not applied again.')
    )
      return;
    void act($('rollback'), 'POST', '/api/v1/rollback', { to, reason: 'rolled back from the status page' }, (r) =>
      say('rolled back to ' + short(r.commit)),
    );
  });
  $('diff-show').addEventListener('click', () => void showDiff());
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('token', $('token').value.trim());
    $('token').value = '';
    say('token saved for this tab');
    void refresh();
  });
  void refresh();
  void listen();
});
