// Runtime leases on the daemon in process (fake clock, real files, real HTTP components): an
// operator's lease is checked, delivered to the components it changes and baked; refused with
// a code when it leaves the signed bounds, the policy or the budget; rolled back when it makes
// a component unhealthy; gone within a tick of its expiry; kept across a restart (operator) or
// dropped (governor); dropped by a commit whose bounds it no longer fits.

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseAnswer, TunablesAnswer } from '../../agent/core/contracts/api.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { Ticker } from '../../agent/daemon/ticker.js';
import { leasesOfJournal } from '../../agent/core/tunables/events.js';
import {
  devDaemons,
  fakeClock,
  httpComponentsRepository,
  inProcessApi,
  journalOf,
  runnerOf,
  testSource,
} from '../helpers/in-process.js';
import { edit, tempDir } from '../helpers/project.js';
import { which } from '../helpers/tools.js';

const promtool = which('promtool');

type Applied = { generation: number; sections: { frame_capture?: { fps?: number } } };

describe('runtime leases on the daemon', () => {
  // every component is this server: it vetoes 11 fps, fails to apply 7 fps and is unhealthy at 9 fps
  const applied = new Map<string, Applied[]>();
  const server = createServer((req, res) => {
    const [, , name, action] = (req.url ?? '').split('/');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const p = body ? (JSON.parse(body) as Applied) : undefined;
      const fps = p?.sections.frame_capture?.fps;
      if (action === 'validate')
        return fps === 11
          ? res.writeHead(422).end(JSON.stringify({ reason: 'the encoder cannot do 11 fps' }))
          : res.writeHead(200).end('{}');
      if (action === 'apply') {
        if (fps === 7) return res.writeHead(500).end('{}');
        applied.set(name!, [...(applied.get(name!) ?? []), p!]);
        return res.writeHead(200).end('{}');
      }
      const last = applied.get(name!)?.at(-1);
      return last?.sections.frame_capture?.fps === 9
        ? res.writeHead(500).end(JSON.stringify({ reason: 'frames pile up at 9 fps' }))
        : res.writeHead(200).end('{}');
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

  /** The example repository (development) with every component reloaded and judged by the test's server. */
  const repository = (): Map<string, string> => httpComponentsRepository(base, { bakeSeconds: 30 });

  const daemon = (clock: ReturnType<typeof fakeClock>, stateDir?: string): Daemon =>
    daemons.build({ clock, ...(stateDir ? { stateDir } : {}) });

  const journal = journalOf;

  const lastFps = (name = 'capture'): number | undefined => applied.get(name)?.at(-1)?.sections.frame_capture?.fps;

  /** A daemon that ran commit `id`, its API (an operator and a viewer token) and its ticker. */
  async function running(id: string, files = repository(), clock = fakeClock(), stateDir?: string) {
    const d = daemon(clock, stateDir);
    const source = testSource();
    source.offer({ id, files });
    const runner = runnerOf(d, source);
    await d.agent.recover(d.store);
    const first = await runner.trigger('test');
    const { call: request, viewer } = inProcessApi(d, runner, { rate: { perMinute: 1000, burst: 1000 } });
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const r = await request(method, path, body, token);
      return { status: r.status, body: r.body as Record<string, unknown> & Partial<LeaseAnswer> };
    };
    const ticker = new Ticker({ runtime: d.runtime, runner, log: () => undefined });
    return { d, source, runner, call, request, ticker, clock, first, viewer };
  }

  it('an operator lease: checked, delivered to the components it changes, shown by layer, and gone a tick after it expires', async () => {
    const { d, call, request, ticker, clock, first, viewer } = await running('a'.repeat(40));
    expect(first?.outcome, first?.reason).toBe('applied');
    const signed = lastFps();
    expect(signed).toBe(15);
    const detectorDeliveries = applied.get('detector')!.length;

    const set = await call('PUT', '/api/v1/tunables/frame_capture.fps', {
      value: 10,
      ttl: '10m',
      reason: 'night test',
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({
      outcome: 'applied',
      path: 'frame_capture.fps',
      owner: 'operator',
      value: 10,
      winner: 'operator',
    });
    expect(set.body.components).toContain('capture');
    expect(set.body.lease).toMatchObject({ actor: 'ops', reason: 'night test', value: 10, commit: 'a'.repeat(40) });
    expect(Date.parse(set.body.lease!.expires) - Date.parse(set.body.lease!.start)).toBe(600_000);
    expect(lastFps()).toBe(10);
    // only the components that consume frame_capture were reconfigured
    expect(applied.get('detector')!.length).toBe(detectorDeliveries);
    expect(journal(d).at(-1)).toMatchObject({
      event: 'lease-set',
      path: 'frame_capture.fps',
      actor: 'ops',
      owner: 'operator',
      value: 10,
    });

    // every layer, and which wins: through GET /api/v1/tunables (a viewer may read) and ?explain=1
    const view = (await call('GET', '/api/v1/tunables', undefined, viewer)).body as unknown as TunablesAnswer;
    const fps = view.tunables.find((t) => t.path === 'frame_capture.fps')!;
    expect(fps).toMatchObject({ signed: 15, value: 10, winner: 'operator' });
    expect(fps.layers.map((l) => `${l.layer}:${l.status}`)).toEqual([
      'signed:applied',
      'experiment:unset',
      'tuner:unset',
      'governor:unset',
      'operator:applied',
    ]);
    const explained = (await call('GET', '/api/v1/config?path=frame_capture.fps&explain=1', undefined, viewer)).body;
    expect(explained).toMatchObject({ value: 10, explain: [{ path: 'frame_capture.fps', winner: 'operator' }] });
    // the metrics say which lease is in force, and promtool finds nothing to lint
    const metrics = (await request('GET', '/metrics', undefined, viewer)).text;
    expect(metrics).toContain('doorbell_agent_lease_active{owner="operator",path="frame_capture.fps"} 1');
    expect(metrics).toContain('doorbell_agent_lease_events_total{event="lease-set",owner="operator"} 1');
    if (promtool) {
      const checked = spawnSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    }
    // a viewer may not set one
    const forbidden = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 12, reason: 'x' }, viewer);
    expect(forbidden.body.code).toBe('forbidden');

    // nothing happens before the expiry; a tick after it the signed value runs again
    clock.slept += Date.parse(set.body.lease!.expires) - clock.now().getTime() - 1_000;
    await ticker.tick();
    expect(lastFps()).toBe(10);
    clock.slept += 1_000;
    await ticker.tick();
    expect(lastFps()).toBe(signed);
    expect(d.runtime.leases).toEqual([]);
    expect(journal(d).at(-1)).toMatchObject({ event: 'lease-expired', path: 'frame_capture.fps', owner: 'operator' });
  });

  it('refused before anything is delivered: out of bounds, off the grid, not tunable, too long, bad input; each with its code and journaled', async () => {
    const { d, call } = await running('b'.repeat(40));
    const before = applied.get('capture')!.length;
    const cases: Array<[string, unknown, string, number]> = [
      ['frame_capture.fps', { value: 40, reason: 'r' }, 'lease-out-of-bounds', 422],
      ['frame_capture.fps', { value: 10.5, reason: 'r' }, 'lease-off-grid', 422],
      ['frame_capture.fps', { value: 'fast', reason: 'r' }, 'lease-wrong-type', 422],
      ['frame_capture.width', { value: 640, reason: 'r' }, 'not-tunable', 422],
      ['frame_capture.fps', { value: 10, reason: 'r', ttl: '2d' }, 'lease-ttl-too-long', 422],
      ['frame_capture.fps', { value: 10, reason: 'r', ttl: 'soon' }, 'bad-request', 400],
      ['frame_capture.fps', { value: 10 }, 'bad-request', 400],
      ['Frame..fps', { value: 10, reason: 'r' }, 'bad-path', 400],
      ['frame_capture.fps', { value: 11, reason: 'r' }, 'lease-vetoed', 409],
    ];
    for (const [path, body, code, status] of cases) {
      const r = await call('PUT', `/api/v1/tunables/${path}`, body);
      expect([r.status, r.body.code], `${path} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(r.body.hint).toBeTruthy();
    }
    expect(applied.get('capture')!.length).toBe(before);
    expect(d.runtime.leases).toEqual([]);
    const refused = journal(d).filter((e) => e.event === 'lease-refused');
    expect(refused.map((e) => e.code)).toEqual([
      'lease-out-of-bounds',
      'lease-off-grid',
      'lease-wrong-type',
      'not-tunable',
      'lease-ttl-too-long',
      'lease-vetoed',
    ]);
    // clearing a lease nobody holds
    expect((await call('DELETE', '/api/v1/tunables/frame_capture.fps')).body.code).toBe('lease-not-found');
  });

  it('a lease that fails to apply or makes a component unhealthy is rolled back: the configuration before it runs again', async () => {
    const { d, call } = await running('c'.repeat(40));
    const ok = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 12, reason: 'first' });
    expect(ok.body.outcome).toBe('applied');
    const sick = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 9, reason: 'too slow' });
    expect([sick.status, sick.body.code]).toEqual([409, 'lease-rolled-back']);
    expect(lastFps()).toBe(12);
    expect(d.runtime.leases.map((l) => l.value)).toEqual([12]);
    expect(journal(d).at(-1)).toMatchObject({ event: 'lease-rolled-back', code: 'unhealthy', value: 9, actor: 'ops' });
    const failed = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 7, reason: 'cannot apply' });
    expect(failed.body.code).toBe('lease-rolled-back');
    expect(journal(d).at(-1)).toMatchObject({ event: 'lease-rolled-back', code: 'reload-failed' });
    expect(lastFps()).toBe(12);
    // cleared: the signed value again
    const cleared = await call('DELETE', '/api/v1/tunables/frame_capture.fps');
    expect(cleared.body).toMatchObject({ outcome: 'applied', lease: null, value: 15, winner: 'signed' });
    expect(lastFps()).toBe(15);
  });

  it("the change budget: a field's sets and clears per hour are counted, the next is refused until one leaves the hour", async () => {
    const { call, clock } = await running('d'.repeat(40));
    // frame_capture.fps allows 12 changes an hour
    for (let i = 0; i < 12; i++) {
      const r = await call('PUT', '/api/v1/tunables/frame_capture.fps', {
        value: 10 + 2 * (i % 2),
        reason: `change ${i}`,
      });
      expect(r.body.outcome, JSON.stringify(r.body)).toBe('applied');
    }
    const over = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 13, reason: 'one more' });
    expect([over.status, over.body.code]).toEqual([429, 'lease-budget']);
    expect(String(over.body.hint)).toMatch(/try again after/);
    clock.slept += 3_600_000;
    const later = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 13, reason: 'an hour later' });
    expect(later.body.outcome).toBe('applied');
  });

  it('a restart keeps operator leases until they expire and drops the governor’s; a commit drops leases its bounds no longer allow', async () => {
    const clock = fakeClock();
    const stateDir = tempDir('leases-restart-');
    const { d, call } = await running('e'.repeat(40), repository(), clock, stateDir);
    expect(
      (await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 25, ttl: '1h', reason: 'keep' })).body.outcome,
    ).toBe('applied');
    await d.runtime.change(
      [
        {
          kind: 'set',
          path: 'motion.sensitivity',
          value: 0.4,
          owner: 'governor',
          actor: 'governor/test',
          reason: 'hot',
        },
      ],
      'test',
    );
    expect(d.runtime.leases.map((l) => l.owner).sort()).toEqual(['governor', 'operator']);

    const again = await running('e'.repeat(40), repository(), clock, stateDir);
    expect(again.d.runtime.leases.map((l) => `${l.owner}:${l.path}`)).toEqual(['operator:frame_capture.fps']);
    expect(journal(again.d).find((e) => e.event === 'lease-dropped')).toMatchObject({
      owner: 'governor',
      code: 'lease-dropped-on-restart',
    });
    // delivered again at the start with the operator's lease
    expect(lastFps()).toBe(25);

    // a commit that narrows fps to 1..20: the lease at 25 no longer fits and is dropped
    const narrowed = edit(
      repository(),
      'environments/development/overrides.yaml',
      'version: 2',
      'version: 2\ntunables:\n  frame_capture.fps:\n    maximum: 20',
    );
    again.source.offer({ id: 'f'.repeat(40), files: narrowed });
    const r = await again.runner.trigger('test');
    expect(r?.outcome, r?.reason).toBe('applied');
    expect(again.d.runtime.leases).toEqual([]);
    expect(lastFps()).toBe(15);
    expect(
      journal(again.d)
        .filter((e) => e.event === 'lease-dropped')
        .at(-1),
    ).toMatchObject({
      path: 'frame_capture.fps',
      code: 'lease-out-of-bounds',
    });
    expect(again.d.releases.manifest('f'.repeat(40)).leases).toEqual([]);
    // the journal is the audit trail of the leases: replayed, it gives what the agent holds
    await again.d.runtime.change(
      [{ kind: 'set', path: 'motion.sensitivity', value: 0.5, owner: 'operator', actor: 'ops', reason: 'r' }],
      'test',
    );
    expect(leasesOfJournal(journal(again.d))).toEqual(again.d.runtime.leases);
    expect(again.d.runtime.leases).toHaveLength(1);
  });

  it('a lease the hardware cannot run is refused by the same checks as a commit (raw YUYV at 720p tops out at 10 fps)', async () => {
    const yuyv = edit(repository(), 'config/frame_capture.yaml', 'pixel_format: MJPG', 'pixel_format: YUYV');
    const { d, call } = await running('3'.repeat(40), edit(yuyv, 'config/frame_capture.yaml', 'fps: 15', 'fps: 10'));
    const before = lastFps();
    expect(before).toBe(10);
    const r = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 15, reason: 'smoother' });
    expect([r.status, r.body.code]).toEqual([422, 'lease-invalid']);
    expect((r.body.diagnostics as Array<{ code: string; path: string }>)[0]).toMatchObject({
      path: 'frame_capture.fps',
    });
    expect(lastFps()).toBe(before);
    expect(journal(d).at(-1)).toMatchObject({ event: 'lease-refused', code: 'lease-invalid', value: 15 });
    expect((await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 5, reason: 'slower' })).body.outcome).toBe(
      'applied',
    );
  });

  it('an environment whose policy forbids operator leases refuses them; its maximum time to live holds', async () => {
    const files = repository();
    const env = 'environments/development/environment.yaml';
    const forbid = edit(files, env, 'policy:', 'policy:\n  operator_leases:\n    allowed: false');
    const { call } = await running('1'.repeat(40), forbid);
    const r = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 10, reason: 'r' });
    expect([r.status, r.body.code]).toEqual([403, 'lease-policy']);
    // a commit that changes only the policy is applied: the operator's lease ends with it, and the next is refused
    const open = await running('4'.repeat(40), files);
    expect(
      (await open.call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 10, reason: 'r' })).body.outcome,
    ).toBe('applied');
    open.source.offer({ id: '5'.repeat(40), files: forbid });
    expect(await open.runner.trigger('test')).toMatchObject({ outcome: 'applied', components: ['capture'] });
    expect(open.d.releases.current()).toBe('5'.repeat(40));
    expect(open.d.runtime.leases).toEqual([]);
    expect(lastFps()).toBe(15);
    expect(journal(open.d).find((e) => e.event === 'lease-dropped')).toMatchObject({ code: 'lease-owner-not-allowed' });
    expect((await open.call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 11, reason: 'r' })).body.code).toBe(
      'lease-policy',
    );
    const short = edit(files, env, 'policy:', 'policy:\n  operator_leases:\n    max_ttl_seconds: 600');
    const s = await running('2'.repeat(40), short);
    expect(
      (await s.call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 10, reason: 'r', ttl: '11m' })).body.code,
    ).toBe('lease-ttl-too-long');
    expect(
      (await s.call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 10, reason: 'r', ttl: '10m' })).body.outcome,
    ).toBe('applied');
  });
});
