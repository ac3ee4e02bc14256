// Property tests (fast-check) of the runtime layers: after any sequence of lease sets, clears, expiries,
// restarts and new commits (each commit narrowing the bounds its own way), every effective value stays
// within its signed bounds and on its grid; an expired or cleared lease gives back the layer below at
// once; replaying the events (after a journal round trip, or resumed half way) gives the same effective
// configuration; the governor never moves a safe-direction field the unsafe way.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { OWNERS } from '../../agent/core/tunables/annotation.js';
import type { Owner, TunableValue } from '../../agent/core/tunables/annotation.js';
import { admits, tunableTable } from '../../agent/core/tunables/spec.js';
import type { NarrowingLayer, RangeSpec, TunableSpec, TunableTable } from '../../agent/core/tunables/spec.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import { atLeastAsSafe, effectiveConfig, effectiveValue } from '../../agent/core/tunables/effective.js';
import { applyLeaseEvent, NO_LEASES, replayLeases } from '../../agent/core/tunables/events.js';
import type { LeaseEvent, LeaseState, ReplayContext } from '../../agent/core/tunables/events.js';
import { getAt } from '../../agent/core/json/value.js';
import type { JsonObject } from '../../agent/core/json/value.js';
import { exampleFiles } from '../helpers/project.js';

const schemas = loadSchemas(exampleFiles()).set!;
const PATHS = ['frame_capture.fps', 'motion.sensitivity', 'detectors.person.confidence_threshold', 'logging.level'];
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();

/** One commit: its narrowing of each path (k steps in from each end of the range, owners kept) and signed values. */
interface Commit {
  name: string;
  table: TunableTable;
  signed: JsonObject;
}

const base = tunableTable(schemas);
const gridSize = (s: RangeSpec): number => Math.round((s.maximum - s.minimum) / s.step);

const commitArb = (name: string): fc.Arbitrary<Commit> =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.subarray([...OWNERS], { minLength: 1 }), fc.nat()), {
        minLength: PATHS.length,
        maxLength: PATHS.length,
      }),
    )
    .map(([perPath]) => {
      const tunables: JsonObject = {};
      const values: Record<string, TunableValue> = {};
      PATHS.forEach((path, i) => {
        const [a, b, owners, pick] = perPath[i]!;
        const spec = base.at(path)!;
        const allowed = spec.owners.filter((o) => owners.includes(o));
        const n: JsonObject = allowed.length > 0 ? { owners: allowed } : {};
        if (spec.kind === 'range') {
          const size = gridSize(spec);
          const lo = a % (size + 1);
          const hi = lo + (b % (size - lo + 1));
          n.minimum = Number((spec.minimum + lo * spec.step).toFixed(10));
          n.maximum = Number((spec.minimum + hi * spec.step).toFixed(10));
          values[path] = Number((spec.minimum + (lo + (pick % (hi - lo + 1))) * spec.step).toFixed(10));
        } else {
          const kept = spec.enum.filter((_, j) => j === pick % spec.enum.length || ((a >> j) & 1) === 1);
          n.enum = kept;
          values[path] = kept[pick % kept.length]!;
        }
        tunables[path] = n;
      });
      const layer: NarrowingLayer = { file: `environments/test/overrides.yaml@${name}`, tunables };
      const signed: JsonObject = {
        frame_capture: { fps: values['frame_capture.fps']!, width: 1280 },
        motion: { sensitivity: values['motion.sensitivity']! },
        detectors: { person: { confidence_threshold: values['detectors.person.confidence_threshold']! } },
        logging: { level: values['logging.level']! },
      };
      return { name, table: tunableTable(schemas, [layer]), signed };
    });

/** A lease value: on or off the grid, in or out of bounds, or of the wrong type. */
const valueArb: fc.Arbitrary<TunableValue> = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.double({ min: -1, max: 40, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fast'),
);

type Step =
  | { kind: 'set'; path: number; owner: Owner; value: TunableValue; ttl: number }
  | { kind: 'clear'; path: number; owner: Owner }
  | { kind: 'wait'; ms: number }
  | { kind: 'expire' }
  | { kind: 'commit'; commit: number }
  | { kind: 'restart' };

const ownerArb = fc.constantFrom(...OWNERS);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      path: fc.nat(PATHS.length - 1),
      owner: ownerArb,
      value: valueArb,
      ttl: fc.integer({ min: 1, max: 2_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('clear' as const), path: fc.nat(PATHS.length - 1), owner: ownerArb }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 900_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const), commit: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

interface Scenario {
  commits: Commit[];
  events: LeaseEvent[];
  /** The time after the last event. */
  end: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .tuple(commitArb('c0'), commitArb('c1'), commitArb('c2'), fc.array(stepArb, { maxLength: 40 }))
  .map(([c0, c1, c2, steps]) => {
    let t = 0;
    let commit = 'c0';
    const events: LeaseEvent[] = [{ type: 'commit', at: iso(0), commit }];
    for (const s of steps) {
      if (s.kind === 'wait') t += s.ms;
      else if (s.kind === 'expire') events.push({ type: 'expire', at: iso(t) });
      else if (s.kind === 'restart') events.push({ type: 'restart', at: iso(t) });
      else if (s.kind === 'commit') events.push({ type: 'commit', at: iso(t), commit: (commit = `c${s.commit}`) });
      else if (s.kind === 'clear')
        events.push({ type: 'clear', at: iso(t), path: PATHS[s.path]!, owner: s.owner, actor: 'prop' });
      else
        events.push({
          type: 'set',
          at: iso(t),
          lease: {
            path: PATHS[s.path]!,
            owner: s.owner,
            actor: 'prop',
            reason: 'property',
            value: s.value,
            start: iso(t),
            expires: iso(t + s.ttl * 1000),
            commit,
          },
        });
    }
    return { commits: [c0, c1, c2], events, end: t };
  });

const contextOf = (commits: Commit[]): ReplayContext => ({
  specs: (name) => (path) => commits.find((c) => c.name === name)!.table.at(path),
});
const commitOf = (s: Scenario, state: LeaseState): Commit => s.commits.find((c) => c.name === state.commit)!;

/** Every state after each event, with the time of the event. */
function states(s: Scenario): Array<{ state: LeaseState; now: number }> {
  const ctx = contextOf(s.commits);
  let state = NO_LEASES;
  return s.events.map((e) => {
    state = applyLeaseEvent(state, e, ctx).state;
    return { state, now: Date.parse(e.at) - T0 };
  });
}

const effective = (s: Scenario, state: LeaseState, now: number): JsonObject =>
  effectiveConfig(commitOf(s, state).signed, commitOf(s, state).table, state.leases, iso(now)).config;

const specAt = (s: Scenario, state: LeaseState, path: string): TunableSpec => commitOf(s, state).table.at(path)!;

const RUNS = { numRuns: 300 };

describe('runtime layers, for any sequence of lease events', () => {
  it('every effective value stays within its signed bounds and on its grid', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 3_000_000 }), (s, later) => {
        for (const { state, now } of states(s))
          for (const t of [now, now + later]) {
            const config = effective(s, state, t);
            for (const path of PATHS) expect(admits(specAt(s, state, path), getAt(config, path.split('.')))).toBe(true);
          }
      }),
      RUNS,
    );
  });

  it('even over leases no check let through, the value is clamped and snapped', () => {
    fc.assert(
      fc.property(
        commitArb('c'),
        fc.array(fc.tuple(fc.nat(PATHS.length - 1), ownerArb, valueArb, fc.integer({ min: -10, max: 10 })), {
          maxLength: 12,
        }),
        (commit, raw) => {
          const leases: Lease[] = raw.map(([p, owner, value, offset]) => ({
            path: PATHS[p]!,
            owner,
            value,
            actor: 'raw',
            reason: 'unchecked',
            start: iso(Math.min(0, offset) * 1000),
            expires: iso(Math.max(1, offset) * 1000),
            commit: 'c',
          }));
          for (const path of PATHS) {
            const spec = commit.table.at(path)!;
            const r = effectiveValue(getAt(commit.signed, path.split('.')), spec, leases, iso(0));
            expect(admits(spec, r.value)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it('an expiring or cleared lease gives back the layer below at that instant', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.nat(PATHS.length - 1),
        ownerArb,
        valueArb,
        fc.integer({ min: 1, max: 2_000 }),
        (s, p, owner, value, ttl) => {
          const ctx = contextOf(s.commits);
          for (const { state, now } of states(s)) {
            const path = PATHS[p]!;
            if (state.leases.some((l) => l.path === path && l.owner === owner)) continue;
            const lease: Lease = {
              path,
              owner,
              value,
              actor: 'prop',
              reason: 'property',
              start: iso(now),
              expires: iso(now + ttl * 1000),
              commit: state.commit!,
            };
            const set = applyLeaseEvent(state, { type: 'set', at: iso(now), lease }, ctx);
            if (set.refused.length > 0) continue;
            const cleared = applyLeaseEvent(
              set.state,
              { type: 'clear', at: iso(now), path, owner, actor: 'prop' },
              ctx,
            ).state;
            expect(effective(s, cleared, now)).toEqual(effective(s, state, now));
            // at its expiry, with no expire event yet, the lease already counts for nothing
            expect(effective(s, set.state, now + ttl * 1000)).toEqual(effective(s, state, now + ttl * 1000));
            // and each lease in force: at its own expiry the configuration is the one without it
            const { signed, table } = commitOf(s, state);
            for (const l of state.leases)
              expect(effectiveConfig(signed, table, state.leases, l.expires).config).toEqual(
                effectiveConfig(
                  signed,
                  table,
                  state.leases.filter((x) => x !== l),
                  l.expires,
                ).config,
              );
          }
        },
      ),
      RUNS,
    );
  });

  it('replaying the events gives the same effective configuration: after a journal round trip, resumed half way, in any order of the set', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), (s, cut) => {
        const ctx = contextOf(s.commits);
        const live = states(s).at(-1)!.state;
        const journal = JSON.parse(JSON.stringify(s.events)) as LeaseEvent[];
        const replayed = replayLeases(journal, ctx).state;
        const at = cut % (journal.length + 1);
        const resumed = replayLeases(journal.slice(at), ctx, replayLeases(journal.slice(0, at), ctx).state).state;
        expect(replayed).toEqual(live);
        expect(resumed).toEqual(live);
        const reversed = { ...live, leases: [...live.leases].reverse() };
        for (const t of [s.end, s.end + 600_000]) expect(effective(s, reversed, t)).toEqual(effective(s, live, t));
      }),
      RUNS,
    );
  });

  it('the governor never moves a safe-direction field the unsafe way', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const { state, now } of states(s)) {
          const { signed, table } = commitOf(s, state);
          for (const path of PATHS) {
            const spec = table.at(path)!;
            if (!spec.safe_direction) continue;
            const signedValue = getAt(signed, path.split('.'));
            const all = effectiveValue(signedValue, spec, state.leases, iso(now));
            const noGovernor = state.leases.filter((l) => l.owner !== 'governor' || l.path !== path);
            const without = effectiveValue(signedValue, spec, noGovernor, iso(now));
            if (all.winner === 'operator') continue; // the operator, above it, may go either way
            expect(atLeastAsSafe(spec, all.value, without.value)).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });
});
