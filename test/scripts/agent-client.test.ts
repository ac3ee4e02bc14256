// gitops agent journal against an HTTP server that answers as an older agent did: journal lines
// that are JSON but not entries (numbers, null, strings, arrays) and entries missing fields are
// skipped or shown as "?", never a crash.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitopsAsync } from '../helpers/cli.js';

describe('gitops agent journal', () => {
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/api/v1/journal')) return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify([
        42,
        null,
        'text',
        [1, 2],
        { time: '2026-12-01T08:00:00.000Z', event: 'applied', commit: 'a'.repeat(40), subject: 'faster capture' },
        {},
        { event: 7, reason: { nested: true } },
      ]),
    );
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('shows the entries and skips what is not one', async () => {
    const r = await gitopsAsync(['agent', 'journal', '--url', url]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^2026-12-01T08:00:00.000Z {2}applied +aaaaaaaaaaaa "faster capture"$/);
    const json = await gitopsAsync(['agent', 'journal', '--url', url, '--json']);
    expect(json.status).toBe(0);
    expect(
      (JSON.parse(json.stdout) as unknown[]).every((e) => typeof e === 'object' && e !== null && !Array.isArray(e)),
    ).toBe(true);
  });
});
