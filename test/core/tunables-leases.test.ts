// Leases above the signed configuration: one lease checked against its spec and the environment's
// policy, the effective value with every layer explained (precedence, clamping, the grid, the safe
// direction, expiry), a new commit's re-validation, the restart rule, the change budget, and the
// reducer over journal-like lease events.

import { describe, expect, it } from 'vitest';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { tunableTable } from '../../agent/core/tunables/spec.js';
import type { TunableSpec } from '../../agent/core/tunables/spec.js';
import {
  afterRestart,
  checkAssignment,
  checkLease,
  isActive,
  newLease,
  revalidate,
  withinBudget,
} from '../../agent/core/tunables/lease.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import { atLeastAsSafe, effectiveConfig, effectiveValue, fitValue } from '../../agent/core/tunables/effective.js';
import { applyLeaseEvent, NO_LEASES, replayLeases } from '../../agent/core/tunables/events.js';
import type { LeaseEvent, ReplayContext } from '../../agent/core/tunables/events.js';
import { exampleFiles } from '../helpers/project.js';

const table = tunableTable(loadSchemas(exampleFiles()).set!);
const fps = table.at('frame_capture.fps')!;
const level = table.at('logging.level')!;
const confidence = table.at('detectors.person.confidence_threshold')!;
const retention = table.at('storage.retention_days')!;

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

const lease = (over: Partial<Lease> = {}): Lease => ({
  path: 'frame_capture.fps',
  owner: 'operator',
  actor: 'alice',
  reason: 'testing night mode',
  value: 10,
  start: iso(0),
  expires: iso(900),
  commit: 'c1',
  ...over,
});

describe('checkLease', () => {
  it('accepts a lease within bounds, on the grid, by an allowed owner, within the TTL', () => {
    expect(checkLease(lease(), fps)).toEqual([]);
    expect(checkLease(lease({ path: 'logging.level', value: 'debug' }), level)).toEqual([]);
    expect(checkLease(lease({ path: confidence.path, value: 0.65 }), confidence)).toEqual([]);
  });

  it.each<[string, Partial<Lease>, TunableSpec | undefined, string]>([
    ['a path that is not tunable', { path: 'frame_capture.width' }, undefined, 'not-tunable'],
    ['a value above the bounds', { value: 31 }, fps, 'lease-out-of-bounds'],
    ['a value off the grid', { value: 12.5 }, fps, 'lease-off-grid'],
    ['a value of the wrong type', { value: 'fast' }, fps, 'lease-wrong-type'],
    ['an enum value not allowed', { path: 'logging.level', value: 'trace' }, level, 'lease-out-of-bounds'],
    [
      'an owner the spec does not allow',
      { path: 'logging.level', value: 'info', owner: 'governor' },
      level,
      'lease-owner-not-allowed',
    ],
    ['a TTL above the maximum', { expires: iso(86_401) }, fps, 'lease-ttl-too-long'],
    ['an expiry before the start', { expires: iso(-1) }, fps, 'lease-bad-time'],
    ['a start that is no time', { start: 'yesterday' }, fps, 'lease-bad-time'],
  ])('refuses %s', (_what, over, spec, code) => {
    const found = checkLease(lease(over), spec);
    expect(found.map((f) => f.code)).toEqual([code]);
    expect(found[0]!.message).toBeTruthy();
    expect(found[0]!.hint).toBeTruthy();
  });

  it("applies the environment's policy on top: owners and the longest TTL", () => {
    expect(checkLease(lease(), fps, { owners: ['governor'] }).map((f) => f.code)).toEqual(['lease-owner-not-allowed']);
    expect(checkLease(lease({ expires: iso(3600) }), fps, { maxTtlSeconds: 1800 })).toMatchObject([
      {
        code: 'lease-ttl-too-long',
        message: 'the lease on frame_capture.fps lasts 3600 s; at most 1800 s are allowed',
      },
    ]);
  });

  it('a lease is active from its start until (not at) its expiry', () => {
    expect([
      isActive(lease(), iso(-1)),
      isActive(lease(), iso(0)),
      isActive(lease(), iso(899)),
      isActive(lease(), iso(900)),
    ]).toEqual([false, true, true, false]);
  });
});

describe('newLease and checkAssignment', () => {
  it("a new lease starts now and runs the given TTL, or the spec's default", () => {
    const ask = { owner: 'operator' as const, actor: 'alice', reason: 'testing night mode', value: 10, commit: 'c1' };
    expect(newLease(fps, ask, iso(0))).toEqual(lease());
    expect(newLease(fps, { ...ask, ttlSeconds: 60 }, T0).expires).toBe(iso(60));
  });

  it('a value a signed rule would write is checked for path, owner, bounds and grid, not for time', () => {
    const at = (p: string): TunableSpec | undefined => table.at(p);
    expect(checkAssignment('frame_capture.fps', 5, 'governor', at)).toEqual([]);
    expect(checkAssignment('frame_capture.fps', 0.5, 'governor', at).map((f) => f.code)).toEqual([
      'lease-out-of-bounds',
    ]);
    expect(checkAssignment('frame_capture.width', 640, 'governor', at).map((f) => f.code)).toEqual(['not-tunable']);
    expect(checkAssignment('logging.level', 'warn', 'governor', at).map((f) => f.code)).toEqual([
      'lease-owner-not-allowed',
    ]);
    expect(checkAssignment('motion.sensitivity', 0.33, 'experiment', at).map((f) => f.code)).toEqual([
      'lease-off-grid',
    ]);
  });
});

describe('effectiveValue', () => {
  const layersOf = (r: ReturnType<typeof effectiveValue>): Array<[string, string]> =>
    r.layers.map((l) => [l.layer, l.status]);

  it('without leases the signed value stands, every layer unset', () => {
    const r = effectiveValue(15, fps, [], iso(10));
    expect(r).toMatchObject({ path: 'frame_capture.fps', value: 15, winner: 'signed' });
    expect(layersOf(r)).toEqual([
      ['signed', 'applied'],
      ['experiment', 'unset'],
      ['tuner', 'unset'],
      ['governor', 'unset'],
      ['operator', 'unset'],
    ]);
  });

  it('the highest layer wins: operator over governor over tuner over experiment', () => {
    const leases = [
      lease({ owner: 'experiment', value: 12 }),
      lease({ owner: 'tuner', value: 11 }),
      lease({ owner: 'governor', value: 8 }),
      lease({ owner: 'operator', value: 20 }),
    ];
    expect(effectiveValue(15, fps, leases, iso(10))).toMatchObject({ value: 20, winner: 'operator' });
    expect(effectiveValue(15, fps, leases.slice(0, 3), iso(10))).toMatchObject({ value: 8, winner: 'governor' });
    expect(effectiveValue(15, fps, leases.slice(0, 2), iso(10))).toMatchObject({ value: 11, winner: 'tuner' });
    expect(effectiveValue(15, fps, leases.slice(0, 1), iso(10))).toMatchObject({ value: 12, winner: 'experiment' });
  });

  it('clamps to the bounds and snaps to the grid, and says so', () => {
    const r = effectiveValue(15, fps, [lease({ value: 45 })], iso(10));
    expect(r.value).toBe(30);
    expect(r.layers[4]).toMatchObject({
      layer: 'operator',
      status: 'applied',
      asked: 45,
      value: 30,
      adjusted: 'clamped',
    });
    expect(effectiveValue(15, fps, [lease({ value: 12.4 })], iso(10)).layers[4]).toMatchObject({
      value: 12,
      adjusted: 'snapped',
    });
    // a grid of 0.05 from 0.3, without binary noise
    expect(fitValue(confidence, 0.6712)).toEqual({ value: 0.65, adjusted: 'snapped' });
    expect(fitValue(confidence, 0.12)).toEqual({ value: 0.3, adjusted: 'clamped' });
    expect(fitValue(level, 'trace')).toBeUndefined();
    expect(fitValue(fps, 'ten')).toBeUndefined();
  });

  it('the governor only makes a safe-direction field more conservative than the layers below', () => {
    const up = effectiveValue(15, fps, [lease({ owner: 'governor', value: 25 })], iso(10));
    expect(up).toMatchObject({ value: 15, winner: 'signed' });
    expect(up.layers[3]).toMatchObject({ layer: 'governor', status: 'held', asked: 25, value: 25 });
    // below it, a tuner put the value at 8: the governor may not raise it to 12
    const tuned = effectiveValue(
      15,
      fps,
      [lease({ owner: 'tuner', value: 8 }), lease({ owner: 'governor', value: 12 })],
      iso(10),
    );
    expect(tuned).toMatchObject({ value: 8, winner: 'tuner' });
    expect(effectiveValue(15, fps, [lease({ owner: 'governor', value: 5 })], iso(10))).toMatchObject({
      value: 5,
      winner: 'governor',
    });
    // the operator above the governor may still raise it
    expect(
      effectiveValue(
        15,
        fps,
        [lease({ owner: 'governor', value: 5 }), lease({ owner: 'operator', value: 25 })],
        iso(10),
      ),
    ).toMatchObject({ value: 25, winner: 'operator' });
  });

  it('safe direction over an enum goes towards its first value (down) or last (up)', () => {
    const ladder: TunableSpec = { ...level, owners: ['governor', 'operator'], safe_direction: 'up' };
    expect(atLeastAsSafe(ladder, 'warn', 'info')).toBe(true);
    expect(atLeastAsSafe(ladder, 'debug', 'info')).toBe(false);
    expect(atLeastAsSafe({ ...ladder, safe_direction: 'down' }, 'debug', 'info')).toBe(true);
    const r = effectiveValue(
      'info',
      ladder,
      [lease({ path: 'logging.level', owner: 'governor', value: 'debug' })],
      iso(1),
    );
    expect(r).toMatchObject({ value: 'info', winner: 'signed' });
    expect(atLeastAsSafe(level, 'debug', 'warn')).toBe(true); // no safe direction: anything goes
  });

  it('an expired, not yet started or foreign-owner lease counts for nothing', () => {
    const r = effectiveValue(
      15,
      fps,
      [lease({ value: 10, expires: iso(5) }), lease({ owner: 'tuner', start: iso(60), expires: iso(120) })],
      iso(10),
    );
    expect(r).toMatchObject({ value: 15, winner: 'signed' });
    expect(layersOf(r)).toContainEqual(['operator', 'expired']);
    expect(layersOf(r)).toContainEqual(['tuner', 'not-started']);
    const foreign = effectiveValue(
      7,
      retention,
      [lease({ path: retention.path, owner: 'governor', value: 3 })],
      iso(1),
    );
    expect(foreign).toMatchObject({ value: 7, winner: 'signed' });
    expect(foreign.layers[3]).toMatchObject({ status: 'owner-not-allowed' });
    // the expiry restores the layer below at the instant it passes
    const both = [lease({ owner: 'governor', value: 8, expires: iso(600) }), lease({ value: 20, expires: iso(300) })];
    expect([299, 300, 599, 600].map((s) => effectiveValue(15, fps, both, iso(s)).value)).toEqual([20, 8, 8, 15]);
  });

  it('of two leases of one owner, the active one started last counts', () => {
    const r = effectiveValue(
      15,
      fps,
      [lease({ value: 10 }), lease({ value: 12, start: iso(5) }), lease({ value: 14, start: iso(8), expires: iso(9) })],
      iso(10),
    );
    expect(r).toMatchObject({ value: 12, winner: 'operator' });
    expect(r.layers[4]!.lease).toMatchObject({ value: 12 });
  });
});

describe('effectiveConfig', () => {
  const signed = {
    frame_capture: { fps: 15, width: 1280 },
    logging: { level: 'info' },
    detectors: { person: { confidence_threshold: 0.6 } },
  };

  it('puts every winning lease in place and leaves the signed configuration alone', () => {
    const leases = [
      lease({ owner: 'governor', value: 8 }),
      lease({ path: 'logging.level', value: 'debug' }),
      lease({ path: 'detectors.person.confidence_threshold', owner: 'experiment', value: 0.7 }),
      lease({ path: 'detectors.nosuch.confidence_threshold', value: 0.7 }),
      lease({ path: 'frame_capture.width', value: 640 }),
    ];
    const r = effectiveConfig(signed, table, leases, iso(10));
    expect(r.config).toEqual({
      frame_capture: { fps: 8, width: 1280 },
      logging: { level: 'debug' },
      detectors: { person: { confidence_threshold: 0.7 } },
    });
    expect(signed.frame_capture.fps).toBe(15);
    expect(r.values.map((v) => [v.path, v.winner])).toEqual([
      ['detectors.person.confidence_threshold', 'experiment'],
      ['frame_capture.fps', 'governor'],
      ['logging.level', 'operator'],
    ]);
    expect(r.unplaced.map((l) => l.path)).toEqual(['detectors.nosuch.confidence_threshold', 'frame_capture.width']);
  });
});

describe('revalidate, afterRestart, withinBudget', () => {
  it('a new commit keeps the leases that still fit and drops the others with why', () => {
    const narrowed = tunableTable(loadSchemas(exampleFiles()).set!, [
      {
        file: 'environments/production/overrides.yaml',
        tunables: { 'frame_capture.fps': { maximum: 12, owners: ['operator'] } },
      },
    ]);
    const leases = [
      lease({ value: 10 }),
      lease({ value: 14, actor: 'bob' }),
      lease({ owner: 'governor', value: 5 }),
      lease({ path: 'logging.level', value: 'warn' }),
    ];
    const { kept, dropped } = revalidate(leases, (p) => narrowed.at(p));
    expect(kept.map((l) => [l.path, l.value])).toEqual([
      ['frame_capture.fps', 10],
      ['logging.level', 'warn'],
    ]);
    expect(dropped.map((d) => [d.lease.value, d.why.map((w) => w.code)])).toEqual([
      [14, ['lease-out-of-bounds']],
      [5, ['lease-owner-not-allowed']],
    ]);
  });

  it('a restart keeps operator leases until they expire and drops the others', () => {
    const leases = [
      lease({ owner: 'operator', value: 10 }),
      lease({ owner: 'operator', path: 'logging.level', value: 'debug', expires: iso(60) }),
      lease({ owner: 'governor', value: 5 }),
      lease({ owner: 'tuner', value: 12 }),
      lease({ owner: 'experiment', value: 14 }),
    ];
    const { kept, dropped } = afterRestart(leases, iso(120));
    expect(kept.map((l) => [l.owner, l.path])).toEqual([['operator', 'frame_capture.fps']]);
    expect(dropped.map((d) => [d.lease.owner, d.why[0]!.code])).toEqual([
      ['operator', 'lease-expired'],
      ['governor', 'lease-dropped-on-restart'],
      ['tuner', 'lease-dropped-on-restart'],
      ['experiment', 'lease-dropped-on-restart'],
    ]);
  });

  it('the change budget counts the changes of the path in the last hour', () => {
    // a budget of six changes an hour (the example's fps allows twelve)
    const fps6 = { ...fps, max_changes_per_hour: 6 };
    const history = [0, 600, 1200, 1800, 2400, 3000].map((s) => ({ path: 'frame_capture.fps', at: iso(s) }));
    history.push({ path: 'logging.level', at: iso(100) });
    expect(withinBudget(history.slice(0, 5), fps6, iso(3100))).toEqual({ allowed: true, used: 5, limit: 6 });
    expect(withinBudget(history, fps6, iso(3100))).toEqual({ allowed: false, used: 6, limit: 6, retryAt: iso(3600) });
    // an hour after the first change, it has left the window
    expect(withinBudget(history, fps6, iso(3600))).toMatchObject({ allowed: true, used: 5 });
    expect(withinBudget([], { ...fps, max_changes_per_hour: 0 }, iso(0))).toEqual({
      allowed: false,
      used: 0,
      limit: 0,
    });
  });
});

describe('lease events', () => {
  const ctx: ReplayContext = {
    specs: (commit) =>
      commit === 'c2'
        ? (p) =>
            tunableTable(loadSchemas(exampleFiles()).set!, [
              { file: 'x', tunables: { 'frame_capture.fps': { maximum: 10 } } },
            ]).at(p)
        : (p) => table.at(p),
  };

  it('set, replace, clear, expire, commit and restart', () => {
    const events: LeaseEvent[] = [
      { type: 'commit', at: iso(0), commit: 'c1' },
      { type: 'set', at: iso(1), lease: lease({ value: 20, start: iso(1) }) },
      { type: 'set', at: iso(2), lease: lease({ value: 25, start: iso(2), actor: 'bob' }) },
      { type: 'set', at: iso(3), lease: lease({ owner: 'governor', value: 8, start: iso(3) }) },
      {
        type: 'set',
        at: iso(4),
        lease: lease({ path: 'logging.level', value: 'debug', start: iso(4), expires: iso(60) }),
      },
      { type: 'set', at: iso(5), lease: lease({ value: 99, start: iso(5) }) },
    ];
    const r = replayLeases(events, ctx);
    expect(r.state.commit).toBe('c1');
    expect(r.state.leases.map((l) => [l.path, l.owner, l.value])).toEqual([
      ['frame_capture.fps', 'governor', 8],
      ['frame_capture.fps', 'operator', 25],
      ['logging.level', 'operator', 'debug'],
    ]);
    expect(r.refused.map((x) => x.why.map((w) => w.code))).toEqual([['lease-out-of-bounds']]);
    // every accepted set is a change of its path, the refused one is not
    expect(r.changes).toEqual([
      { path: 'frame_capture.fps', at: iso(1) },
      { path: 'frame_capture.fps', at: iso(2) },
      { path: 'frame_capture.fps', at: iso(3) },
      { path: 'logging.level', at: iso(4) },
    ]);
    // renewing a lease with the same value spends nothing; clearing one does
    const renewed = replayLeases(
      [
        { type: 'set', at: iso(10), lease: lease({ owner: 'governor', value: 8, start: iso(10), expires: iso(600) }) },
        { type: 'clear', at: iso(11), path: 'logging.level', owner: 'operator', actor: 'alice' },
        { type: 'clear', at: iso(12), path: 'logging.level', owner: 'operator', actor: 'alice' },
      ],
      ctx,
      r.state,
    );
    expect(renewed.changes).toEqual([{ path: 'logging.level', at: iso(11) }]);

    const expired = applyLeaseEvent(r.state, { type: 'expire', at: iso(60) }, ctx);
    expect(expired.dropped.map((d) => d.lease.path)).toEqual(['logging.level']);
    const committed = applyLeaseEvent(expired.state, { type: 'commit', at: iso(70), commit: 'c2' }, ctx);
    expect(committed.state.commit).toBe('c2');
    expect(committed.dropped.map((d) => [d.lease.owner, d.why[0]!.code])).toEqual([
      ['operator', 'lease-out-of-bounds'],
    ]);
    const restarted = applyLeaseEvent(committed.state, { type: 'restart', at: iso(80) }, ctx);
    expect(restarted.state.leases).toEqual([]);
    expect(restarted.dropped.map((d) => d.lease.owner)).toEqual(['governor']);
    const cleared = applyLeaseEvent(
      r.state,
      { type: 'clear', at: iso(9), path: 'frame_capture.fps', owner: 'operator', actor: 'alice' },
      ctx,
    );
    expect(cleared.state.leases.map((l) => l.owner)).toEqual(['governor', 'operator']);
    expect(cleared.dropped).toMatchObject([
      { lease: { actor: 'bob' }, why: [{ code: 'lease-cleared', message: 'cleared by alice' }] },
    ]);
    expect(applyLeaseEvent(NO_LEASES, { type: 'expire', at: iso(0) }, ctx)).toEqual({
      state: NO_LEASES,
      dropped: [],
      refused: [],
    });
  });
});
