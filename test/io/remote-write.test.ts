// Prometheus remote write: the agent's prom-client registry as a WriteRequest, read back, pushed to
// a real Prometheus (its remote-write receiver) and queried back with its labels and values; the
// bearer token sent, answers bounded, and each kind of failure told apart (retry or not).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  decodeWriteRequest,
  encodeWriteRequest,
  pushLabels,
  pushWriteRequest,
  shownUrl,
  toTimeSeries,
} from '../../agent/io/remote-write.js';
import type { TimeSeries } from '../../agent/io/remote-write.js';
import { GitopsError } from '../../agent/core/errors.js';
import { usePrometheus } from '../helpers/prometheus.js';

const AGENT = {
  environment: 'staging',
  device: 'dev-rw-01',
  wave: 'canary',
  job: 'doorbell-agent',
  instance: 'dev-rw-01',
};

function registry(): Registry {
  const r = new Registry();
  const registers = [r];
  new Counter({ name: 'rw_test_applies_total', help: 'h', labelNames: ['outcome'], registers }).inc(
    { outcome: 'applied' },
    3,
  );
  new Gauge({ name: 'rw_test_release_info', help: 'h', labelNames: ['environment', 'commit'], registers }).set(
    { environment: 'staging', commit: 'abc123' },
    1,
  );
  const h = new Histogram({ name: 'rw_test_duration_seconds', help: 'h', buckets: [0.1, 1], registers });
  h.observe(0.05);
  h.observe(0.5);
  return r;
}

const labelsOf = (s: TimeSeries): Record<string, string> => Object.fromEntries(s.labels.map((l) => [l.name, l.value]));

/** A receiver that records what it was sent and answers `status` with `body`. */
async function receiver(answer: {
  status: number;
  body: string;
}): Promise<{ url: string; server: Server; requests: Array<{ headers: IncomingMessage['headers']; body: Buffer }> }> {
  const requests: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, server, requests };
}

describe('remote write encoding', () => {
  it('turns counters, gauges and histograms into series with sorted, unique labels', async () => {
    const series = toTimeSeries(
      await registry().getMetricsAsJSON(),
      pushLabels(AGENT, { site: 'lab' }),
      1_700_000_000_000,
    );
    const byName = new Map<string, TimeSeries[]>();
    for (const s of series) byName.set(labelsOf(s).__name__!, [...(byName.get(labelsOf(s).__name__!) ?? []), s]);
    expect([...byName.keys()].sort()).toEqual([
      'rw_test_applies_total',
      'rw_test_duration_seconds_bucket',
      'rw_test_duration_seconds_count',
      'rw_test_duration_seconds_sum',
      'rw_test_release_info',
    ]);
    expect(byName.get('rw_test_duration_seconds_bucket')!.map((s) => [labelsOf(s).le, s.samples[0]!.value])).toEqual([
      ['0.1', 1],
      ['1', 2],
      ['+Inf', 2],
    ]);
    expect(byName.get('rw_test_duration_seconds_count')![0]!.samples[0]!.value).toBe(2);
    for (const s of series) {
      const names = s.labels.map((l) => l.name);
      expect(names).toEqual([...new Set(names)].sort());
      expect(labelsOf(s)).toMatchObject({ ...AGENT, site: 'lab' });
      expect(s.samples).toEqual([{ value: expect.any(Number), timestamp: 1_700_000_000_000 }]);
    }
    // the series' own environment label is kept once
    expect(byName.get('rw_test_release_info')![0]!.labels.filter((l) => l.name === 'environment')).toHaveLength(1);
  });

  it('reads back what it wrote (snappy block format, protobuf)', async () => {
    const series = toTimeSeries(await registry().getMetricsAsJSON(), AGENT, 1_700_000_000_123);
    expect(decodeWriteRequest(encodeWriteRequest(series))).toEqual(series);
  });

  it("refuses a settings label that would override the agent's own", () => {
    for (const name of ['wave', 'device', 'environment', 'job', 'instance', '__name__']) {
      const e = (() => {
        try {
          pushLabels(AGENT, { [name]: 'x' });
        } catch (err) {
          return err as GitopsError;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(GitopsError);
      expect(e!.code).toBe('settings-invalid');
    }
  });

  it('never shows credentials of the URL', () => {
    expect(shownUrl('https://user:secret@mimir.example/api/v1/push')).toBe('https://mimir.example/api/v1/push');
  });
});

describe('remote write to a real Prometheus', () => {
  const prom = usePrometheus();

  it('is stored and queried back with its labels and values', async () => {
    const now = Date.now();
    const body = encodeWriteRequest(toTimeSeries(await registry().getMetricsAsJSON(), AGENT, now));
    expect(await pushWriteRequest({ url: prom().writeUrl, body, timeoutMs: 10_000 })).toEqual({
      ok: true,
      status: 204,
    });
    const info = await prom().query('rw_test_release_info{device="dev-rw-01"}');
    expect(info).toHaveLength(1);
    expect(info[0]!.metric).toEqual({ __name__: 'rw_test_release_info', ...AGENT, commit: 'abc123' });
    expect(info[0]!.value[1]).toBe('1');
    const applied = await prom().query('rw_test_applies_total{wave="canary",outcome="applied"}');
    expect(applied.map((r) => r.value[1])).toEqual(['3']);
    const count = await prom().query('count by (commit) (rw_test_release_info{environment="staging",wave="canary"})');
    expect(count).toEqual([{ metric: { commit: 'abc123' }, value: [expect.any(Number), '1'] }]);
    const p50 = await prom().query('histogram_quantile(0.5, rw_test_duration_seconds_bucket{device="dev-rw-01"})');
    expect(Number(p50[0]!.value[1])).toBeGreaterThan(0);
  });

  it('is told not to retry a request Prometheus refuses (4xx), with its reason', async () => {
    const r = await pushWriteRequest({ url: prom().writeUrl, body: new Uint8Array([1, 2, 3, 4]), timeoutMs: 10_000 });
    expect(r).toMatchObject({ ok: false, retry: false, status: 400 });
  });

  it('sees samples older than the last pushed refused as out of order (4xx, not retried)', async () => {
    const labels = { ...AGENT, device: 'dev-rw-order', instance: 'dev-rw-order' };
    const push = async (t: number): Promise<unknown> =>
      pushWriteRequest({
        url: prom().writeUrl,
        body: encodeWriteRequest(toTimeSeries(await registry().getMetricsAsJSON(), labels, t)),
        timeoutMs: 10_000,
      });
    const now = Date.now();
    expect(await push(now)).toMatchObject({ ok: true });
    expect(await push(now - 60_000)).toMatchObject({ ok: false, retry: false, status: 400 });
  });
});

describe('remote write over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-token-'));
  const tokenFile = join(dir, 'token');

  it('sends the protocol headers and the bearer token read from token_file at each push', async () => {
    const r = await receiver({ status: 204, body: '' });
    try {
      const body = encodeWriteRequest(toTimeSeries(await registry().getMetricsAsJSON(), AGENT, Date.now()));
      writeFileSync(tokenFile, 'first-token\n');
      expect(await pushWriteRequest({ url: r.url, body, tokenFile, timeoutMs: 10_000 })).toMatchObject({ ok: true });
      writeFileSync(tokenFile, 'rotated-token\n');
      expect(await pushWriteRequest({ url: r.url, body, tokenFile, timeoutMs: 10_000 })).toMatchObject({ ok: true });
      expect(r.requests.map((q) => q.headers.authorization)).toEqual(['Bearer first-token', 'Bearer rotated-token']);
      expect(r.requests[0]!.headers).toMatchObject({
        'content-encoding': 'snappy',
        'content-type': 'application/x-protobuf',
        'x-prometheus-remote-write-version': '0.1.0',
      });
      expect(decodeWriteRequest(r.requests[0]!.body).length).toBeGreaterThan(0);
    } finally {
      r.server.close();
    }
  });

  it('sends user and password of the URL as basic authentication, never in the URL', async () => {
    const r = await receiver({ status: 200, body: '' });
    try {
      const url = r.url.replace('http://', 'http://tenant:s3cret@');
      expect(await pushWriteRequest({ url, body: encodeWriteRequest([]), timeoutMs: 10_000 })).toMatchObject({
        ok: true,
      });
      expect(r.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('tenant:s3cret').toString('base64')}`);
    } finally {
      r.server.close();
    }
  });

  it('reads only the first bytes of a huge answer', async () => {
    const r = await receiver({ status: 400, body: 'x'.repeat(8 * 1024 * 1024) });
    try {
      const res = await pushWriteRequest({
        url: r.url,
        body: encodeWriteRequest([]),
        timeoutMs: 10_000,
        maxResponseBytes: 1024,
      });
      expect(res).toMatchObject({ ok: false, retry: false, status: 400 });
      expect(res.ok === false && res.reason.length).toBeLessThan(700);
      expect(res.ok === false && res.reason.endsWith('...')).toBe(true);
    } finally {
      r.server.closeAllConnections();
      r.server.close();
    }
  });

  it('retries 429, 5xx, an unreadable token file and an endpoint that is down, but not a redirect', async () => {
    for (const [status, retry] of [
      [429, true],
      [503, true],
      [401, false],
      [308, false],
    ] as const) {
      const r = await receiver({ status, body: 'said so' });
      try {
        expect(await pushWriteRequest({ url: r.url, body: encodeWriteRequest([]), timeoutMs: 10_000 })).toMatchObject({
          ok: false,
          retry,
          status,
        });
      } finally {
        r.server.close();
      }
    }
    const r = await receiver({ status: 204, body: '' });
    r.server.close();
    await new Promise((done) => r.server.once('close', done));
    expect(await pushWriteRequest({ url: r.url, body: encodeWriteRequest([]), timeoutMs: 10_000 })).toMatchObject({
      ok: false,
      retry: true,
    });
    const missing = await pushWriteRequest({
      url: r.url,
      body: encodeWriteRequest([]),
      tokenFile: join(dir, 'none'),
      timeoutMs: 10_000,
    });
    expect(missing).toMatchObject({ ok: false, retry: true });
  });
});
