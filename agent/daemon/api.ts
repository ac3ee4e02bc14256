// The agent's local HTTP API (127.0.0.1:8420 by default) and its status page: health and
// readiness, status, configuration (secrets redacted), journal, releases, the diff between two
// releases, sync now, rollback, server-sent events and Prometheus metrics. Access is decided in
// api-access.ts; every answer is JSON {code, message, hint} on error and passes the redactor.

import { getRequestListener } from '@hono/node-server';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { releaseDiff } from '../core/change/release-diff.js';
import type {
  ConfigAnswer,
  DiffAnswer,
  HardwareProbeAnswer,
  GovernorView,
  HealthzAnswer,
  JournalAnswer,
  LeaseAnswer,
  ReadyzAnswer,
  ReleaseRef,
  ReleasesAnswer,
  RollbackAnswer,
  StatusAnswer,
  ExperimentStatus,
  SyncAnswer,
  TuningStatus,
  TunablesAnswer,
} from '../core/contracts/api.js';
import { parseTtl } from '../core/tunables/ttl.js';
import type { LeaseRequest } from './leases.js';
import type { Role, TokenEntry } from '../core/contracts/tokens.js';
import { GitopsError } from '../core/errors.js';
import { parseDotted } from '../core/json/pointer.js';
import { getAt } from '../core/json/value.js';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  access,
  capConnections,
  connectionLimits,
  errorResponse,
  problem,
  rateLimit,
  streamCaps,
  REDACT,
  redactorOf,
} from './api-access.js';
import type { Caller, ConnectionLimits, Redact } from './api-access.js';
import type { Daemon } from './main.js';
import { REDACTED_VIEW } from './releases.js';
import type { Hardware } from './hardware.js';
import { AgentMetrics } from './metrics.js';
import type { Runner } from './runner.js';
import { openFileLimit } from '../io/open-files.js';
import { readPageAssets } from '../io/page-assets.js';
import { PACKAGE_ROOT } from './settings.js';

/** What the API reads and asks of the running agent. */
export type ApiDaemon = Pick<
  Daemon,
  'state' | 'releases' | 'journal' | 'events' | 'health' | 'rollback' | 'runtime' | 'clock' | 'redact'
>;

export interface ApiOptions {
  daemon: ApiDaemon;
  runner: Runner;
  identity: { environment: string; device: string; mode: string };
  tokens: () => readonly TokenEntry[];
  allowLoopbackReads: boolean;
  hardware?: Hardware;
  /** The load governor's state, when the release runs one. */
  governor?: () => GovernorView | null;
  /** The device's experiments (experiments.ts). */
  experiments?: () => ExperimentStatus[];
  /** The running components' figures (`<component>.<figure>`), for the metrics. */
  figures?: () => Promise<Record<string, number>>;
  /** The device's tuning runs (tuner.ts). */
  tuning?: () => TuningStatus[];
  /** Verifies a commit again before an operator's rollback to it (remote mode). */
  verify?: (commit: string) => Promise<string | undefined>;
  log?: (line: string) => void;
  /** Mutating requests a caller may make per minute, and at once. */
  rate?: { perMinute: number; burst: number };
  /** Largest request body accepted, in bytes. */
  maxBody?: number;
  /** Connections and event streams held at once (default: from the open-file limit). */
  limits?: ConnectionLimits;
}

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

type Env = { Variables: { caller: Caller; [REDACT]: Redact } };

const PUBLIC = new Set(['/healthz', '/readyz', '/', '/app.js', '/app.css', '/favicon.ico']);

function send(c: Context, body: unknown, status: 200 | 503 = 200): Response {
  return c.body(redactorOf(c)(JSON.stringify(body)), status, { 'content-type': 'application/json; charset=utf-8' });
}

/** The request body as JSON (an empty body is {}), or a 400 that says what is wrong. */
async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new GitopsError(
      'bad-request',
      `the request body is not valid JSON: ${(e as Error).message}`,
      'send a JSON object, e.g. {"to":"previous","reason":"..."}',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GitopsError('bad-request', 'the request body must be a JSON object', 'e.g. {"to":"previous"}');
  return value as Record<string, unknown>;
}

export function buildApi(o: ApiOptions): {
  app: Hono<Env>;
  metrics: AgentMetrics;
  streams: () => number;
  limits: ConnectionLimits;
} {
  const { daemon, runner, identity } = o;
  const { releases, events, health, journal } = daemon;
  const state = (): ApiDaemon['state']['state'] => daemon.state.state;
  const log = o.log ?? (() => undefined);
  const limits = o.limits ?? connectionLimits(openFileLimit());
  const streams = streamCaps(limits);
  const metrics = new AgentMetrics(daemon, identity, streams.open, o.governor, o.experiments, o.figures);
  const describe = (id: string): ReleaseRef => (releases.has(id) ? releases.describe(id) : { commit: id });
  const app = new Hono<Env>();
  // first: every answer, an error included, passes the daemon's redactor
  app.use('*', async (c, next) => {
    c.set(REDACT, daemon.redact);
    await next();
  });
  app.onError((e, c) => errorResponse(c, e, log));
  app.notFound((c) =>
    problem(
      c,
      'not-found',
      `no such endpoint: ${c.req.method} ${c.req.path.slice(0, 200)}`,
      'GET /api/v1/status, /api/v1/config, /api/v1/tunables, /api/v1/journal, /api/v1/releases, /api/v1/diff, /api/v1/events, /metrics; ' +
        'POST /api/v1/sync, /api/v1/rollback; PUT and DELETE /api/v1/tunables/{path}',
    ),
  );
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
      crossOriginResourcePolicy: 'same-origin',
      referrerPolicy: 'no-referrer',
      strictTransportSecurity: false,
      xFrameOptions: 'DENY',
    }),
  );
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });
  app.use(
    access({ tokens: o.tokens, allowLoopbackReads: o.allowLoopbackReads }, (c): Role | null =>
      PUBLIC.has(c.req.path) && c.req.method === 'GET'
        ? null
        : c.req.method === 'GET' || c.req.method === 'HEAD'
          ? 'viewer'
          : 'operator',
    ),
  );
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '*',
    rateLimit(o.rate?.perMinute ?? 30, o.rate?.burst ?? 10, () => daemon.clock.monotonic()),
  );
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '*',
    bodyLimit({
      maxSize: o.maxBody ?? 4096,
      onError: (c) =>
        problem(
          c,
          'body-too-large',
          `the request body is larger than ${o.maxBody ?? 4096} bytes`,
          'send only {"to": ..., "reason": ...}',
        ),
    }),
  );

  app.get('/healthz', (c) => c.json({ ok: true } satisfies HealthzAnswer));
  app.get('/readyz', (c) => {
    const current = releases.current();
    const sick = [...health.health].filter(([, h]) => !h.healthy);
    if (!current)
      return send(c, { ready: false, reason: 'no release has been applied yet' } satisfies ReadyzAnswer, 503);
    if (sick.length > 0)
      return send(
        c,
        {
          ready: false,
          commit: current,
          reason: sick.map(([n, h]) => `${n}: ${h.reason ?? 'unhealthy'}`).join('; '),
        } satisfies ReadyzAnswer,
        503,
      );
    return send(c, { ready: true, commit: current } satisfies ReadyzAnswer);
  });
  const page = readPageAssets(PACKAGE_ROOT);
  app.get('/', (c) => c.html(page.html));
  app.get('/app.js', (c) =>
    c.body(page.js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  app.get('/app.css', (c) =>
    c.body(page.css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/api/v1/status', (c) => {
    const s = state();
    const id = releases.current();
    return send(c, {
      ...identity,
      current: id ? { ...describe(id), applied_at: s.applied === id ? s.applied_at : null } : null,
      last_good: s.last_good ? describe(s.last_good) : null,
      components: [...health.health].map(([name, h]) => ({ name, ...h })),
      syncing: runner.busy,
      last_sync: s.last_sync,
      last_error: s.last_error,
      next_poll: runner.nextPollAt,
      caller: c.get('caller'),
      state: s,
      experiments: o.experiments?.() ?? [],
      tuning: o.tuning?.() ?? [],
    } satisfies StatusAnswer);
  });
  app.get('/api/v1/config', (c) => {
    const id = releases.find(c.req.query('release') ?? 'current');
    // what runs is the signed configuration with the leases in force; another release is shown as signed
    const running = id === releases.current();
    const config = running ? daemon.runtime.effective(id, REDACTED_VIEW) : releases.config(id, REDACTED_VIEW);
    const path = c.req.query('path');
    const explain = ['1', 'true'].includes(c.req.query('explain') ?? '');
    const layers = (): TunablesAnswer['tunables'] =>
      running ? daemon.runtime.view().tunables.filter((t) => !path || t.path === path) : [];
    if (path === undefined || path === '')
      return send(c, { commit: id, config, ...(explain ? { explain: layers() } : {}) } satisfies ConfigAnswer);
    const segments = parseDotted(path);
    if (!segments)
      throw new GitopsError(
        'bad-path',
        `"${path.slice(0, 80)}" is not a configuration path`,
        'a dotted path such as frame_capture.fps or detectors[0].model',
      );
    const value = getAt(config, segments);
    if (value === undefined)
      throw new GitopsError(
        'no-such-path',
        `${path} is not set in release ${id.slice(0, 12)}`,
        'GET /api/v1/config without ?path= shows the whole configuration',
      );
    return send(c, { commit: id, path, value, ...(explain ? { explain: layers() } : {}) } satisfies ConfigAnswer);
  });
  app.get('/api/v1/journal', (c) => {
    const raw = c.req.query('limit') ?? '100';
    const limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new GitopsError(
        'bad-request',
        `limit must be a whole number from 1 to 10000, not "${raw.slice(0, 20)}"`,
        'e.g. ?limit=50',
      );
    const event = c.req.query('event');
    const entries: JournalAnswer = journal.entries(limit, event ? (e) => e.event === event : undefined);
    return send(c, entries);
  });
  app.get('/api/v1/releases', (c) => send(c, releases.list() satisfies ReleasesAnswer));
  app.get('/api/v1/diff', (c) => {
    const to = releases.find(c.req.query('to') ?? 'current');
    const from = releases.find(c.req.query('from') ?? (to === releases.current() ? 'previous' : 'current'));
    const view = (id: string) => ({
      config: releases.config(id),
      redacted: releases.config(id, REDACTED_VIEW),
    });
    return send(c, {
      from: describe(from),
      to: describe(to),
      changes: releaseDiff(view(from), view(to)),
    } satisfies DiffAnswer);
  });
  app.get('/api/v1/events', (c) => {
    const release = streams.take(`${c.get('caller').name}@${getConnInfo(c).remote.address ?? '?'}`);
    if (!release)
      return problem(
        c,
        'too-many-streams',
        `the agent serves at most ${limits.streams} event streams, ${limits.streamsPerClient} to one caller from one address`,
        'close another stream (a status page tab) and try again',
        { 'retry-after': '10' },
      );
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let closed = false;
      let wake = (): void => undefined;
      const write = (e: { id: number; type: string }): Promise<void> =>
        stream.writeSSE({ id: String(e.id), event: e.type, data: daemon.redact(JSON.stringify(e)) });
      const unsubscribe = events.subscribe((e) => void write(e).catch(() => undefined));
      // a closed stream lets go of everything at once, its keep-alive timer too (no 15 s wait at exit)
      const end = (): void => {
        closed = true;
        unsubscribe();
        release();
        wake();
      };
      stream.onAbort(end);
      try {
        await stream.writeSSE({
          event: 'hello',
          data: JSON.stringify({ ...identity, current: releases.current() ?? null }),
          retry: 2000,
        });
        const last = Number(c.req.header('last-event-id') ?? 0);
        if (last > 0) for (const e of events.since(last)) await write(e);
        while (!closed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 15_000);
            wake = () => (clearTimeout(timer), resolve());
          });
          if (!closed) await stream.write(': keep-alive\n\n');
        }
      } finally {
        end();
      }
    });
  });
  app.get('/metrics', async (c) => c.body(await metrics.text(), 200, { 'content-type': metrics.registry.contentType }));

  app.post('/api/v1/sync', async (c) => {
    await jsonBody(c);
    const result = await runner.trigger(`api (${c.get('caller').name})`);
    const answer: SyncAnswer = result ?? {
      outcome: 'no-change',
      state: state().last_sync,
      error: state().last_sync?.result === 'failed' ? state().last_error : null,
    };
    return send(c, answer);
  });
  app.post('/api/v1/rollback', async (c) => {
    const body = await jsonBody(c);
    const to = body.to ?? 'previous';
    if (typeof to !== 'string')
      throw new GitopsError(
        'bad-request',
        '"to" must be a string: "previous", "last_good" or a commit id',
        'e.g. {"to":"previous","reason":"detector crashes"}',
      );
    if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 500))
      throw new GitopsError(
        'bad-request',
        '"reason" must be a string of at most 500 characters',
        'say why, for the journal',
      );
    const by = c.get('caller').name;
    const result = await runner.exclusive(() =>
      daemon.rollback.run(to, {
        by,
        ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
        ...(o.verify ? { verify: o.verify } : {}),
      }),
    );
    return send(c, result satisfies RollbackAnswer);
  });
  app.get('/api/v1/tunables', (c) =>
    send(c, { ...daemon.runtime.view(), governor: o.governor?.() ?? null } satisfies TunablesAnswer),
  );
  const leasePath = (c: Context): string => {
    const path = c.req.param('path') ?? '';
    if (!/^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*)+$/.test(path))
      throw new GitopsError(
        'bad-path',
        `"${path.slice(0, 80)}" is not the dotted path of a configuration field`,
        'e.g. PUT /api/v1/tunables/frame_capture.fps; GET /api/v1/tunables lists the tunable fields',
      );
    return path;
  };
  const leaseChange = async (c: Context, request: LeaseRequest): Promise<Response> => {
    const [answer] = await runner.exclusive(() => daemon.runtime.change([request], `api (${request.actor})`));
    return send(c, answer! satisfies LeaseAnswer);
  };
  app.put('/api/v1/tunables/:path', async (c) => {
    const path = leasePath(c);
    const body = await jsonBody(c);
    const example = 'e.g. {"value": 10, "ttl": "30m", "reason": "night: fewer false alarms"}';
    const { value, reason } = body;
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw new GitopsError('bad-request', '"value" must be a number, a string or a boolean', example);
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500)
      throw new GitopsError('bad-request', '"reason" must say why, in at most 500 characters', example);
    let ttlSeconds: number | undefined;
    if (body.ttl !== undefined) {
      ttlSeconds = typeof body.ttl === 'string' || typeof body.ttl === 'number' ? parseTtl(body.ttl) : undefined;
      if (ttlSeconds === undefined)
        throw new GitopsError(
          'bad-request',
          `"ttl" ${JSON.stringify(body.ttl).slice(0, 40)} is not a duration`,
          'give seconds or a duration such as "90s", "30m", "2h"; leave it out for the field\'s default',
        );
    }
    return leaseChange(c, {
      kind: 'set',
      path,
      value: value as string | number | boolean,
      owner: 'operator',
      actor: c.get('caller').name,
      reason: reason.trim(),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    });
  });
  app.delete('/api/v1/tunables/:path', (c) =>
    leaseChange(c, { kind: 'clear', path: leasePath(c), owner: 'operator', actor: c.get('caller').name }),
  );
  app.post('/api/v1/hardware/probe', async (c) => {
    if (!o.hardware)
      throw new GitopsError(
        'bad-request',
        'this agent validates against a recorded hardware profile; there is nothing to probe',
        'remove hardware_profile_file from agent.yaml to probe the device',
      );
    o.hardware.invalidate(`asked through the API by ${c.get('caller').name}`);
    return send(c, (await o.hardware.profile()) satisfies HardwareProbeAnswer);
  });
  app.all('/api/v1/sync', (c) =>
    problem(c, 'method-not-allowed', 'use POST', 'curl -X POST -H "Authorization: Bearer $TOKEN" .../api/v1/sync'),
  );
  app.all('/api/v1/rollback', (c) => problem(c, 'method-not-allowed', 'use POST', 'POST {"to":"previous"}'));
  return { app, metrics, streams: streams.open, limits };
}

export async function startApi(o: ApiOptions, listen: string): Promise<Listening> {
  const [host, portText] = listen.includes(':')
    ? [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)]
    : ['127.0.0.1', listen];
  const { app, limits } = buildApi(o);
  const server = createServer();
  const listener = getRequestListener(app.fetch);
  capConnections(
    server,
    limits,
    (req, res) => void listener(req, res),
    o.log ?? (() => undefined),
    () => o.daemon.clock.monotonic(),
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new GitopsError(
          'api-listen',
          `the API cannot listen on ${listen}: ${e.code ?? e.message}`,
          e.code === 'EADDRINUSE'
            ? 'another agent (or program) uses that port; set api.listen or --listen'
            : 'check api.listen',
        ),
      ),
    );
    server.listen(Number(portText), host.replace(/^\[(.*)\]$/, '$1'), resolve);
  });
  o.log?.(
    `API: at most ${limits.total} connections (${limits.perClient} from one address) and ` +
      `${limits.streams} event streams (${limits.streamsPerClient} for one caller); more are answered 503`,
  );
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
