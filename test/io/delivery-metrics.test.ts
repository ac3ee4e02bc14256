// A component's own figures (agent/client report(), DESIGN.md section 9): the client writes
// metrics.json (validated: at most 64 names, each a finite number), the agent's delivery reads it
// back bounded (no links, no huge files) and counts a stale report as none; a component with a
// metrics URL is asked over real HTTP on loopback, its answer bounded and validated too.

import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../agent/client/index.js';
import { checkMetrics, FILES, MAX_METRICS, metricsProblems, readMetrics } from '../../agent/core/contracts/protocol.js';
import { Delivery } from '../../agent/io/delivery.js';
import type { ComponentTarget } from '../../agent/io/delivery.js';
import { nodeProcessRunner } from '../../agent/io/process.js';
import { writeProtocolFile } from '../../agent/io/protocol-files.js';
import { withCode } from '../helpers/codes.js';
import { tempDir } from '../helpers/project.js';

const fileTarget = (name: string): ComponentTarget => ({
  name,
  spec: { sections: ['detectors'], reload: { method: 'file' } } as ComponentTarget['spec'],
});

/** A clock the test moves: wall time from `wall`, monotonic time from `mono`. */
const movableClock = () => {
  const c = { wall: Date.now(), mono: 0, now: () => new Date(c.wall), monotonic: () => c.mono };
  return c;
};

describe('agent/client report() and the metrics file', () => {
  const dir = tempDir('metrics-');

  it('writes {time, values} to metrics.json, which the agent reads back', async () => {
    const client = createClient({ dir: join(dir, 'detector') });
    expect(client.report({ inference_latency_ms: 41.5, dropped_frames_per_s: 0, queue_depth: 3 })).toBe(true);
    const written = JSON.parse(readFileSync(join(dir, 'detector', FILES.metrics), 'utf8')) as {
      time: string;
      values: Record<string, number>;
    };
    expect(written.values).toEqual({ inference_latency_ms: 41.5, dropped_frames_per_s: 0, queue_depth: 3 });
    expect(Math.abs(Date.parse(written.time) - Date.now())).toBeLessThan(60_000);
    const delivery = new Delivery(dir, nodeProcessRunner);
    expect(await delivery.metrics(fileTarget('detector'))).toEqual(written);
    // the report names no generation: it does not count as one
    expect(delivery.highestGeneration()).toBe(0);
  });

  it.each([
    ['a NaN', { latency_ms: Number.NaN }, 'latency_ms is NaN'],
    ['an infinity', { latency_ms: Infinity }, 'latency_ms is Infinity'],
    ['a string', { latency_ms: '3' as unknown as number }, 'latency_ms is string'],
    ['an upper-case name', { LatencyMs: 3 }, '"LatencyMs" is not a metric name'],
    ['a name with a dot', { 'latency.ms': 3 }, '"latency.ms" is not a metric name'],
    ['an empty name', { '': 3 }, '"" is not a metric name'],
    ['a 65-character name', { ['a'.repeat(65)]: 3 }, 'is not a metric name'],
    [
      `${MAX_METRICS + 1} names`,
      Object.fromEntries(Array.from({ length: MAX_METRICS + 1 }, (_, i) => [`m${i}`, i])),
      `${MAX_METRICS + 1} figures; at most ${MAX_METRICS}`,
    ],
    ['an array', [1, 2] as unknown as Record<string, number>, 'must be an object'],
    ['null', null as unknown as Record<string, number>, 'must be an object'],
  ])('refuses %s (bad-metrics) and writes nothing', (_what, values, text) => {
    const sub = join(tempDir('metrics-bad-'), 'c');
    const client = createClient({ dir: sub });
    expect(() => client.report(values)).toThrow(withCode('bad-metrics', text));
    expect(existsSync(join(sub, FILES.metrics))).toBe(false);
  });

  it('takes exactly 64 names, and names of 64 characters', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_METRICS }, (_, i) => [`m${i}`, -i / 3]));
    expect(checkMetrics(many)).toEqual(many);
    expect(metricsProblems({ ['a'.repeat(64)]: 0 })).toEqual([]);
  });

  it('a report older than the limit, or the same report held past it, counts as none', async () => {
    const clock = movableClock();
    const delivery = new Delivery(dir, nodeProcessRunner, clock);
    const t = fileTarget('aging');
    const write = (time: number, values: Record<string, number> = { queue_depth: 1 }): void =>
      writeProtocolFile(join(dir, 'aging'), FILES.metrics, { time: new Date(time).toISOString(), values });

    write(clock.wall - 6000); // written 6 s ago (the default limit is 5 s)
    expect(await delivery.metrics(t)).toBeUndefined();
    expect(await delivery.metrics(t, 10_000)).toMatchObject({ values: { queue_depth: 1 } });

    write(clock.wall - 100, { queue_depth: 2 });
    expect(await delivery.metrics(t)).toMatchObject({ values: { queue_depth: 2 } });
    // the wall clock is set back an hour (NTP): the report is not newer than it was, and still stands
    clock.wall -= 3_600_000;
    clock.mono += 1000;
    expect(await delivery.metrics(t)).toMatchObject({ values: { queue_depth: 2 } });
    // the component stops: its file stays, and after 5 s on the monotonic clock it counts as none
    clock.mono += 4500;
    expect(await delivery.metrics(t)).toBeUndefined();
    // a new report counts again
    write(clock.wall, { queue_depth: 3 });
    expect(await delivery.metrics(t)).toMatchObject({ values: { queue_depth: 3 } });
  });

  it('ignores what is not a report: no file, not JSON, bad figures, a bad time, a link, a huge file', async () => {
    const delivery = new Delivery(dir, nodeProcessRunner);
    const put = (name: string, text: string): ComponentTarget => {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, FILES.metrics), text);
      return fileTarget(name);
    };
    const now = new Date().toISOString();
    expect(await delivery.metrics(fileTarget('never-reported'))).toBeUndefined();
    expect(await delivery.metrics(put('not-json', '{"time":'))).toBeUndefined();
    expect(await delivery.metrics(put('nan', `{"time":"${now}","values":{"x":"NaN"}}`))).toBeUndefined();
    expect(await delivery.metrics(put('no-values', `{"time":"${now}"}`))).toBeUndefined();
    expect(await delivery.metrics(put('bad-time', '{"time":"yesterday","values":{"x":1}}'))).toBeUndefined();
    expect(await delivery.metrics(put('no-time', '{"values":{"x":1}}'))).toBeUndefined();
    const huge = put('huge', JSON.stringify({ time: now, values: { x: 1 }, pad: 'x'.repeat(70 * 1024) }));
    expect(await delivery.metrics(huge)).toBeUndefined();
    // a link to a valid report elsewhere is not followed
    const real = put('real', JSON.stringify({ time: now, values: { x: 1 } }));
    expect(await delivery.metrics(real)).toMatchObject({ values: { x: 1 } });
    mkdirSync(join(dir, 'linked'));
    symlinkSync(join(dir, 'real', FILES.metrics), join(dir, 'linked', FILES.metrics));
    expect(await delivery.metrics(fileTarget('linked'))).toBeUndefined();
    // a component delivered to by command or signal, without a metrics URL, reports nothing
    const byCommand = { ...real, spec: { ...real.spec, reload: { method: 'command', command: ['true'] } } };
    expect(await delivery.metrics(byCommand as ComponentTarget)).toBeUndefined();
  });

  it('readMetrics keeps the figures and takes a fallback time only when the report has none', () => {
    expect(readMetrics({ values: { a: 1 } }, '2030-01-01T00:00:00.000Z')).toEqual({
      time: '2030-01-01T00:00:00.000Z',
      values: { a: 1 },
    });
    expect(readMetrics({ time: 'soon', values: { a: 1 } }, '2030-01-01T00:00:00.000Z')).toBeUndefined();
    expect(readMetrics([])).toBeUndefined();
  });
});

describe('metrics of a component over HTTP', () => {
  let answer: (res: ServerResponse) => void = (res) => res.end();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    answer(res);
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const httpTarget = (path = '/metrics', timeout_ms?: number): ComponentTarget => ({
    name: 'capture',
    spec: {
      sections: ['frame_capture'],
      reload: { method: 'http', url: `${base}/config` },
      metrics: { url: `${base}${path}`, ...(timeout_ms ? { timeout_ms } : {}) },
    } as ComponentTarget['spec'],
  });
  const json = (status: number, body: unknown) => (res: ServerResponse) =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('GETs the metrics URL; an answer without a time is as fresh as the request', async () => {
    const delivery = new Delivery(tempDir('metrics-http-'), nodeProcessRunner);
    answer = json(200, { values: { dropped_frames_per_s: 2.5 } });
    const before = Date.now();
    const r = await delivery.metrics(httpTarget());
    expect(r?.values).toEqual({ dropped_frames_per_s: 2.5 });
    expect(Date.parse(r!.time)).toBeGreaterThanOrEqual(before - 1);
    answer = json(200, { time: new Date().toISOString(), values: { dropped_frames_per_s: 3 } });
    expect((await delivery.metrics(httpTarget()))?.values).toEqual({ dropped_frames_per_s: 3 });
  });

  it.each([
    ['a stale time', () => json(200, { time: new Date(Date.now() - 60_000).toISOString(), values: { a: 1 } })],
    ['HTTP 500', () => json(500, { values: { a: 1 } })],
    ['bad figures', () => json(200, { values: { a: 'high' } })],
    ['not JSON', () => (res: ServerResponse) => void res.writeHead(200).end('<html>')],
    [
      'a body over 64 KiB, streamed without a length',
      () => (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"values":{"a":1},"pad":"`);
        for (let i = 0; i < 80; i++) res.write('x'.repeat(1024));
        res.end('"}');
      },
    ],
  ])('counts %s as none', async (_what, make) => {
    const delivery = new Delivery(tempDir('metrics-http-'), nodeProcessRunner);
    answer = make();
    expect(await delivery.metrics(httpTarget())).toBeUndefined();
  });

  it('counts no answer in time, a missing endpoint, or nobody listening as none', async () => {
    const delivery = new Delivery(tempDir('metrics-http-'), nodeProcessRunner);
    answer = () => undefined; // never answers
    expect(await delivery.metrics(httpTarget('/metrics', 200))).toBeUndefined();
    expect(await delivery.metrics(httpTarget('/elsewhere'))).toBeUndefined();
    const gone = httpTarget();
    gone.spec.metrics!.url = 'http://127.0.0.1:1/metrics';
    expect(await delivery.metrics(gone)).toBeUndefined();
  });
});
