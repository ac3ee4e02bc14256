// The agent's status page: plain DOM and SVG, no framework, no build step. Data comes from the
// local API with the token kept in this tab's sessionStorage (given once as #token=... or pasted
// under Access); updates arrive through the event stream, read with fetch so that the token
// travels in a header, never in a URL. Every value is written as text, never as HTML.
//
// When the agent stops answering the page says so: a banner with the time of the data shown,
// the components and their health greyed out as unknown, the buttons disabled with the reason,
// and a reconnect with exponential backoff (capped, with jitter). Times are shown relative and
// absolute (local HH:MM:SS) and kept fresh once a second. The pictures are SVG drawn here: the
// timeline of applies, refusals and rollbacks and the step durations of recent applies (from the
// journal), component health over time (a bounded history kept by this page), and the leases in
// force with their remaining time (counting down on this tab's clock, set against the agent's).
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

function node(ns, tag, attrs, children) {
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children.flat(Infinity))
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
const el = (tag, attrs, ...children) => node(null, tag, attrs, children);
const sv = (tag, attrs, ...children) => node('http://www.w3.org/2000/svg', tag, attrs, children);

// ---- times: relative and absolute, kept fresh --------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');
/** HH:MM:SS in this browser's time zone, with the date in front when it is not today. */
function clock(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '?';
  const time = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? time
    : d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + time;
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

/** "3 s ago (14:03:22)" as a <time>, refreshed by tick(); `prefix` goes in front. */
function stamp(iso, prefix) {
  return el(
    'time',
    { class: 'ago', datetime: iso, title: iso, 'data-prefix': prefix || '' },
    (prefix || '') + ago(iso) + ' (' + clock(iso) + ')',
  );
}

function say(text, bad) {
  const m = $('message');
  m.textContent = text;
  m.className = bad ? 'error' : 'meta';
}

// ---- what the page last read, and whether the agent answers ------------------------------------

let role = null;
let last = { status: null, journal: [], releases: [], tunables: null };
const link = { streaming: false, online: false, asOf: null, retryAt: null };

/** The agent answered (online) or did not (offline): the banner, the greying and the buttons follow. */
function setOnline(on) {
  const was = link.online;
  link.online = on;
  if (was && !on) {
    for (const name of healthLog.keys()) noteHealth(name, 'unknown', Date.now());
    // said once (an alert), not again every second
    $('offline-text').textContent =
      'Offline: the agent does not answer. The data shown is as of ' +
      clock(link.asOf) +
      '; component health is unknown and nothing can be asked of the agent.';
  }
  if (was !== on && last.status) {
    renderComponents(last.status.components);
    renderHealth();
  }
  paintLink();
  updateControls();
}

/** The pill, the banner and its countdown to the next try. */
function paintLink() {
  const live = link.online && link.streaming;
  const down = !link.online && link.asOf !== null;
  $('live').textContent = live ? 'live' : link.online ? 'no live updates' : down ? 'offline' : 'connecting…';
  $('live').className = 'pill ' + (live ? 'on' : 'off');
  document.body.classList.toggle('offline', down);
  $('offline').hidden = !down;
  if (!down) return;
  const wait = link.retryAt === null ? null : Math.max(0, Math.ceil((link.retryAt - Date.now()) / 1000));
  $('retry-in').textContent =
    'data as of ' +
    clock(link.asOf) +
    ' (' +
    ago(new Date(link.asOf).toISOString()) +
    ') · ' +
    (wait === null ? 'reconnecting…' : 'reconnecting in ' + wait + ' s');
}

/** Each control is enabled only when it can act; otherwise disabled, with the reason beside it. */
function updateControls() {
  const offline = !link.online;
  const syncing = !!(last.status && last.status.syncing);
  const noTarget = $('rollback-to').options.length === 0;
  const why = [];
  if (offline) why.push('The agent is offline: nothing can be asked of it until it answers again.');
  else {
    if (syncing) why.push('Sync now: a sync is running.');
    if (noTarget) why.push('Roll back: no earlier good release on this device to return to.');
  }
  $('sync').disabled = offline || syncing;
  $('rollback').disabled = offline || noTarget;
  $('rollback-to').disabled = offline || noTarget;
  $('diff-show').disabled = offline || $('diff-from').options.length === 0;
  for (const b of document.querySelectorAll('#leases button.clear')) b.disabled = offline;
  $('operator-why').textContent = why.join(' ');
  $('operator-why').hidden = why.length === 0;
}

// ---- the running release and its components ----------------------------------------------------

function signerText(cur, mode) {
  if (cur.signer) return 'signed by ' + cur.signer;
  return /^watch /.test(mode) ? 'not signed (watch mode reads the working tree)' : 'signer not recorded';
}

function renderStatus(s) {
  $('device').textContent = s.environment + ' / ' + s.device;
  document.title = s.device + ' · ' + short(s.current && s.current.commit);
  const cur = s.current;
  $('current-commit').textContent = cur ? short(cur.commit) : 'nothing applied yet';
  $('current-subject').textContent = cur && cur.subject ? cur.subject : '';
  const meta = cur
    ? [
        signerText(cur, s.mode),
        cur.committed_at ? stamp(cur.committed_at, 'committed ') : null,
        cur.applied_at ? stamp(cur.applied_at, 'applied ') : null,
      ].filter(Boolean)
    : [s.mode];
  $('current-meta').replaceChildren(...meta.flatMap((m, i) => (i ? [' · ', m] : [m])));
  const lg = s.last_good;
  $('last-good').textContent =
    lg && (!cur || lg.commit !== cur.commit)
      ? 'last good: ' + short(lg.commit) + (lg.subject ? ' ' + lg.subject : '')
      : 'last good: the running release';
  const ls = s.last_sync;
  $('sync-meta').replaceChildren(
    ...(ls ? [stamp(ls.time, 'last sync '), ' (' + ls.result + ', ' + ls.trigger + ')'] : ['no sync yet']),
    ...(s.next_poll ? [' · next poll at ', el('time', { datetime: s.next_poll }, clock(s.next_poll))] : []),
  );
  const e = s.last_error;
  $('last-error').hidden = !e;
  $('last-error').replaceChildren(
    ...(e ? ['last refusal or error (' + e.code + ', ' + short(e.commit) + ', ', stamp(e.time), '): ' + e.reason] : []),
  );
  for (const c of s.components) noteHealth(c.name, c.healthy ? 'healthy' : 'unhealthy', Date.parse(c.since));
  renderComponents(s.components);
  renderExperiments(s.experiments || []);
  renderTuning(s.tuning || []);
  role = s.caller ? s.caller.role : null;
  $('who').textContent = s.caller ? 'you are ' + s.caller.name + ' (' + s.caller.role + ')' : '';
  $('operator').hidden = role !== 'operator';
}

function renderComponents(list) {
  const known = link.online;
  $('components').replaceChildren(
    ...list.map((c) => {
      const state = !known ? 'unknown' : c.healthy ? 'healthy' : 'unhealthy';
      return el(
        'li',
        { class: state, 'data-component': c.name, 'data-state': state },
        el('strong', {}, c.name),
        ' ',
        state,
        !known ? el('div', { class: 'meta' }, 'last seen ' + (c.healthy ? 'healthy' : 'unhealthy')) : null,
        c.reason ? el('div', { class: 'meta' }, c.reason) : null,
        el('div', { class: 'meta' }, stamp(c.since, 'since ')),
      );
    }),
  );
  if (!list.length) $('components').append(el('li', { class: 'meta' }, 'not checked yet'));
}

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
        x.switchback
          ? el('div', { class: 'meta switchback', 'data-phase': x.switchback.phase }, switchbackLine(x.switchback))
          : null,
        x.reason ? el('div', { class: 'meta' }, (x.code ? x.code + ': ' : '') + x.reason) : null,
      ),
    ),
  );
}

/** A switchback experiment's block: its phase (washout: not measured), when the block ends, and the next switch. */
function switchbackLine(b) {
  return (
    'switchback block ' +
    b.block +
    ' (' +
    b.block_hours +
    ' h): ' +
    (b.phase === 'washout' ? 'washout, not measured, until ' + clock(b.washout_end) : 'measured') +
    ' · block ends ' +
    clock(b.block_end) +
    ' · ' +
    (b.next_switch ? 'next switch ' + clock(b.next_switch) : 'no switch ahead')
  );
}

// The device's tuning runs (GET /api/v1/status .tuning): the trial in progress and its candidate,
// the trials run, the last outcome and the method's best candidate so far.
function renderTuning(list) {
  $('tuning').hidden = list.length === 0;
  $('tuning-list').replaceChildren(
    ...list.map((t) =>
      el(
        'li',
        { class: 'tuning', 'data-tuning': t.tuning, 'data-state': t.state },
        el('strong', {}, t.tuning),
        ' ',
        el('span', { class: 'pill' }, t.state),
        ' ',
        el(
          'span',
          { class: 'meta' },
          'on ' + t.model + ' · ' + t.trials + ' trial' + (t.trials === 1 ? '' : 's') + ' run',
        ),
        t.trial
          ? el(
              'div',
              { class: 'trial' },
              'trial in progress: ',
              el('code', {}, t.trial.candidate),
              t.trial.measuring ? ' (measuring)' : ' (settling)',
            )
          : null,
        t.reason ? el('div', { class: 'meta' }, t.reason) : null,
        t.last
          ? el(
              'div',
              { class: 'meta last' },
              'last trial: ',
              el('code', {}, t.last.candidate),
              ' ' + t.last.outcome + (t.last.reason ? ': ' + t.last.reason : ''),
            )
          : null,
        t.best
          ? el(
              'div',
              { class: 'best' },
              'best so far: ',
              el('code', {}, t.best.candidate),
              ' (estimate ' + Number(t.best.estimate.toPrecision(4)) + ')',
            )
          : el('div', { class: 'meta best' }, 'no best candidate yet'),
      ),
    ),
  );
}

// ---- pictures -----------------------------------------------------------------------------------

/** The width to draw at: the container's, so that text keeps its size on a phone. */
const widthOf = (box) => Math.max(260, Math.floor(box.clientWidth || 600));

function picture(box, h, label, ...children) {
  const w = widthOf(box);
  box.replaceChildren(
    sv('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'img', 'aria-label': label }, ...children),
  );
}

/** Evenly spaced time labels along the bottom from t0 to t1. */
function timeAxis(x, t0, t1, y, w) {
  const n = w < 500 ? 3 : 5;
  return Array.from({ length: n }, (_, i) => {
    const t = t0 + ((t1 - t0) * i) / (n - 1);
    return sv(
      'text',
      { x: x(t), y, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' },
      clock(t),
    );
  });
}

const LANES = [
  ['applied', 'applied'],
  ['refused', 'refused'],
  ['rolled-back', 'rolled back'],
];
const LANE_OF = { applied: 0, refused: 1, 'rolled-back': 2, 'rollback-failed': 2 };
const SHAPES = {
  applied: () => sv('circle', { r: 6 }),
  refused: () => sv('path', { d: 'M-5,-5L5,5M5,-5L-5,5' }),
  'rolled-back': () => sv('path', { d: 'M0,-6L6,5L-6,5Z' }),
  'rollback-failed': () => sv('rect', { x: -5, y: -5, width: 10, height: 10 }),
};

/** The journal's applies, refusals and rollbacks on a time line, one lane each. */
function renderTimeline(entries) {
  const box = $('timeline');
  const marks = entries.filter((e) => e.event in LANE_OF && !Number.isNaN(Date.parse(e.time)));
  if (!marks.length)
    return box.replaceChildren(el('p', { class: 'meta' }, 'no applies, refusals or rollbacks in the journal yet'));
  const w = widthOf(box);
  const left = 88;
  const lane = 26;
  const h = 8 + LANES.length * lane + 22;
  const times = marks.map((e) => Date.parse(e.time));
  // from a little before the first to now: close events stay apart, a quiet hour still shows as one
  const t1 = Math.max(Date.now(), ...times);
  const t0 = Math.min(...times) - Math.max(5000, (t1 - Math.min(...times)) * 0.05);
  const x = (t) => left + ((t - t0) / (t1 - t0 || 1)) * (w - left - 12);
  const y = (i) => 8 + i * lane + lane / 2;
  const count = (ev) => marks.filter((e) => LANE_OF[e.event] === LANE_OF[ev]).length;
  picture(
    box,
    h,
    count('applied') +
      ' applied, ' +
      count('refused') +
      ' refused, ' +
      count('rolled-back') +
      ' rolled back between ' +
      clock(t0) +
      ' and ' +
      clock(t1) +
      ' (the journal below lists them)',
    LANES.map(([, name], i) => [
      sv('line', { x1: left, x2: w - 12, y1: y(i), y2: y(i), class: 'grid' }),
      sv('text', { x: 0, y: y(i) + 4, class: 'label' }, name),
    ]),
    marks.map((e) =>
      sv(
        'g',
        {
          class: 'mark ' + e.event,
          'data-event': e.event,
          'data-commit': e.commit || '',
          transform: 'translate(' + x(Date.parse(e.time)).toFixed(1) + ',' + y(LANE_OF[e.event]) + ')',
        },
        sv(
          'title',
          {},
          e.event + ' ' + short(e.commit) + ' at ' + clock(e.time) + (e.subject ? ' “' + e.subject + '”' : ''),
        ),
        SHAPES[e.event](),
      ),
    ),
    timeAxis(x, t0, t1, h - 4, w),
  );
}

/** The journal's recent applies (and refusals and rollbacks) with their steps' timings, stacked. */
function renderSteps(entries) {
  const box = $('steps-chart');
  const runs = entries
    .filter((e) => e.event in LANE_OF && e.steps && typeof e.steps === 'object' && Object.keys(e.steps).length)
    .slice(-6)
    .reverse();
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.steps)))];
  const colour = (name) => 'c' + (names.indexOf(name) % 8);
  $('steps-legend').replaceChildren(
    ...names.map((n) => el('li', {}, el('span', { class: 'swatch ' + colour(n), 'aria-hidden': 'true' }), n)),
  );
  if (!runs.length) return box.replaceChildren(el('p', { class: 'meta' }, 'no timed applies in the journal yet'));
  const w = widthOf(box);
  const left = w < 500 ? 112 : 150;
  const right = 64;
  const row = 24;
  const total = (r) => Object.values(r.steps).reduce((a, b) => a + (Number(b) || 0), 0);
  const most = Math.max(1, ...runs.map(total));
  const scale = (ms) => (Math.max(0, Number(ms) || 0) / most) * (w - left - right);
  picture(
    box,
    runs.length * row + 4,
    'step durations of the last ' + runs.length + ' applies, longest ' + Math.round(most) + ' ms',
    runs.map((r, i) => {
      let at = left;
      const yy = i * row + 4;
      return sv(
        'g',
        { class: 'run ' + r.event, 'data-event': r.event, 'data-commit': r.commit || '' },
        sv('text', { x: 0, y: yy + 14, class: 'label' }, (r.commit || '-').slice(0, 9) + ' ' + r.event),
        Object.entries(r.steps).map(([name, ms]) => {
          const width = scale(ms);
          const seg = sv(
            'rect',
            {
              x: at.toFixed(1),
              y: yy + 3,
              width: width.toFixed(1),
              height: row - 8,
              class: 'seg ' + colour(name),
              'data-step': name,
            },
            sv('title', {}, name + ': ' + ms + ' ms'),
          );
          at += width;
          return seg;
        }),
        sv('text', { x: at + 4, y: yy + 14, class: 'value' }, Math.round(r.ms ?? total(r)) + ' ms'),
      );
    }),
  );
}

// Component health over time: the changes this page has seen (from the status, the journal's
// health changes and the event stream), at most HEALTH_KEEP per component, drawn over the last
// HEALTH_WINDOW_MS. While the agent does not answer, a component's health is unknown.
const HEALTH_WINDOW_MS = 15 * 60 * 1000;
const HEALTH_KEEP = 100;
const healthLog = new Map();

function noteHealth(name, state, t) {
  const log = healthLog.get(name) || [];
  const prev = log[log.length - 1];
  if (prev && prev.state === state) return;
  // what follows an unknown stretch is known from now on; nothing goes back before the last change
  const at = prev ? (prev.state === 'unknown' ? Date.now() : Math.max(t || Date.now(), prev.t)) : t || Date.now();
  log.push({ t: at, state });
  if (log.length > HEALTH_KEEP) log.shift();
  healthLog.set(name, log);
}

function renderHealth() {
  const box = $('health-chart');
  if (!healthLog.size) return box.replaceChildren(el('p', { class: 'meta' }, 'no component checked yet'));
  const w = widthOf(box);
  const left = w < 500 ? 96 : 130;
  const row = 22;
  const now = Date.now();
  const first = Math.min(...[...healthLog.values()].map((log) => log[0].t));
  const t0 = Math.max(now - HEALTH_WINDOW_MS, Math.min(first, now - 60_000));
  const x = (t) => left + ((Math.max(t, t0) - t0) / (now - t0)) * (w - left - 8);
  const names = [...healthLog.keys()];
  const h = names.length * row + 22;
  const unwell = names.filter((n) => healthLog.get(n).at(-1).state !== 'healthy');
  picture(
    box,
    h,
    'health of ' +
      names.length +
      ' components since ' +
      clock(t0) +
      (unwell.length ? '; not healthy now: ' + unwell.join(', ') : '; all healthy now'),
    names.map((name, i) => {
      const log = healthLog.get(name);
      const yy = i * row + 2;
      return sv(
        'g',
        { class: 'row', 'data-component': name },
        sv('text', { x: 0, y: yy + 13, class: 'label' }, name),
        log.map((p, j) => {
          const end = j + 1 < log.length ? log[j + 1].t : now;
          if (end < t0) return null;
          return sv(
            'rect',
            {
              x: x(p.t).toFixed(1),
              y: yy + 2,
              width: Math.max(1, x(end) - x(p.t)).toFixed(1),
              height: row - 6,
              class: p.state,
            },
            sv(
              'title',
              {},
              name + ' ' + p.state + ' from ' + clock(p.t) + (j + 1 < log.length ? ' to ' + clock(end) : ''),
            ),
          );
        }),
      );
    }),
    timeAxis(x, t0, now, h - 4, w),
  );
}

// ---- leases, the load governor --------------------------------------------------------------------

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

const activeLeases = (t) => {
  const now = agentNow();
  return ((t && t.leases) || []).filter((l) => Date.parse(l.start) <= now && now < Date.parse(l.expires));
};

/** The leases in force as bars: the whole lease, and the part of it still to run. */
function renderLeaseChart() {
  const box = $('lease-chart');
  const active = activeLeases(last.tunables);
  box.hidden = active.length === 0;
  if (!active.length) return box.replaceChildren();
  const w = widthOf(box);
  const right = 86;
  const row = 36;
  const now = agentNow();
  picture(
    box,
    active.length * row,
    active.length +
      ' lease' +
      (active.length === 1 ? '' : 's') +
      ' in force: ' +
      active.map((l) => l.path + ' ' + left(l.expires)).join(', '),
    active.map((l, i) => {
      const whole = Date.parse(l.expires) - Date.parse(l.start);
      const rest = Math.max(0, Math.min(1, (Date.parse(l.expires) - now) / (whole || 1)));
      const yy = i * row;
      return sv(
        'g',
        { class: 'lease-bar ' + l.owner, 'data-path': l.path, 'data-owner': l.owner },
        sv(
          'text',
          { x: 0, y: yy + 12, class: 'label' },
          l.path + ' = ' + JSON.stringify(l.value) + ' (' + l.owner + ')',
        ),
        sv('rect', { x: 0, y: yy + 17, width: w - right, height: 10, class: 'track' }),
        sv('rect', { x: 0, y: yy + 17, width: ((w - right) * rest).toFixed(1), height: 10, class: 'rest' }),
        sv('text', { x: w - right + 6, y: yy + 26, class: 'value' }, left(l.expires)),
      );
    }),
  );
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
  const active = activeLeases(t);
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
        el(
          'div',
          { class: 'meta' },
          el('span', { class: 'remaining', 'data-expires': l.expires }, left(l.expires)),
          ' · until ',
          el('time', { datetime: l.expires }, clock(l.expires)),
        ),
        l.owner === 'operator' && role === 'operator'
          ? el(
              'button',
              { type: 'button', class: 'clear', 'data-clear': l.path },
              'Clear ',
              el('span', { class: 'sr' }, l.path),
            )
          : null,
      );
    }),
  );
  if (!active.length) $('leases').append(el('li', { class: 'meta' }, 'no leases: the signed configuration runs'));
  renderLeaseChart();
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
        s.since ? [' ', stamp(s.since, 'since ')] : '',
        el('div', { class: 'meta' }, 'enter above ' + s.enter_above + ', exit below ' + s.exit_below),
      ),
    ),
  );
  const m = g.last_transition;
  $('governor-moves').replaceChildren(
    ...(m ? ['last move ' + m.from + ' → ' + m.to + ' ', stamp(m.at), ': ' + m.reason + ' · '] : []),
    g.transitions_last_hour +
      ' move' +
      (g.transitions_last_hour === 1 ? '' : 's') +
      ' in the last hour (at most ' +
      g.max_transitions_per_hour +
      ')',
  );
}

// once a second: relative times, remaining times and the banner's countdown move on; a lease that
// runs out asks for a refresh (the agent removes it within a tick)
function tick() {
  for (const e of document.querySelectorAll('time.ago'))
    e.textContent = e.dataset.prefix + ago(e.getAttribute('datetime')) + ' (' + clock(e.getAttribute('datetime')) + ')';
  let ran = false;
  for (const e of document.querySelectorAll('#leases .remaining')) {
    const text = left(e.dataset.expires);
    if (text === 'expired' && e.textContent !== 'expired') ran = true;
    e.textContent = text;
  }
  renderLeaseChart();
  renderHealth();
  paintLink();
  if (ran && link.online) void refresh();
}

// ---- journal, releases, diff --------------------------------------------------------------------

function renderJournal(entries) {
  $('journal').replaceChildren(
    ...entries
      .slice(-30)
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
          e.signer ? ' signed by ' + e.signer : null,
          ' ',
          el('span', { class: 'meta' }, stamp(e.time)),
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

// ---- reading the agent --------------------------------------------------------------------------

function renderAll() {
  renderStatus(last.status);
  renderJournal(last.journal);
  renderTimeline(last.journal);
  renderSteps(last.journal);
  renderHealth();
  renderReleases(last.releases);
  renderRuntime(last.tunables);
  updateControls();
}

// One refresh at a time; an event that arrives during one asks for another after it, so the
// page never stays on an answer read before the event.
let refreshing = null;
let again = false;
let seeded = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [s, j, r, t] = await Promise.all([
        api('GET', '/api/v1/status'),
        api('GET', '/api/v1/journal?limit=200'),
        api('GET', '/api/v1/releases'),
        // an agent without runtime layers (or a token that may not see them): no panel
        api('GET', '/api/v1/tunables').catch((e) => (e.status ? null : Promise.reject(e))),
      ]);
      if (!seeded) {
        // the journal's health changes are what happened before this page was opened
        seeded = true;
        for (const e of j)
          if (e.event === 'health-changed' && e.component)
            noteHealth(e.component, e.healthy ? 'healthy' : 'unhealthy', Date.parse(e.time));
      }
      last = { status: s, journal: j, releases: r, tunables: t };
      link.asOf = Date.now();
      setOnline(true);
      renderAll();
    } catch (e) {
      // no answer at all (the agent is down, the network gone) is offline, not an error message
      if (!e.status) {
        setOnline(false);
        // the stream is up, so no event may come to ask again: ask again soon
        if (link.streaming) setTimeout(() => void refresh(), 2000);
      } else
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

// Reconnecting: exponential backoff from 1 s, capped at 15 s, each wait drawn from its upper half
// (jitter: many tabs do not knock at once when the agent comes back).
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_CAP_MS = 15_000;
const backoff = (attempt) => {
  const d = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(d / 2 + (Math.random() * d) / 2);
};
// a stream that says nothing for this long is dead (the agent writes a keep-alive every 15 s)
const SILENT_MS = 40_000;
let wake = () => undefined;

function onEvent(type, data) {
  // while this tab's own request runs, its answer says what happened
  if (type === 'sync-started' && acting === 0) say('syncing…');
  if (type === 'refused' || type === 'rolled-back' || type === 'applied' || type === 'sync-failed')
    say(
      type + ' ' + short(data.to || data.commit) + (data.reason ? ': ' + String(data.reason).split('\n')[0] : ''),
      type !== 'applied',
    );
  // a sync that came to nothing new (an applied, refused or rolled-back one says so above)
  if (type === 'sync-finished' && acting === 0)
    say('sync: ' + (data.result || 'no change') + (data.detail ? ' (' + data.detail + ')' : ''));
  if (type === 'health-changed' && data.component)
    noteHealth(data.component, data.healthy ? 'healthy' : 'unhealthy', Date.parse(data.time));
  void refresh();
}

async function listen() {
  for (let attempt = 0; ; attempt++) {
    const stop = new AbortController();
    let silent = setTimeout(() => stop.abort(), SILENT_MS);
    // an error answer (a wrong token, too many streams) comes from an agent that is there
    let refusedBy = null;
    try {
      const r = await fetch('/api/v1/events', { headers: headers(), signal: stop.signal });
      if (!r.ok || !r.body) throw (refusedBy = new Error('HTTP ' + r.status));
      link.streaming = true;
      attempt = -1;
      paintLink();
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(silent);
        silent = setTimeout(() => stop.abort(), SILENT_MS);
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = (/^event: (.*)$/m.exec(block) || [])[1];
          if (!type) continue;
          let data = {};
          try {
            data = JSON.parse((/^data: (.*)$/m.exec(block) || [])[1] || '{}');
          } catch {
            // an event without JSON data still asks for a refresh
          }
          onEvent(type, data);
        }
      }
    } catch {
      // the agent stopped, restarted or the network dropped: try again with backoff
    } finally {
      clearTimeout(silent);
    }
    link.streaming = false;
    if (refusedBy) paintLink();
    else setOnline(false);
    const wait = backoff(Math.max(0, attempt));
    link.retryAt = Date.now() + wait;
    tick();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, wait);
      wake = () => (clearTimeout(timer), resolve());
    });
    link.retryAt = null;
  }
}

let acting = 0;
async function act(button, method, path, body, done) {
  button.disabled = true;
  acting++;
  try {
    done(await api(method, path, body));
  } catch (e) {
    say(e.message + (e.hint ? ' (' + e.hint + ')' : ''), true);
  } finally {
    acting--;
    await refresh();
    updateControls();
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
  $('reconnect').addEventListener('click', () => wake());
  $('leases').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-clear]');
    if (!button) return;
    const path = button.dataset.clear;
    if (!confirm('Clear the operator lease on ' + path + '? The layers below it take over again.')) return;
    void act(button, 'DELETE', '/api/v1/tunables/' + encodeURIComponent(path), null, (r) =>
      say('cleared ' + path + ': it runs ' + JSON.stringify(r.value) + ' (' + r.winner + ')'),
    );
  });
  setInterval(tick, 1000);
  let resized = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resized);
    resized = setTimeout(() => last.status && renderAll(), 150);
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('token', $('token').value.trim());
    $('token').value = '';
    say('token saved for this tab');
    void refresh();
  });
  updateControls();
  void refresh();
  void listen();
});
