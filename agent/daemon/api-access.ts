// Who may do what on the local API: bearer tokens with roles, loopback reads without a token
// when the settings allow it, a Host check against DNS rebinding, a rate limit on mutating
// requests, caps on connections and event streams, and every refusal as JSON {code, message, hint}.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { allows, findToken } from '../core/contracts/tokens.js';
import type { Role, TokenEntry } from '../core/contracts/tokens.js';
import type { Caller, ErrorAnswer } from '../core/contracts/api.js';
import { GitopsError, httpStatusOf } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';

/** A JSON error, through the redactor like every other answer; its HTTP status is the code's (ERROR_CODES). */
export function problem(
  c: Context,
  code: ErrorCode,
  message: string,
  hint: string,
  headers: Record<string, string> = {},
): Response {
  return answerError(c, { code, message, hint }, headers);
}

/** The redactor every answer passes (set on each request by the API's first middleware). */
export const REDACT = 'redact';
export type Redact = (text: string) => string;

/** The request's redactor; an answer is never sent unredacted. */
export function redactorOf(c: Context): Redact {
  const redact = c.get(REDACT) as Redact | undefined;
  if (!redact) throw new Error('the API answered before its redactor was set');
  return redact;
}

function answerError(c: Context, body: ErrorAnswer, headers: Record<string, string> = {}): Response {
  return c.body(redactorOf(c)(JSON.stringify(body)), httpStatusOf(body.code), {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
  });
}

/** The error answer of a GitopsError: its code, message and hint, and the findings a refusal rests on. */
export function errorAnswer(e: GitopsError): ErrorAnswer {
  return {
    code: e.code,
    message: e.message,
    hint: e.hint ?? '',
    ...(e.diagnostics?.length ? { diagnostics: e.diagnostics } : {}),
  };
}

export function errorResponse(c: Context, e: unknown, log: (line: string) => void): Response {
  if (e instanceof GitopsError) return answerError(c, errorAnswer(e));
  log(`API internal error on ${c.req.method} ${c.req.path}: ${(e as Error).message}`);
  return problem(c, 'internal', 'internal error', 'the agent log has the details');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export interface AccessOptions {
  tokens: () => readonly TokenEntry[];
  allowLoopbackReads: boolean;
}

export type { Caller } from '../core/contracts/api.js';

/** Host names a browser may use to reach the API: IP literals, localhost, this machine's name. */
export function hostAllowed(host: string | undefined): boolean {
  if (!host) return true; // HTTP/1.0 clients; browsers always send Host
  const name = host
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  const me = hostname().toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || name === me || name === `${me}.local`;
}

/** Sets `caller` on the context, or answers 401/403/421. `needed` is the role the route requires. */
export function access(
  options: AccessOptions,
  needed: (c: Context) => Role | null,
): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  return async (c, next) => {
    if (!hostAllowed(c.req.header('host')))
      return problem(
        c,
        'bad-host',
        `this agent does not answer to the host name "${c.req.header('host')}"`,
        "use the device's IP address or localhost",
      );
    const role = needed(c);
    if (role === null) return next(); // public: health, readiness, the page's static shell
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const entry = m ? findToken(options.tokens(), m[1]!) : undefined;
      if (!entry)
        return problem(
          c,
          'bad-token',
          'the bearer token is not valid',
          'check the token; an operator can make a new one with gitops agent token add',
          { 'www-authenticate': 'Bearer error="invalid_token"' },
        );
      if (!allows(entry.role, role))
        return problem(
          c,
          'forbidden',
          `the token "${entry.name}" has the role ${entry.role}; this needs ${role}`,
          'ask for an operator token',
        );
      c.set('caller', { role: entry.role, name: entry.name });
      return next();
    }
    const address = getConnInfo(c).remote.address ?? '';
    if (role === 'viewer' && options.allowLoopbackReads && LOOPBACK.test(address)) {
      c.set('caller', { role: 'viewer', name: 'loopback' });
      return next();
    }
    return problem(
      c,
      'no-token',
      `${c.req.method} ${c.req.path} needs a bearer token with the role ${role}`,
      'send Authorization: Bearer <token> (gitops agent token add makes one)',
      { 'www-authenticate': 'Bearer' },
    );
  };
}

/**
 * A token bucket per caller for mutating requests: `burst` at once, then `perMinute`.
 * Callers are told when to come back (Retry-After). `monotonic` is the clock port's monotonic
 * time (milliseconds).
 */
export function rateLimit(
  perMinute: number,
  burst: number,
  monotonic: () => number,
): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const key = c.get('caller')?.name ?? getConnInfo(c).remote.address ?? '?';
    const now = monotonic(); // a clock set back never locks a caller out
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 60_000) * perMinute);
    b.at = now;
    buckets.set(key, b);
    if (b.tokens < 1) {
      const wait = Math.ceil(((1 - b.tokens) * 60) / perMinute);
      return problem(
        c,
        'rate-limited',
        `too many requests from ${key}: at most ${perMinute} a minute (${burst} at once)`,
        `try again in ${wait} s`,
        { 'retry-after': String(wait) },
      );
    }
    b.tokens -= 1;
    return next();
  };
}

/** How many connections and event streams the API holds at once. */
export interface ConnectionLimits {
  /** Connections open at once, every client together. */
  total: number;
  /** Connections open at once from one address. */
  perClient: number;
  /** Connections beyond the caps held just long enough to answer 503 (at most 2 s each); beyond these, closed at once. */
  refusing: number;
  /** Event streams open at once, every client together. */
  streams: number;
  /** Event streams open at once for one caller (token name, or loopback) from one address. */
  streamsPerClient: number;
}

/**
 * Caps that leave the agent enough of its `openFiles` limit (the unit sets 4096) for its own
 * work (git, releases, the journal, probes), whatever clients do: half of what is left after 64,
 * and never more than 512 connections.
 */
export function connectionLimits(openFiles: number | undefined): ConnectionLimits {
  const total = Math.max(16, Math.min(512, Math.floor(((openFiles ?? 4096) - 64) / 2)));
  return {
    total,
    perClient: Math.min(64, total),
    refusing: Math.max(8, Math.floor(total / 8)),
    streams: Math.min(32, Math.floor(total / 2)),
    streamsPerClient: 8,
  };
}

const REFUSE_WITHIN_MS = 2000;

/**
 * Counts the server's connections per client address. A connection beyond `total` or
 * `perClient` is answered 503 (too-many-connections) on its first request and closed, or
 * closed after 2 s without one; beyond `refusing` such connections it is closed at once.
 * Requests go to `listener` unless their connection was refused.
 */
export function capConnections(
  server: Server,
  limits: ConnectionLimits,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  log: (line: string) => void,
  monotonic: () => number,
): { open: () => number } {
  const byClient = new Map<string, number>();
  const refused = new WeakSet<Socket>();
  let open = 0;
  let refusing = 0;
  let lastLog = 0;
  let unlogged = 0;
  const note = (client: string): void => {
    unlogged++;
    const now = monotonic();
    if (now - lastLog < 60_000) return;
    log(
      `API: refusing connections (${unlogged} since the last note; ${open} open, at most ${limits.total}, ` +
        `${limits.perClient} from one address; ${client} holds ${byClient.get(client) ?? 0})`,
    );
    lastLog = now;
    unlogged = 0;
  };
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '?';
    const mine = byClient.get(client) ?? 0;
    if (open < limits.total && mine < limits.perClient) {
      open++;
      byClient.set(client, mine + 1);
      socket.once('close', () => {
        open--;
        const left = (byClient.get(client) ?? 1) - 1;
        if (left > 0) byClient.set(client, left);
        else byClient.delete(client);
      });
      return;
    }
    note(client);
    if (refusing >= limits.refusing) {
      socket.destroy();
      return;
    }
    refusing++;
    refused.add(socket);
    const timer = setTimeout(() => socket.destroy(), REFUSE_WITHIN_MS);
    timer.unref();
    socket.once('close', () => {
      refusing--;
      clearTimeout(timer);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!refused.has(req.socket)) return listener(req, res);
    const answer: ErrorAnswer = {
      code: 'too-many-connections',
      message: `the agent holds as many connections as it takes (${limits.total} in all, ${limits.perClient} from one address)`,
      hint: 'close idle connections and try again',
    };
    const body = JSON.stringify(answer);
    res.writeHead(httpStatusOf(answer.code), {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': '5',
      connection: 'close',
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  return { open: () => open };
}

/** Counts event streams per caller and address; `take` answers whether one more may open, and a release function when it may. */
export function streamCaps(limits: ConnectionLimits): {
  take: (key: string) => (() => void) | undefined;
  open: () => number;
} {
  const byKey = new Map<string, number>();
  let open = 0;
  return {
    open: () => open,
    take: (key) => {
      const mine = byKey.get(key) ?? 0;
      if (open >= limits.streams || mine >= limits.streamsPerClient) return undefined;
      open++;
      byKey.set(key, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = (byKey.get(key) ?? 1) - 1;
        if (left > 0) byKey.set(key, left);
        else byKey.delete(key);
      };
    },
  };
}
