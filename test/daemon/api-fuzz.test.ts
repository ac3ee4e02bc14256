// Random requests (fast-check) against a real agent whose configuration holds decrypted
// secrets: any method, path, query, header and body, with and without a token. None gets a
// 500, and no answer carries a secret value.

import fc from 'fast-check';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitops } from '../helpers/cli.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');

/** Every value of the development secrets file, decrypted with the device's key. */
function secretValues(): string[] {
  const r = gitops([
    'secrets',
    'decrypt',
    '--identity',
    key,
    join(PROJECT, 'environments/development/secrets.sops.yaml'),
  ]);
  expect(r.status, r.stderr).toBe(0);
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') out.push(String(v));
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(parse(r.stdout));
  return out;
}

const ENDPOINTS = [
  '/',
  '/healthz',
  '/readyz',
  '/app.js',
  '/metrics',
  '/api/v1/status',
  '/api/v1/config',
  '/api/v1/journal',
  '/api/v1/releases',
  '/api/v1/diff',
  '/api/v1/events',
  '/api/v1/sync',
  '/api/v1/rollback',
  '/api/v1/hardware/probe',
];

describe('random requests to the local API', () => {
  const dir = tempDir('fuzz-repo-');
  let agent: AgentProcess;
  let api = '';
  let token = '';
  const secrets = secretValues();

  beforeAll(async () => {
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
    agent = startAgent([
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      key,
      '--hardware-profile',
      'recorded',
      '--state',
      join(dir, '.state'),
      '--listen',
      '127.0.0.1:0',
      '--bake',
      '0',
      '--with-example-pipeline',
    ]);
    api = await agent.api;
    token = /#token=(dbt_\S+)/.exec(await agent.waitFor(/#token=dbt_/))![1]!;
    await until(
      'the first apply',
      async () => (await (await fetch(`${api}/api/v1/status`)).json()) as { current: unknown },
      (s) => s.current !== null,
      30_000,
    );
  }, 60_000);

  afterAll(async () => agent?.stop());

  it('never answer 500 and never carry a secret', async () => {
    expect(secrets).toContain('dev-camera-password');
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(...ENDPOINTS),
        fc.tuple(fc.constantFrom(...ENDPOINTS), fc.webPath()).map(([a, b]) => a + b),
        fc.webPath(),
      ),
      query: fc.dictionary(
        fc.oneof(fc.constantFrom('path', 'release', 'from', 'to', 'limit', 'event'), fc.string({ maxLength: 6 })),
        fc.oneof(
          text,
          fc.constantFrom(
            'current',
            'previous',
            'last_good',
            'web_interface',
            'frame_capture.password',
            '-1',
            '99999999999',
            'tree-',
            'applied',
          ),
        ),
        { maxKeys: 3 },
      ),
      auth: fc.constantFrom('none', 'operator', 'garbage', 'basic'),
      body: fc.option(
        fc.oneof(
          fc.json(),
          text,
          fc
            .record({ to: fc.oneof(text, fc.constantFrom('previous', 'last_good', 'current')), reason: text })
            .map((o) => JSON.stringify(o)),
        ),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const url = new URL(api + (r.path.startsWith('/') ? r.path : `/${r.path}`));
        for (const [k, v] of Object.entries(r.query)) url.searchParams.set(k, v);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (r.auth === 'operator') headers.authorization = `Bearer ${token}`;
        if (r.auth === 'garbage') headers.authorization = 'Bearer dbt_not-a-token';
        if (r.auth === 'basic') headers.authorization = 'Basic YWRtaW46YWRtaW4=';
        const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        const res = await fetch(url, {
          method: r.method,
          headers,
          ...(withBody ? { body: r.body } : {}),
          signal: AbortSignal.timeout(20_000),
        });
        // the event stream stays open: its headers are the answer
        const body = res.headers.get('content-type')?.startsWith('text/event-stream')
          ? (await res.body?.cancel(), '')
          : await res.text();
        const what = `${r.method} ${url.pathname}${url.search} (${r.auth}) -> ${res.status} ${body.slice(0, 300)}`;
        expect(res.status, what).not.toBe(500);
        expect(body, what).not.toMatch(/"code":"internal"/);
        for (const s of secrets) {
          if (s.length >= 4) expect(body.includes(s), `${what} holds a secret`).toBe(false);
          else expect(body.includes(JSON.stringify(s)), `${what} holds a short secret`).toBe(false);
        }
      }),
      { numRuns: 250 },
    );
  }, 180_000);
});
