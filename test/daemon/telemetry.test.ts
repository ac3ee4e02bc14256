// The telemetry pusher: a bounded queue that drops its oldest batches (counted) while the endpoint
// is away, retries with a jittered capped backoff, delivers what waited in order once a real
// Prometheus answers on that address, drops (and says once) what the endpoint refuses; and the
// real agent process pushing its metrics to a real Prometheus, queried back by device, commit and
// wave as the rollout gate asks.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIAL_STATE } from '../../agent/core/contracts/agent-state.js';
import type { AgentState } from '../../agent/core/contracts/agent-state.js';
import type { ErrorCode } from '../../agent/core/errors.js';
import { lastCandidate } from '../../agent/daemon/metrics.js';
import type { RemoteWriteSettings } from '../../agent/daemon/settings.js';
import { TelemetryPusher } from '../../agent/daemon/telemetry.js';
import type { Timers } from '../../agent/daemon/telemetry.js';
import { decodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import { fileSpool, MAX_BATCH_BYTES } from '../../agent/io/telemetry-spool.js';
import type { TelemetrySpool } from '../../agent/io/telemetry-spool.js';
import type { PushOptions, PushResult } from '../../agent/io/remote-write.js';
import { usePrometheus } from '../helpers/prometheus.js';
import { startFollowing } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { signedFleet, until } from '../helpers/fleet.js';
import { bearer } from '../helpers/tokens.js';
import type { SignedFleet } from '../helpers/fleet.js';

/** Timers fired by the test: what is planned, and when (ms after it was planned). */
function manualTimers(): Timers & { planned: Array<{ fn: () => void; ms: number }>; fire(i?: number): void } {
  const planned: Array<{ fn: () => void; ms: number }> = [];
  return {
    planned,
    setTimeout: (fn, ms) => {
      const t = { fn, ms };
      planned.push(t);
      return t;
    },
    clearTimeout: (h) => void planned.splice(planned.indexOf(h as never), 1),
    fire(i = 0) {
      const [t] = planned.splice(i, 1);
      t!.fn();
    },
  };
}

const AGENT = {
  environment: 'staging',
  device: 'dev-tel-01',
  wave: 'early',
  job: 'doorbell-agent',
  instance: 'dev-tel-01',
};

function pusher(o: {
  url?: string;
  maxQueue?: number;
  spool?: TelemetrySpool;
  push?: (o: PushOptions) => Promise<PushResult>;
  now?: () => number;
  device?: string;
}): { p: TelemetryPusher; seq: Gauge; registry: Registry; timers: ReturnType<typeof manualTimers>; log: string[] } {
  const registry = new Registry();
  const seq = new Gauge({ name: 'telemetry_test_seq', help: 'which snapshot', registers: [registry] });
  const timers = manualTimers();
  const log: string[] = [];
  const settings: RemoteWriteSettings = {
    url: o.url ?? 'http://127.0.0.1:9/api/v1/write',
    interval_seconds: 30,
    timeout_seconds: 10,
    max_queue: o.maxQueue ?? 120,
    labels: { site: 'lab' },
  };
  const device = o.device ?? AGENT.device;
  const p = new TelemetryPusher({
    settings,
    registry,
    labels: () => ({ ...AGENT, device, instance: device }),
    clock: { now: () => new Date(o.now?.() ?? Date.now()), random: () => 0.5 },
    timers,
    ...(o.push ? { push: o.push } : {}),
    retry: { baseMs: 1000, maxMs: 8000 },
    ...(o.spool ? { spool: o.spool } : {}),
    log: (l) => log.push(l),
  });
  return { p, seq, registry, timers, log };
}

const seqOf = (body: Uint8Array): number =>
  decodeWriteRequest(body).find((s) => s.labels.some((l) => l.value === 'telemetry_test_seq'))!.samples[0]!.value;

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? NaN;
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A real HTTP server on `port` handing every request to `target` (a Prometheus), body and answer as they are. */
async function forwarder(port: number, target: string): Promise<Server> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const up = request(
      { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

describe('the telemetry queue', () => {
  it('keeps at most max_queue batches while the endpoint is away, dropping the oldest (counted)', async () => {
    const sent: number[] = [];
    let up = false;
    const { p, seq, registry, timers, log } = pusher({
      maxQueue: 3,
      push: async (o) => {
        if (!up) return { ok: false, retry: true, reason: 'cannot reach it: ECONNREFUSED' };
        sent.push(seqOf(o.body));
        return { ok: true, status: 204 };
      },
    });
    for (let i = 1; i <= 5; i++) {
      seq.set(i);
      await p.tick();
    }
    // the first tick failed and planned a retry; the later ones only queued
    expect(timers.planned).toHaveLength(1);
    expect(p.queued).toBe(3);
    expect(await counter(registry, 'doorbell_agent_telemetry_dropped_total', { reason: 'queue-full' })).toBe(2);
    expect(await counter(registry, 'doorbell_agent_telemetry_queue')).toBe(3);
    expect(await counter(registry, 'doorbell_agent_telemetry_pushes_total', { result: 'failed' })).toBe(1);
    expect(log.filter((l) => l.includes('push failed'))).toHaveLength(1);
    up = true;
    timers.fire();
    await p.flush();
    expect(sent).toEqual([3, 4, 5]);
    expect(p.queued).toBe(0);
    expect(log.at(-1)).toMatch(/delivered again after 1 failed push/);
    expect(await counter(registry, 'doorbell_agent_telemetry_pushes_total', { result: 'ok' })).toBe(3);
    expect(p.stats).toMatchObject({ pushed: 3, failed: 1, overflowed: 2 });
    expect(await counter(registry, 'doorbell_agent_telemetry_samples_total')).toBe(p.stats.samples);
    await p.stop();
  });

  it('keeps what waits in the state directory across a restart, pushed first and in order, the file removed once delivered', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spool-')), 'telemetry-queue.bin');
    const down = async (): Promise<PushResult> => ({ ok: false, retry: true, reason: 'cannot reach it: ECONNREFUSED' });
    const first = pusher({ maxQueue: 3, push: down, spool: fileSpool(file, 3) });
    first.p.start();
    for (let i = 1; i <= 4; i++) {
      first.seq.set(i);
      await first.p.tick();
    }
    // kept on the failed push (1), then at stop with all that waits (the oldest dropped beyond max_queue)
    await first.p.stop();
    expect(
      fileSpool(file, 3)
        .load()
        .batches.map((b) => seqOf(b.body)),
    ).toEqual([2, 3, 4]);
    const sent: number[] = [];
    const second = pusher({
      maxQueue: 3,
      push: async (o) => (sent.push(seqOf(o.body)), { ok: true, status: 204 }),
      spool: fileSpool(file, 3),
    });
    second.p.start();
    expect(second.p.queued).toBe(3);
    expect(second.log.join('\n')).toContain('3 batch(es) kept from before the restart are pushed first');
    second.seq.set(5);
    await second.p.tick();
    expect(sent).toEqual([3, 4, 5]); // max_queue 3: the restored oldest gave way to the new snapshot
    expect(existsSync(file)).toBe(false);
    await second.p.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('sets aside a spool that is not one, truncated or too large, and loses nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const file = join(dir, 'q.bin');
    fileSpool(file, 2).save([{ samples: 3, body: new Uint8Array([1, 2, 3]) }]);
    expect(fileSpool(file, 2).load()).toEqual({ batches: [{ samples: 3, body: new Uint8Array([1, 2, 3]) }] });
    const good = readFileSync(file);
    for (const [bytes, why] of [
      [Buffer.from('not a spool at all'), 'not a telemetry spool'],
      [good.subarray(0, good.length - 1), 'truncated'],
      [Buffer.concat([good.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff])]), 'truncated or oversized batch'],
      [Buffer.alloc(2 * (8 + MAX_BATCH_BYTES) + 5), 'more than 2 batches'],
    ] as const) {
      writeFileSync(file, bytes);
      const r = fileSpool(file, 2).load();
      expect(r.batches).toEqual([]);
      expect(r.problem).toContain(why);
      expect(existsSync(file)).toBe(false);
    }
    expect(fileSpool(join(dir, 'none.bin'), 2).load()).toEqual({ batches: [] });
  });

  it('backs off doubling, jittered, capped', () => {
    const { p } = pusher({});
    // random() is 0.5: each delay is three quarters of the full one
    expect([0, 1, 2, 3, 4, 10, 60].map((n) => p.backoff(n))).toEqual([750, 1500, 3000, 6000, 6000, 6000, 6000]);
  });

  it('plans its snapshots every interval, the first within the first, and stops planning on stop', async () => {
    const { p, timers } = pusher({ push: async () => ({ ok: true, status: 204 }) });
    p.start();
    expect(timers.planned.map((t) => t.ms)).toEqual([15_000]);
    timers.fire();
    expect(timers.planned.map((t) => t.ms)).toEqual([30_000]);
    await p.stop();
    expect(timers.planned).toEqual([]);
  });

  it('drops a batch the endpoint refuses (4xx), counts it and says so once', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400).end('out of order sample'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
      const { p, registry, timers, log } = pusher({ url });
      await p.tick();
      await p.tick();
      expect(p.queued).toBe(0);
      expect(timers.planned).toEqual([]); // nothing to retry
      expect(await counter(registry, 'doorbell_agent_telemetry_dropped_total', { reason: 'rejected' })).toBe(2);
      expect(await counter(registry, 'doorbell_agent_telemetry_pushes_total', { result: 'rejected' })).toBe(2);
      expect(log.filter((l) => l.includes('refused'))).toEqual([
        expect.stringContaining('HTTP 400: out of order sample'),
      ]);
      await p.stop();
    } finally {
      server.close();
    }
  });
});

describe('the telemetry queue against a real Prometheus', () => {
  const prom = usePrometheus();

  it('retries while nothing answers on the address, then delivers every batch in order once Prometheus does', async () => {
    const port = await freePort();
    const start = Date.now() - 5 * 60_000;
    let now = start;
    const { p, seq, timers, log } = pusher({
      url: `http://127.0.0.1:${port}/api/v1/write`,
      push: pushWriteRequest,
      now: () => now,
      device: 'dev-tel-order',
    });
    for (let i = 1; i <= 4; i++) {
      seq.set(i);
      now = start + i * 30_000;
      await p.tick();
      if (i === 2) {
        timers.fire(); // a retry while still down: planned again, longer
        await p.flush();
      }
    }
    expect(p.queued).toBe(4);
    expect(p.stats.failed).toBe(2);
    expect(timers.planned.map((t) => t.ms)).toEqual([1500]);
    expect(log.find((l) => l.includes('push failed'))).toMatch(/ECONNREFUSED/);
    const server = await forwarder(port, prom().url);
    try {
      timers.fire();
      await p.flush();
      expect(p.queued).toBe(0);
      expect(p.stats.rejected).toBe(0); // an older sample after a newer one would have been refused (400)
      const got = (await prom().query('telemetry_test_seq{device="dev-tel-order"}[10m]')) as unknown as Array<{
        metric: Record<string, string>;
        values: Array<[number, string]>;
      }>;
      expect(got).toHaveLength(1);
      expect(got[0]!.metric).toMatchObject({
        ...AGENT,
        device: 'dev-tel-order',
        instance: 'dev-tel-order',
        site: 'lab',
      });
      expect(got[0]!.values).toEqual([1, 2, 3, 4].map((i) => [(start + i * 30_000) / 1000, String(i)]));
    } finally {
      await p.stop();
      server.close();
    }
  });
});

describe('the candidate a device did not keep (what the gate counts as refused or rolled back)', () => {
  const state = (s: Partial<AgentState>): AgentState => ({ ...structuredClone(INITIAL_STATE), ...s });
  const c = (n: number): string => String(n).repeat(40);
  const error = (commit: string | null, code: ErrorCode): AgentState['last_error'] => ({
    time: '2026-03-01T10:00:00Z',
    commit,
    reason: 'r',
    code,
  });
  const none = (): undefined => undefined;

  it('is the last error when it names a commit that does not run', () => {
    expect(lastCandidate(state({ last_error: error(c(2), 'invalid') }), c(1), none)).toEqual({
      commit: c(2),
      outcome: 'refused',
      code: 'invalid',
    });
    expect(lastCandidate(state({ last_error: error(c(2), 'health'), bad: [c(2)] }), c(1), none)).toEqual({
      commit: c(2),
      outcome: 'rolled-back',
      code: 'health',
    });
    expect(lastCandidate(state({ last_error: error(c(2), 'crash-loop'), bad: [c(2)] }), c(1), none)?.outcome).toBe(
      'rolled-back',
    );
  });

  it('is the last bad commit once the error is gone (a failed sync since), told by the journal', () => {
    const s = state({ last_error: error(null, 'sync-failed'), bad: [c(3), c(2)] });
    expect(lastCandidate(s, c(1), () => ({ time: 't', event: 'rolled-back', commit: c(2), code: 'health' }))).toEqual({
      commit: c(2),
      outcome: 'rolled-back',
      code: 'health',
    });
    expect(
      lastCandidate(s, c(1), () => ({ time: 't', event: 'rolled-back', commit: c(2), trigger: 'operator' })),
    ).toEqual({
      commit: c(2),
      outcome: 'rolled-back',
      code: 'operator',
    });
    expect(lastCandidate(s, c(1), () => ({ time: 't', event: 'refused', commit: c(2), code: 'hardware' }))).toEqual({
      commit: c(2),
      outcome: 'refused',
      code: 'hardware',
    });
  });

  it('is none when the device runs what it tried, or tried nothing', () => {
    expect(lastCandidate(state({}), c(1), none)).toBeUndefined();
    expect(lastCandidate(state({ last_error: error(c(1), 'component-unavailable') }), c(1), none)).toBeUndefined();
  });
});

describe('the real agent pushing to a real Prometheus', () => {
  const prom = usePrometheus();
  let fleet: SignedFleet;
  let agent: AgentProcess | undefined;
  beforeAll(async () => {
    fleet = await signedFleet();
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await fleet?.server.close();
  });

  it('is found by device, commit and wave, with its candidate and its own telemetry counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telemetry-agent-'));
    const config = fleet.settings(dir, join(dir, 'state'), {
      telemetry: {
        url: prom().writeUrl.replace('http://', 'http://fleet:s3cret@'),
        interval_seconds: 1,
        labels: { site: 'lab' },
      },
    });
    const started = await startFollowing(config);
    agent = started.agent;
    const line = await agent.waitFor(/telemetry: pushing to/);
    expect(line).toContain(`telemetry: pushing to ${prom().writeUrl} every 1s`);
    expect(agent.lines.join('\n')).not.toContain('s3cret');
    const info = await until(
      'release_info pushed by the agent',
      () => prom().query('doorbell_agent_release_info{device="dev-bench-01"}'),
      (r) => r.length > 0,
      60_000,
    );
    expect(info[0]!.metric).toMatchObject({
      environment: 'development',
      device: 'dev-bench-01',
      wave: 'all',
      commit: fleet.anchor,
      job: 'doorbell-agent',
      instance: 'dev-bench-01',
      site: 'lab',
    });
    const perCommit = await prom().query(
      'count by (commit) (doorbell_agent_release_info{environment="development",wave="all"})',
    );
    expect(perCommit).toEqual([{ metric: { commit: fleet.anchor }, value: [expect.any(Number), '1'] }]);
    // the gate's other question: nobody refused or rolled back the commit that runs
    expect(
      await prom().query(
        `count(doorbell_agent_candidate_info{environment="development",wave="all",commit="${fleet.anchor}"})`,
      ),
    ).toEqual([]);
    const pushed = await until(
      'the telemetry counters pushed',
      () => prom().query('doorbell_agent_telemetry_pushes_total{device="dev-bench-01",result="ok"}'),
      (r) => r.length > 0 && Number(r[0]!.value[1]) >= 1,
      60_000,
    );
    expect(pushed[0]!.metric.environment).toBe('development');

    // a commit this device refuses: the gate counts it for its commit and wave
    const file = join(fleet.work.dir, 'config/frame_capture.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}fps: \d+$/m, '  fps: 500'));
    const bad = fleet.commit('fps 500');
    fleet.push();
    const r = await fetch(`${started.api}/api/v1/sync`, { method: 'POST', headers: bearer(fleet.tokens.operator) });
    expect(await r.json()).toMatchObject({ outcome: 'refused', commit: bad });
    const refused = `count(doorbell_agent_candidate_info{environment="development",wave="all",commit="${bad}",outcome="refused"})`;
    await until(
      'the refusal pushed',
      () => prom().query(refused),
      (x) => x[0]?.value[1] === '1',
      60_000,
    );
    const [candidate] = await prom().query(`doorbell_agent_candidate_info{commit="${bad}"}`);
    expect(candidate!.metric).toMatchObject({
      device: 'dev-bench-01',
      outcome: 'refused',
      code: 'invalid',
      job: 'doorbell-agent',
    });
    expect(prom().log()).not.toMatch(/level=error/);
  }, 180_000);
});
