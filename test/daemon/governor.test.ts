// The load governor on the daemon in process (fake clock, real files, real HTTP components that
// report their own inference latency): a slow detector makes it step down its ladder, one step
// per degrade interval, each step a governor lease delivered like any change; when the latency
// recovers it steps back up, one step per restore interval; protected sections are never
// written; every move is journaled and shown by the API and the metrics.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GovernorView, TunablesAnswer } from '../../agent/core/contracts/api.js';
import { Governor } from '../../agent/daemon/governor.js';
import {
  devDaemons,
  fakeClock,
  httpComponentsRepository,
  inProcessApi,
  journalOf,
  runnerOf,
  testSource,
} from '../helpers/in-process.js';

type Delivered = { generation: number; sections: Record<string, Record<string, unknown> | undefined> };

describe('the load governor on the daemon', () => {
  const delivered = new Map<string, Delivered[]>();
  let latency = 20;
  /** While set, every component's health check fails: still overloaded after a step. */
  let sick = false;
  const server = createServer((req, res) => {
    const [, , name, action] = (req.url ?? '').split('/');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (action === 'apply') delivered.set(name!, [...(delivered.get(name!) ?? []), JSON.parse(body) as Delivered]);
      if (action === 'healthz' && sick) return res.writeHead(500).end(JSON.stringify({ reason: 'still behind' }));
      if (action === 'metrics')
        return res.writeHead(200).end(JSON.stringify({ values: { inference_latency_ms: latency, queue_depth: 1 } }));
      return res.writeHead(200).end('{}');
    });
  });
  let base = '';
  const daemons = devDaemons();
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await daemons.ready();
  });
  afterAll(() => void server.close());

  /** The example repository (development) with its load governor on: one signal, the detector's latency. */
  function repository(): Map<string, string> {
    const files = httpComponentsRepository(base, { bakeSeconds: 1, metrics: true });
    const gov = parseDocument(files.get('config/load_governor.yaml')!);
    gov.setIn(['load_governor', 'enabled'], true);
    gov.setIn(['load_governor', 'degrade_interval_seconds'], 10);
    gov.setIn(['load_governor', 'restore_interval_seconds'], 60);
    gov.setIn(['load_governor', 'max_transitions_per_hour'], 12);
    gov.setIn(['load_governor', 'signals'], {
      inference_latency: {
        source: 'detector.inference_latency_ms',
        enter_above: 100,
        exit_below: 50,
        enter_for_seconds: 5,
        exit_for_seconds: 30,
      },
    });
    return files.set('config/load_governor.yaml', gov.toString());
  }

  /** A daemon that runs the repository with its governor, and a clock that moves a second per tick. */
  async function governed() {
    const clock = fakeClock();
    const d = daemons.build({ clock });
    const source = testSource();
    source.offer({ id: 'a'.repeat(40), files: repository() });
    const runner = runnerOf(d, source);
    const first = await runner.trigger('test');
    expect(first?.outcome, first?.reason).toBe('applied');
    const governor = new Governor({
      releases: d.releases,
      runtime: d.runtime,
      runner,
      delivery: d.delivery,
      sampleMachine: async () => ({}),
      journal: d.journal,
      events: d.events,
      clock,
      log: () => undefined,
    });
    const { call, viewer } = inProcessApi(d, runner, { governor: () => governor.view() });
    const second = async (n = 1): Promise<void> => {
      for (let i = 0; i < n; i++) {
        clock.slept += 1000;
        await governor.tick();
      }
    };
    const step = (): number => governor.view()!.step;
    const capture = (): Delivered['sections'] => delivered.get('capture')!.at(-1)!.sections;
    const detector = (): Delivered['sections'] => delivered.get('detector')!.at(-1)!.sections;

    return { d, clock, runner, governor, call, viewer, second, step, capture, detector };
  }

  it('steps down while the detector is slow and back up after it recovers, never touching a protected section', async () => {
    const { d, clock, call, viewer, second, step, capture, detector } = await governed();
    await second(10);
    expect(step()).toBe(0);
    // slow: hot after 5 s above 100 ms, then one step down per 10 s
    latency = 180;
    await second(4);
    expect(step()).toBe(0);
    await second(2);
    expect(step()).toBe(1);
    // the step took effect within the tick: face recognition is off on the detector
    expect(detector().face_recognition?.enabled).toBe(false);
    expect(d.runtime.leases.map((l) => `${l.owner}:${l.path}=${String(l.value)}`)).toEqual([
      'governor:face_recognition.enabled=false',
    ]);
    await second(9);
    expect(step()).toBe(1);
    await second(1);
    expect(step()).toBe(2);
    expect(capture().frame_capture?.fps).toBe(10);
    await second(40);
    expect(step()).toBe(5);
    expect(capture().frame_capture?.fps).toBe(5);
    expect(
      (detector().detectors as Record<string, { frame_interval?: number; input_size?: number }>).person,
    ).toMatchObject({ frame_interval: 2, input_size: 256 });

    const view = (await call('GET', '/api/v1/tunables', undefined, viewer)).body as unknown as TunablesAnswer;
    expect(view.governor).toMatchObject({ enabled: true, step: 5 } satisfies Partial<GovernorView>);
    expect(view.governor!.signals[0]).toMatchObject({ name: 'inference_latency', value: 180, state: 'hot' });
    expect(view.tunables.find((t) => t.path === 'frame_capture.fps')).toMatchObject({ value: 5, winner: 'governor' });
    const metrics = (await call('GET', '/metrics', undefined, viewer)).text;
    expect(metrics).toContain('doorbell_agent_governor_step 5');
    expect(metrics).toContain('doorbell_agent_governor_signal{signal="inference_latency"} 180');
    expect(metrics).toContain('doorbell_agent_lease_active{owner="governor",path="frame_capture.fps"} 1');

    // the leases are renewed while the step holds: two minutes on, they are still in force
    await second(120);
    expect(step()).toBe(5);
    expect(capture().frame_capture?.fps).toBe(5);

    // recovered: normal after 30 s below 50 ms, then one step up per 60 s at most (each change's
    // bake runs on the same clock, so the spacing is read from the journal)
    latency = 20;
    const recovered = clock.now().getTime();
    await second(29);
    expect(step()).toBe(5);
    for (let i = 0; i < 1000 && step() > 0; i++) await second();
    expect(step()).toBe(0);
    expect(capture().frame_capture?.fps).toBe(15);
    expect(detector().face_recognition).toEqual(d.releases.config('a'.repeat(40)).face_recognition);
    expect(d.runtime.leases).toEqual([]);

    // protected sections were never written by a governor lease
    for (const name of ['capture', 'detector', 'notifier', 'recorder', 'web'])
      for (const p of delivered.get(name) ?? [])
        for (const s of ['notifications', 'web_interface', 'storage'])
          if (p.sections[s] !== undefined)
            expect(JSON.stringify(p.sections[s])).toBe(JSON.stringify(d.releases.config('a'.repeat(40))[s]));
    const moves = journalOf(d).filter((e) => e.event === 'governor-step');
    expect(moves.map((m) => `${m.from}->${m.to}`)).toEqual([
      '0->1',
      '1->2',
      '2->3',
      '3->4',
      '4->5',
      '5->4',
      '4->3',
      '3->2',
      '2->1',
      '1->0',
    ]);
    expect(moves[0]).toMatchObject({ signal: 'inference_latency', value: 180, step: 'face_recognition_off' });
    const at = moves.map((m) => Date.parse(String(m.time)));
    for (let i = 1; i < 5; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(at[5]! - recovered).toBeGreaterThanOrEqual(30_000);
    for (let i = 6; i < 10; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(60_000);
    expect(String(moves[0]!.reason)).toMatch(/180/);
    // renewals are not journaled: one lease-set per step down, one clear or set per step up
    expect(journalOf(d).filter((e) => e.event === 'lease-set' && e.owner === 'governor').length).toBeLessThanOrEqual(9);
  });

  it('a step down is kept while a component is still unhealthy after it: a less safe configuration could not help', async () => {
    const { d, second, step, capture } = await governed();
    latency = 180;
    sick = true;
    try {
      await second(16);
      expect(step()).toBe(2);
      // 10 fps is delivered and stays, although the capture still reports itself unhealthy
      expect(capture().frame_capture?.fps).toBe(10);
      expect(d.runtime.leases.map((l) => l.path)).toContain('frame_capture.fps');
      const kept = journalOf(d)
        .filter((e) => e.event === 'lease-set' && e.path === 'frame_capture.fps')
        .at(-1);
      expect(kept).toMatchObject({ owner: 'governor', health: expect.stringMatching(/still behind/) });
      expect(journalOf(d).some((e) => e.event === 'lease-rolled-back')).toBe(false);
    } finally {
      sick = false;
      latency = 20;
    }
  });
});
