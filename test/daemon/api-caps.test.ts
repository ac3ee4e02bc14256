// The local API under too many connections, against a real agent process whose open-file limit
// is low (ulimit -n 256, as a small LimitNOFILE would set): slow clients that never finish their
// request, and event streams opened without a token by a local process. Beyond its caps the
// agent answers 503 and closes; it keeps applying configuration and answering other clients.
// Everything is on loopback, in bounded loops; the second client address is 127.0.0.2.

import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { exampleCopy, PROJECT } from '../helpers/project.js';

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');
const ME = '127.0.0.1';
const OTHER = '127.0.0.2';

interface Caps {
  total: number;
  perClient: number;
  streams: number;
  streamsPerClient: number;
}

interface Answer {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

describe('the local API under too many connections', () => {
  const dir = exampleCopy();
  let agent: AgentProcess;
  let port = 0;
  let caps: Caps;
  const sockets: Socket[] = [];

  /** A whole request from `from`; status 0 when the connection was closed without an answer. */
  const get = (from: string, path: string): Promise<Answer> =>
    new Promise((resolve) => {
      const req = request(
        { host: ME, port, path, localAddress: from, agent: false, headers: { connection: 'close' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        },
      );
      req.setTimeout(20_000, () => req.destroy());
      req.on('error', () => resolve({ status: 0, body: '', headers: {} }));
      req.end();
    });

  /** A client that starts a request and never finishes it; resolves once connected (or closed). */
  const slow = (from: string): Promise<Socket> =>
    new Promise((resolve) => {
      const s = connect({ host: ME, port, localAddress: from });
      sockets.push(s);
      s.on('error', () => undefined);
      s.once('connect', () => {
        s.write(`GET /api/v1/status HTTP/1.1\r\nHost: ${ME}\r\n`);
        resolve(s);
      });
      s.once('close', () => resolve(s));
    });

  /** Asks until `check` holds for the answer; the agent sees closed connections a little later. */
  const eventually = async (
    from: string,
    path: string,
    check: (a: Answer) => boolean,
    timeoutMs = 20_000,
  ): Promise<Answer> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = await get(from, path);
      if (check(a)) return a;
      if (Date.now() > deadline)
        throw new Error(
          `no answer from ${path} (from ${from}) passed the check; the last: ${a.status} ${a.body.slice(0, 200)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const closedAll = (list: Socket[], timeoutMs: number): Promise<void> =>
    Promise.race([
      Promise.all(list.map((s) => (s.destroyed || s.closed ? undefined : new Promise((r) => s.once('close', r))))).then(
        () => undefined,
      ),
      new Promise<void>((_, reject) =>
        setTimeout(
          () => reject(new Error(`${list.filter((s) => !s.closed).length} of ${list.length} connections still open`)),
          timeoutMs,
        ),
      ),
    ]);

  const setFps = (from: number, to: number): void => {
    const file = join(dir, 'config/frame_capture.yaml');
    const text = readFileSync(file, 'utf8');
    if (!text.includes(`  fps: ${from}`)) throw new Error(`test setup: fps is not ${from}`);
    writeFileSync(file, text.replace(`  fps: ${from}`, `  fps: ${to}`));
  };

  beforeAll(async () => {
    agent = startAgent(
      [
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
        `${ME}:0`,
        '--bake',
        '0.2',
        '--with-example-pipeline',
      ],
      {},
      { openFiles: 256 },
    );
    port = Number(new URL(await agent.api).port);
    const line = await agent.waitFor(/API: at most \d+ connections/);
    const m =
      /at most (\d+) connections \((\d+) from one address\) and (\d+) event streams \((\d+) for one caller\)/.exec(
        line,
      )!;
    caps = { total: Number(m[1]), perClient: Number(m[2]), streams: Number(m[3]), streamsPerClient: Number(m[4]) };
    await agent.waitFor(/applied tree-\w+ "working tree"/, 30_000);
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await agent?.stop();
  });

  it('caps follow the open-file limit', () => {
    // ulimit -n 256: well under what 256 connections would take
    expect(caps.total).toBeLessThanOrEqual(128);
    expect(caps.perClient).toBeLessThanOrEqual(caps.total);
    expect(caps.streams).toBeLessThanOrEqual(caps.total);
  });

  it('slow clients from one address get 503 beyond the cap; another address is served; the agent keeps applying', async () => {
    const held = await Promise.all(Array.from({ length: caps.perClient }, () => slow(ME)));
    expect(held.filter((s) => s.closed)).toHaveLength(0);
    const refused = await eventually(ME, '/healthz', (a) => a.status === 503);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'too-many-connections' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(OTHER, '/api/v1/status')).status).toBe(200);

    // a flood of more slow connections than the agent may open files: each is closed soon
    const flood = await Promise.all(Array.from({ length: 400 }, () => slow(ME)));
    setFps(15, 12);
    await agent.waitFor(/applied tree-\w+ "working tree": frame_capture changed/, 30_000);
    await closedAll(flood, 20_000);
    expect((await get(OTHER, '/healthz')).status).toBe(200);
    expect(agent.child.exitCode).toBeNull();

    for (const s of held) s.destroy();
    await eventually(ME, '/healthz', (a) => a.status === 200);
  }, 90_000);

  it('event streams opened without a token by a local process are capped; others still get theirs', async () => {
    const open: Array<{ status: number; close: () => void; body: () => string }> = [];
    /** Opens a stream; resolves with its status once the first event (or the refusal) arrived. */
    const stream = (from: string): Promise<{ status: number; close: () => void; body: () => string }> =>
      new Promise((resolve) => {
        let body = '';
        const req = request({ host: ME, port, path: '/api/v1/events', localAddress: from, agent: false }, (res) => {
          const handle = { status: res.statusCode ?? 0, close: () => req.destroy(), body: () => body };
          res.on('data', (c: Buffer) => {
            body += c;
            if (res.statusCode !== 200 || body.includes('event: hello')) resolve(handle);
          });
          res.on('end', () => resolve(handle));
          res.on('error', () => resolve(handle));
        });
        req.on('error', () => resolve({ status: 0, close: () => undefined, body: () => body }));
        req.end();
      });
    try {
      for (let i = 0; i < caps.streamsPerClient; i++) open.push(await stream(ME));
      expect(open.map((s) => s.status)).toEqual(Array(caps.streamsPerClient).fill(200));
      const refused = await stream(ME);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body())).toMatchObject({ code: 'too-many-streams' });
      const other = await stream(OTHER);
      expect(other.status).toBe(200);
      open.push(other);

      // what killed the agent before: many streams at once from one local process
      const burst = await Promise.all(Array.from({ length: 200 }, () => stream(ME)));
      open.push(...burst);
      expect(burst.filter((s) => s.status === 200)).toHaveLength(0);
      expect(burst.every((s) => s.status === 503 || s.status === 0)).toBe(true);
      const metrics = await get(OTHER, '/metrics');
      expect(Number(/^doorbell_agent_event_streams (\d+)$/m.exec(metrics.body)?.[1])).toBe(caps.streamsPerClient + 1);
      expect(agent.child.exitCode).toBeNull();

      // a closed stream frees its place
      open[0]!.close();
      const again = await (async () => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const s = await stream(ME);
          open.push(s);
          if (s.status === 200 || Date.now() > deadline) return s;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      expect(again.status).toBe(200);
    } finally {
      for (const s of open) s.close();
    }
  }, 90_000);
});
