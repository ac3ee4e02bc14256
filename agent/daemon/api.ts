// The agent's local HTTP listener (127.0.0.1 by default): health, status, journal, and
// "sync now". The operator API with tokens and roles, the status page and metrics build on it.

import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redact } from '../io/redactor.js';
import type { Agent } from './agent.js';
import type { Hardware } from './hardware.js';
import type { Runner } from './runner.js';

export interface Listening {
  url: string;
  server: Server;
}

export async function startApi(agent: Agent, runner: Runner, listen: string, identity: { environment: string; device: string; mode: string }, hardware?: Hardware): Promise<Listening> {
  const [host, portText] = listen.includes(':') ? [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)] : ['127.0.0.1', listen];
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = redact(JSON.stringify(body, null, 2));
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(text + '\n');
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    req.resume();
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/api/v1/status') {
      const current = agent.store.current();
      const manifest = current ? (JSON.parse(agent.store.readRelease(current, 'release.json')) as Record<string, unknown>) : null;
      return send(res, 200, { ...identity, current: current ? { commit: current, ...manifest } : null, state: agent.state, next_poll: runner.nextPollAt });
    }
    if (url.pathname === '/api/v1/hardware/probe' && req.method === 'POST' && hardware) {
      hardware.invalidate('asked through the API');
      void hardware.profile().then((p) => send(res, 200, p), (e: Error) => send(res, 500, { code: 'probe-failed', message: e.message }));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/journal') return send(res, 200, agent.store.journal(Number(url.searchParams.get('limit') ?? 100)));
    if (url.pathname === '/api/v1/sync') {
      if (req.method !== 'POST') return send(res, 405, { code: 'method-not-allowed', message: 'use POST', hint: 'curl -X POST .../api/v1/sync' });
      void runner.trigger('api').then(
        (result) => send(res, 200, result ?? { outcome: 'no-change', state: agent.state.last_sync }),
        (e: Error) => send(res, 500, { code: 'internal', message: e.message }),
      );
      return;
    }
    return send(res, 404, { code: 'not-found', message: `no such endpoint: ${url.pathname}`, hint: 'GET /api/v1/status, GET /api/v1/journal, POST /api/v1/sync, GET /healthz' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, resolve);
  });
  const addr = server.address() as AddressInfo;
  return { url: `http://${host}:${addr.port}`, server };
}
