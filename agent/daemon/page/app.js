// The agent's status page: plain DOM, no framework. Data comes from the local API with the
// token kept in this tab's sessionStorage (given once as #token=... or pasted under Access);
// updates arrive through the event stream, read with fetch so that the token travels in a
// header, never in a URL. Every value is written as text, never as HTML. The runtime panel shows
// the leases in force (counting down on this tab's clock, set against the agent's) with a Clear
// button for an operator's own kind, and the load governor's step and signals.
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

// The device's experiments (GET /api/v1/status .experiments): its variant, whether its leases are
// in force, what it sets, and why a variant the device refused does not run.
function renderExperiments(list) {
  $('experiments').hidden = list.length === 0;
  $('experiment-list').replaceChildren(
    ...list.map((x) =>
      el(
        'li',
        { class: 'experiment', 'data-experiment': x.experiment, 'data-state': x.state },
        el('strong', {}, x.experiment),
        ' ',
        x.variant === null ? 'not in this experiment' : 'variant ' + x.variant,
        x.variant === null ? null : el('span', { class: 'pill' }, x.state),
        Object.keys(x.set).length
          ? el(
              'div',
              { class: 'meta' },
              Object.entries(x.set)
                .map(([path, value]) => path + ' = ' + JSON.stringify(value))
                .join(', '),
            )
          : null,
        x.reason ? el('div', { class: 'meta' }, (x.code ? x.code + ': ' : '') + x.reason) : null,
      ),
    ),
  );
}

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
  renderExperiments(s.experiments || []);
  role = s.caller ? s.caller.role : null;
  $('who').textContent = s.caller ? 'you are ' + s.caller.name + ' (' + s.caller.role + ')' : '';
  $('operator').hidden = role !== 'operator';
  $('sync').disabled = !!s.syncing;
}

// How far the agent's clock is ahead of this tab's, from the last tunables answer: remaining
// times count down against the agent's clock, as the agent expires leases by it.
let skew = 0;
const agentNow = () => Date.now() + skew;

function left(iso) {
  let s = Math.ceil((Date.parse(iso) - agentNow()) / 1000);
  if (!(s > 0)) return 'expired';
  const parts = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(n + unit);
    if (parts.length === 2) break;
  }
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join('') + ' left';
}

const SIGNAL_STATES = {
  normal: 'normal',
  entering: 'above its threshold, waiting',
  hot: 'hot',
  leaving: 'back below its threshold, waiting',
};

function renderRuntime(t) {
  $('runtime').hidden = !t;
  if (!t) return;
  skew = Date.parse(t.now) - Date.now();
  const entries = new Map((t.tunables || []).map((e) => [e.path, e]));
  const now = agentNow();
  const active = (t.leases || []).filter((l) => Date.parse(l.start) <= now && now < Date.parse(l.expires));
  $('leases').replaceChildren(
    ...active.map((l) => {
      const e = entries.get(l.path);
      const winning = e && e.winner === l.owner;
      return el(
        'li',
        { class: 'lease ' + l.owner, 'data-path': l.path, 'data-owner': l.owner },
        el('code', {}, l.path),
        ' = ',
        el('strong', { class: 'value' }, JSON.stringify(l.value)),
        ' ',
        el('span', { class: 'pill owner' }, l.owner),
        e
          ? el(
              'span',
              { class: 'meta' },
              ' signed ' + JSON.stringify(e.signed) + (winning ? '' : ' · held by ' + e.winner),
            )
          : null,
        el('div', { class: 'meta' }, 'by ' + l.actor + (l.reason ? ': ' + l.reason : '')),
        el('div', { class: 'meta' }, el('span', { class: 'remaining', 'data-expires': l.expires }, left(l.expires))),
        l.owner === 'operator' && role === 'operator'
          ? el('button', { type: 'button', class: 'clear', 'data-clear': l.path }, 'Clear')
          : null,
      );
    }),
  );
  if (!active.length) $('leases').append(el('li', { class: 'meta' }, 'no leases: the signed configuration runs'));
  renderGovernor(t.governor);
}

function renderGovernor(g) {
  $('governor').hidden = !g;
  if (!g) return;
  const steps = g.steps || [];
  const current = g.step > 0 ? steps[g.step - 1] : null;
  $('governor-step').textContent = !g.enabled
    ? 'off'
    : 'step ' + g.step + ' of ' + steps.length + (current ? ': ' + current.name : ': the signed configuration');
  $('governor-step').dataset.step = String(g.step);
  $('governor-ladder').replaceChildren(
    ...steps.map((s, i) =>
      el(
        'li',
        { class: g.step === i + 1 ? 'current' : g.step > i ? 'taken' : '' },
        el('strong', {}, s.name),
        ' ',
        el(
          'span',
          { class: 'meta' },
          Object.entries(s.set || {})
            .map(([k, v]) => k + '=' + JSON.stringify(v))
            .join(', '),
        ),
      ),
    ),
  );
  $('governor-signals').replaceChildren(
    ...(g.signals || []).map((s) =>
      el(
        'li',
        { class: 'signal ' + s.state, 'data-signal': s.name, 'data-state': s.state },
        el('strong', {}, s.name),
        ' ',
        s.value === null ? '(no sample)' : String(s.value),
        ' — ',
        SIGNAL_STATES[s.state] || s.state,
        s.since ? ' since ' + ago(s.since) : '',
        el('div', { class: 'meta' }, 'enter above ' + s.enter_above + ', exit below ' + s.exit_below),
      ),
    ),
  );
  const m = g.last_transition;
  $('governor-moves').textContent =
    (m ? 'last move ' + m.from + ' → ' + m.to + ' ' + ago(m.at) + ': ' + m.reason + ' · ' : '') +
    g.transitions_last_hour +
    ' move' +
    (g.transitions_last_hour === 1 ? '' : 's') +
    ' in the last hour (at most ' +
    g.max_transitions_per_hour +
    ')';
}

// once a second: the remaining times count down; one that runs out asks for a refresh (the agent
// removes the lease within a tick)
function countDown() {
  let ran = false;
  for (const e of document.querySelectorAll('#leases .remaining')) {
    const text = left(e.dataset.expires);
    if (text === 'expired' && e.textContent !== 'expired') ran = true;
    e.textContent = text;
  }
  if (ran) void refresh();
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
          typeof e.to === 'string' ? [' → ', el('code', {}, short(e.to))] : null,
          // the governor's moves, and lease events: the step, or the path, value and owner
          typeof e.to === 'number' ? ' step ' + e.from + ' → ' + e.to + (e.step ? ' (' + e.step + ')' : '') : null,
          e.path ? [' ', el('code', {}, e.path)] : null,
          e.path && e.value !== undefined ? ' = ' + JSON.stringify(e.value) : null,
          e.path && e.owner ? ' (' + e.owner + (e.actor ? ' ' + e.actor : '') + ')' : null,
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
      const [s, j, r, t] = await Promise.all([
        api('GET', '/api/v1/status'),
        api('GET', '/api/v1/journal?limit=30'),
        api('GET', '/api/v1/releases'),
        // an agent without runtime layers (or a token that may not see them): no panel
        api('GET', '/api/v1/tunables').catch(() => null),
      ]);
      renderStatus(s);
      renderJournal(j);
      renderReleases(r);
      renderRuntime(t);
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
  $('leases').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-clear]');
    if (!button) return;
    const path = button.dataset.clear;
    if (!confirm('Clear the operator lease on ' + path + '? The layers below it take over again.')) return;
    void act(button, 'DELETE', '/api/v1/tunables/' + encodeURIComponent(path), null, (r) =>
      say('cleared ' + path + ': it runs ' + JSON.stringify(r.value) + ' (' + r.winner + ')'),
    );
  });
  setInterval(countDown, 1000);
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
